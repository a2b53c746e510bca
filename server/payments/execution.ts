import { eq, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { checkouts, paymentAttempts } from "@/db/schema";
import { decryptField } from "@/server/crypto/field";
import { AppError } from "@/server/errors";
import { money, type CurrencyCode } from "@/server/money";
import type { PspConnector, PspName } from "@/server/psp";
import { PspError } from "@/server/psp/errors";
import type { PaymentResult } from "@/server/psp/types";

// The PSP-facing pieces of executing a payment attempt, each meant to run inside one durable step:
// they return JSON-safe values (step results are stored), never secrets (the phone is decrypted inside
// the step and never returned), and they turn a definitive PSP refusal into an outcome while letting
// transient failures (timeout, 5xx, 429) throw so the step is retried with backoff.

export type ConnectorFor = (db: Db, psp: PspName) => PspConnector;

/** PaymentResult with the amount as a string, so it survives JSON (step memoization). */
export interface StoredResult {
  psp: PspName;
  pspReference: string;
  status: PaymentResult["status"];
  amountMinor?: string;
  currency?: string;
  receipt?: string;
  failure?: PaymentResult["failure"];
  /** When we asked the PSP (database clock), so a later confirm by the buyer can make this answer stale. */
  fetchedAt?: string;
}

export function toStored(r: PaymentResult): StoredResult {
  return {
    psp: r.psp,
    pspReference: r.pspReference,
    status: r.status,
    amountMinor: r.amount?.amount.toString(),
    currency: r.amount?.currency,
    receipt: r.receipt,
    failure: r.failure,
  };
}
export function fromStored(s: StoredResult): PaymentResult {
  return {
    psp: s.psp,
    pspReference: s.pspReference,
    status: s.status,
    amount: s.amountMinor && s.currency ? money(BigInt(s.amountMinor), s.currency) : undefined,
    receipt: s.receipt,
    failure: s.failure,
  };
}

export function isFinal(s: StoredResult): boolean {
  return s.status === "succeeded" || s.status === "failed" || s.status === "canceled" || (s.status === "requires_payment_method" && !!s.failure);
}

export interface AttemptPlan {
  attemptId: string;
  method: "card" | "mpesa";
  psp: PspName;
  pspReference: string | null;
  status: string;
}

export async function loadAttemptPlan(db: Db, attemptId: string): Promise<AttemptPlan> {
  const [a] = await db.select().from(paymentAttempts).where(eq(paymentAttempts.id, attemptId));
  if (!a) throw new AppError("not_found", `Payment attempt ${attemptId} not found`);
  return { attemptId: a.id, method: a.method, psp: a.psp as PspName, pspReference: a.pspReference, status: a.status };
}

function definitive(err: unknown, psp: PspName, ref: string): StoredResult {
  if (err instanceof PspError && !err.retryable) {
    return { psp, pspReference: ref, status: "failed", failure: { code: err.pspCode ?? "invalid_request", message: err.message } };
  }
  throw err;
}

/** Sends the STK push (idempotent on the attempt's key) and records the CheckoutRequestID. */
export async function sendStkPush(db: Db, connectorFor: ConnectorFor, attemptId: string): Promise<StoredResult> {
  const [a] = await db.select().from(paymentAttempts).where(eq(paymentAttempts.id, attemptId));
  const [c] = await db.select().from(checkouts).where(eq(checkouts.id, a!.checkoutId));
  try {
    const r = await connectorFor(db, "mpesa").createPayment({
      amount: money(c!.totalAmount, c!.currency as CurrencyCode),
      idempotencyKey: a!.idempotencyKey,
      reference: c!.id,
      description: "Checkout",
      paymentMethod: { type: "mpesa_phone", phone: decryptField(a!.phoneEncrypted!) },
    });
    await db.update(paymentAttempts).set({ pspReference: r.pspReference, status: "pending" }).where(eq(paymentAttempts.id, attemptId));
    return toStored(r);
  } catch (err) {
    return definitive(err, "mpesa", `unsent:${attemptId}`);
  }
}

/** Asks the PSP for the payment's current state: the only source of truth for the outcome. */
export async function fetchPaymentStatus(db: Db, connectorFor: ConnectorFor, psp: PspName, pspReference: string): Promise<StoredResult> {
  const [{ now }] = (await db.execute(sql`select now() as now`)) as unknown as [{ now: Date | string }];
  const fetchedAt = new Date(now).toISOString();
  try {
    return { ...toStored(await connectorFor(db, psp).getPaymentStatus({ pspReference })), fetchedAt };
  } catch (err) {
    return { ...definitive(err, psp, pspReference), fetchedAt };
  }
}

export async function cancelAtPsp(db: Db, connectorFor: ConnectorFor, attemptId: string): Promise<StoredResult | null> {
  const [a] = await db.select().from(paymentAttempts).where(eq(paymentAttempts.id, attemptId));
  if (!a?.pspReference || a.method !== "card") return null;
  return toStored(await connectorFor(db, "stripe").cancelPayment({ pspReference: a.pspReference, idempotencyKey: `${a.idempotencyKey}:cancel` }));
}
