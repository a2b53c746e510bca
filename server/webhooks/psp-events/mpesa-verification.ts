// What the two stages of an STK callback's verification share: the id prefix of the transaction-status request
// that finishes it, our own record of the push, and the typed verdicts the stages store on the STK event.
import { and, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx } from "@/db/client";
import { pspEvents } from "@/db/schema";
import { findStkPushSummaries } from "@/server/psp";

/** OriginatorConversationID prefix of the transaction-status request verifying STK event `id`: `verify_{id}`. */
export const VERIFY_PREFIX = "verify_";

export interface StkExpectation {
  amountMinor: bigint;
  currency: string;
  shortcode: string;
  /** The phone we pushed to, masked as in the push record (254******678). */
  phone?: string;
}

const pushSummary = z.object({ amount_minor: z.string().min(1), currency: z.string().optional(), shortcode: z.string().min(1), phone: z.unknown().optional() });

/** What we asked Daraja for, from our own record of the STK push. */
export async function findStkExpectation(db: DbOrTx, checkoutRequestId: string): Promise<StkExpectation | undefined> {
  const [summary] = await findStkPushSummaries(db, checkoutRequestId, 1);
  const r = pushSummary.safeParse(summary);
  if (!r.success) return undefined;
  return { amountMinor: BigInt(r.data.amount_minor), currency: r.data.currency ?? "KES", shortcode: r.data.shortcode, phone: typeof r.data.phone === "string" ? r.data.phone : undefined };
}

/** The STK event's verdict while it waits for Daraja's transaction status (stage one passed). */
export const awaitingReceiptVerdict = z.object({
  stage: z.literal("awaiting_receipt_confirmation"),
  receipt: z.string().min(1),
  amountMinor: z.string().optional(),
  shortcode: z.string().optional(),
});
export type AwaitingReceiptVerdict = z.infer<typeof awaitingReceiptVerdict>;

/** A processed STK event's verdict: the outcome Daraja confirmed (with the receipt when it succeeded). */
export const stkOutcomeVerdict = z.object({ outcome: z.string(), checkoutRequestId: z.string().min(1), receipt: z.string().optional() });

/** A processed transaction-status result's verdict: which STK event it concluded, and whether it confirmed it. */
export const statusResultVerdict = z.object({ stkEventId: z.string().min(1), confirmed: z.boolean() });

/** Rejection reasons of an STK callback that put the payment itself in doubt (not merely a malformed or unknown callback). */
export const PAYMENT_DOUBT_REASONS = ["amount_mismatch", "bad_receipt", "receipt_not_confirmed", "receipt_reused", "result_code_mismatch"] as const;
export type PaymentDoubtReason = (typeof PAYMENT_DOUBT_REASONS)[number];

/** The first STK callback for this CheckoutRequestID that verification rejected for doubt about the payment, or null. */
export async function findDoubtfulStkRejection(db: DbOrTx, checkoutRequestId: string): Promise<{ pspEventId: string; reason: PaymentDoubtReason } | null> {
  const reason = sql<string>`${pspEvents.verdict}->>'reason'`;
  const [rejected] = await db
    .select({ id: pspEvents.id, reason })
    .from(pspEvents)
    .where(and(eq(pspEvents.psp, "mpesa"), eq(pspEvents.eventType, "stk.callback"), eq(pspEvents.objectId, checkoutRequestId), eq(pspEvents.status, "rejected"), inArray(reason, [...PAYMENT_DOUBT_REASONS])))
    .orderBy(pspEvents.receivedAt, pspEvents.id)
    .limit(1);
  return rejected ? { pspEventId: rejected.id, reason: rejected.reason as PaymentDoubtReason } : null;
}
