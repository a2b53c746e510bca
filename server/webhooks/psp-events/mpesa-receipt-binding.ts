// An M-Pesa receipt names one payment. Daraja's transaction-status answer confirms a receipt's amount, shortcode
// and status, but not which STK push it paid (it carries no CheckoutRequestID), so a callback for one push could
// borrow another push's genuine receipt. The receipt is bound to its CheckoutRequestID by two more checks:
// (1) it is nobody else's: no other payment attempt holds it and no other confirmed STK callback carries it
// (first confirmed wins; the check runs under a per-receipt lock, so two verifications cannot both pass);
// (2) the status answer's DebitPartyName is the phone the push went to.
import { and, eq, isNull, ne, or, sql } from "drizzle-orm";
import type { DbOrTx, Tx } from "@/db/client";
import { paymentAttempts, pspEvents } from "@/db/schema";
import { decryptField } from "@/server/crypto/field";
import { normalizeMpesaPhone } from "@/server/payments/mpesa-phone";
import { parseResult, partyPhone } from "@/server/psp/daraja/transform";
import type { PspEventRow } from "../psp-event-types";

/** Namespace of the transaction-scoped advisory locks taken on an M-Pesa receipt while it is bound. */
const RECEIPT_LOCK_NAMESPACE = 727_701;

export async function lockReceipt(tx: Tx, receipt: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${RECEIPT_LOCK_NAMESPACE}, hashtext(${receipt}))`);
}

/** Where else this receipt is already taken (another attempt, another confirmed STK callback), or null. */
export async function receiptHeldElsewhere(db: DbOrTx, receipt: string, checkoutRequestId: string): Promise<Record<string, string> | null> {
  const [attempt] = await db
    .select({ id: paymentAttempts.id, pspReference: paymentAttempts.pspReference })
    .from(paymentAttempts)
    .where(and(eq(paymentAttempts.psp, "mpesa"), eq(paymentAttempts.receipt, receipt), or(isNull(paymentAttempts.pspReference), ne(paymentAttempts.pspReference, checkoutRequestId))))
    .limit(1);
  if (attempt) return { heldByAttemptId: attempt.id, heldByCheckoutRequestId: attempt.pspReference ?? "" };
  const [callback] = await db
    .select({ id: pspEvents.id, objectId: pspEvents.objectId })
    .from(pspEvents)
    .where(and(eq(pspEvents.psp, "mpesa"), eq(pspEvents.eventType, "stk.callback"), eq(pspEvents.status, "processed"), sql`${pspEvents.verdict}->>'receipt' = ${receipt}`, ne(pspEvents.objectId, checkoutRequestId)))
    .limit(1);
  return callback ? { heldByStkEventId: callback.id, heldByCheckoutRequestId: callback.objectId ?? "" } : null;
}

/** The phone the push went to: the attempt's (encrypted at rest) when there is one, else the push record's masked form. */
export async function pushedPhone(db: DbOrTx, checkoutRequestId: string, maskedFromPush: string | undefined): Promise<string | undefined> {
  const [attempt] = await db
    .select({ phoneEncrypted: paymentAttempts.phoneEncrypted })
    .from(paymentAttempts)
    .where(and(eq(paymentAttempts.psp, "mpesa"), eq(paymentAttempts.pspReference, checkoutRequestId)))
    .limit(1);
  if (attempt?.phoneEncrypted) return normalizeMpesaPhone(decryptField(attempt.phoneEncrypted)) ?? undefined;
  return maskedFromPush;
}

/** DebitPartyName from the status result as Daraja sent it (the stored payload has it masked; raw_body is encrypted). */
export function debitPartyOf(event: PspEventRow): unknown {
  if (event.rawBody.startsWith("v1.")) {
    try {
      return parseResult(JSON.parse(decryptField(event.rawBody)))?.params.DebitPartyName;
    } catch {
      // An unreadable raw body: fall back to the masked copy below.
    }
  }
  return parseResult(event.payload)?.params.DebitPartyName;
}

/** At least the country code and the last 3 digits (what a masked phone keeps) must be compared. */
export const PHONE_DIGITS_COMPARED_MIN = 6;

/**
 * The debit party is the pushed phone. Either side may be masked (`254******678`): a masked digit is not
 * compared, every digit shown on both sides must agree (at least PHONE_DIGITS_COMPARED_MIN), and the lengths
 * must be equal.
 */
export function samePhone(expected: string | undefined, debitParty: unknown): boolean {
  const debit = partyPhone(debitParty);
  if (!expected || !debit) return false;
  const a = expected.includes("*") ? expected : (normalizeMpesaPhone(expected) ?? expected);
  const b = debit.includes("*") ? debit : (normalizeMpesaPhone(debit) ?? debit);
  if (a.length !== b.length) return false;
  let compared = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === "*" || b[i] === "*") continue;
    if (a[i] !== b[i]) return false;
    compared += 1;
  }
  return compared >= PHONE_DIGITS_COMPARED_MIN;
}
