import { randomUUID } from "node:crypto";
import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { checkouts, paymentAttempts, pspAttempts } from "@/db/schema";
import { decryptField } from "@/server/crypto/field";
import { AppError } from "@/server/errors";
import { addLogContext, log } from "@/server/observability/log";
import { money, type CurrencyCode } from "@/server/money";
import type { ConnectorFor, PspName } from "@/server/psp";
import { PspError } from "@/server/psp/errors";
import type { PaymentResult } from "@/server/psp/types";
import { applyAttemptOutcome, type ApplyResult } from "./apply-outcome";
import { transitionAttempt } from "./attempt-state";

// The PSP-facing pieces of executing a payment attempt, each meant to run inside one durable step:
// they return JSON-safe values (step results are stored), never secrets (the phone is decrypted inside
// the step and never returned), and they turn a definitive PSP refusal into an outcome while letting
// transient failures (timeout, 5xx, 429) throw so the step is retried with backoff.

export type { ConnectorFor };

/** PaymentResult with the amount as a string, so it survives JSON (step memoization). */
export interface StoredResult {
  psp: PspName;
  pspReference: string;
  status: PaymentResult["status"];
  amountMinor?: string;
  currency?: string;
  receipt?: string;
  card?: PaymentResult["card"];
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
    card: r.card,
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
    card: s.card,
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
  addLogContext({ attemptId, checkoutId: a.checkoutId });
  return { attemptId: a.id, method: a.method, psp: a.psp as PspName, pspReference: a.pspReference, status: a.status };
}

function definitive(err: unknown, psp: PspName, ref: string): StoredResult {
  if (err instanceof PspError && !err.retryable) {
    // The PSP's own wording goes to the logs and psp_attempts, not to the buyer.
    return { psp, pspReference: ref, status: "failed", failure: { code: err.pspCode ?? "invalid_request", message: "The payment provider refused the request." } };
  }
  throw err;
}

/**
 * Daraja has no idempotency key: a push whose answer we never got (our timeout, a dropped connection) may
 * have reached the buyer's phone. Pushing again could charge twice, so such an attempt is never re-sent:
 * the run stops for ops (dead letter) with the facts to reconcile. Pushes Daraja refused are safe to retry.
 */
async function assertNoUncertainPush(db: Db, idempotencyKey: string): Promise<void> {
  const [uncertain] = await db
    .select({ id: pspAttempts.id, outcome: pspAttempts.outcome })
    .from(pspAttempts)
    .where(and(eq(pspAttempts.psp, "mpesa"), eq(pspAttempts.operation, "stk_push"), eq(pspAttempts.idempotencyKey, idempotencyKey), inArray(pspAttempts.outcome, ["timeout", "network_error"])))
    .limit(1);
  if (uncertain) {
    throw new AppError("psp_outcome_unknown", `STK push ${idempotencyKey} got no answer (${uncertain.outcome}, psp_attempt ${uncertain.id}); it may be on the buyer's phone, so it is not re-sent: reconcile with the M-Pesa statement`);
  }
}

/**
 * Claims the attempt for its one STK push: created -> pending with no reference yet, in one conditional
 * update. A second caller (a retried or replayed step, two runs at once) finds it claimed and never pushes:
 * with a reference, the push went out and only the PSP's answer is missing; without one, a push may be on
 * the buyer's phone with its answer lost, so it stops for ops instead of pushing again.
 */
async function claimStkPush(db: Db, attemptId: string): Promise<{ claimed: typeof paymentAttempts.$inferSelect } | StoredResult> {
  const claimed = await db.transaction(async (tx) => {
    const [m] = await tx.select({ method: paymentAttempts.method }).from(paymentAttempts).where(eq(paymentAttempts.id, attemptId));
    if (m?.method !== "mpesa") return undefined;
    const r = await transitionAttempt(tx, { attemptId, to: "pending", reason: "stk_claimed", onlyFrom: ["created"], pspReference: null });
    return r.changed ? r.attempt : undefined;
  });
  if (claimed) return { claimed };
  const [a] = await db.select().from(paymentAttempts).where(eq(paymentAttempts.id, attemptId));
  if (!a || a.method !== "mpesa") throw new AppError("attempt_not_executable", `Attempt ${attemptId} is not an M-Pesa attempt`);
  if (a.pspReference) return { psp: "mpesa", pspReference: a.pspReference, status: "pending" };
  if (a.status !== "pending") return { psp: "mpesa", pspReference: `unsent:${attemptId}`, status: "canceled" };
  throw new AppError("psp_outcome_unknown", `STK push of attempt ${attemptId} was started but its answer was never recorded; it may be on the buyer's phone, so it is not re-sent: reconcile with the M-Pesa statement`);
}

/**
 * The push went out: keep its CheckoutRequestID on the attempt. The attempt stays pending; if it was closed
 * meanwhile (another attempt paid the checkout) it stays closed, but it still learns the reference, so its
 * execution follows the push (a payment of it is then a recorded double charge, never lost).
 */
async function recordStkReference(db: Db, attemptId: string, pspReference: string): Promise<void> {
  await db.transaction(async (tx) => {
    const r = await transitionAttempt(tx, { attemptId, to: "pending", reason: "stk_sent", onlyFrom: ["pending"], set: { pspReference } });
    if (!r.updated) await tx.update(paymentAttempts).set({ pspReference }).where(and(eq(paymentAttempts.id, attemptId), isNull(paymentAttempts.pspReference)));
  });
}

/** Sends the STK push (at most once per attempt; idempotent on the attempt's key) and records the CheckoutRequestID. */
export async function sendStkPush(db: Db, connectorFor: ConnectorFor, attemptId: string): Promise<StoredResult> {
  const claim = await claimStkPush(db, attemptId);
  if (!("claimed" in claim)) return claim;
  const a = claim.claimed;
  addLogContext({ attemptId, checkoutId: a.checkoutId });
  const [c] = await db.select().from(checkouts).where(eq(checkouts.id, a.checkoutId));
  const release = () => db.transaction((tx) => transitionAttempt(tx, { attemptId, to: "created", reason: "stk_released", onlyFrom: ["pending"], pspReference: null }));
  await assertNoUncertainPush(db, a.idempotencyKey);
  try {
    const r = await connectorFor(db, "mpesa").createPayment({
      amount: money(c!.totalAmount, c!.currency as CurrencyCode),
      idempotencyKey: a.idempotencyKey,
      reference: c!.id,
      description: "Checkout",
      paymentMethod: { type: "mpesa_phone", phone: decryptField(a.phoneEncrypted!) },
    });
    await recordStkReference(db, attemptId, r.pspReference);
    return toStored(r);
  } catch (err) {
    const unanswered = err instanceof PspError && (err.kind === "timeout" || err.kind === "network");
    if (unanswered) await assertNoUncertainPush(db, a.idempotencyKey);
    // Daraja answered with a refusal (5xx, 429: it never reached a phone): a retry of the step may claim and
    // push again. An unanswered push keeps its claim, so no retry can push a second prompt.
    else if (!(err instanceof PspError) || err.retryable) await release();
    return definitive(err, "mpesa", `unsent:${attemptId}`);
  }
}

/**
 * Asks the PSP for the payment's current state: the only source of truth for the outcome. Any error here
 * is a failure to ask, never a payment failure: it throws, the step retries, and after its retries the run
 * lands in the dead letters with the reference.
 */
export async function fetchPaymentStatus(db: Db, connectorFor: ConnectorFor, psp: PspName, pspReference: string): Promise<StoredResult> {
  const [{ now }] = (await db.execute(sql`select now() as now`)) as unknown as [{ now: Date | string }];
  const fetchedAt = new Date(now).toISOString();
  return { ...toStored(await connectorFor(db, psp).getPaymentStatus({ pspReference })), fetchedAt };
}

/**
 * Cancels a superseded card attempt's PaymentIntent. The PSP refuses to cancel one that already succeeded
 * (or is processing): then its real state is returned, so a success is applied (and flagged as a double
 * charge) and a processing one is checked again later.
 */
export async function cancelAtPsp(db: Db, connectorFor: ConnectorFor, attemptId: string): Promise<StoredResult | null> {
  const [a] = await db.select().from(paymentAttempts).where(eq(paymentAttempts.id, attemptId));
  if (!a?.pspReference || a.method !== "card") return null;
  addLogContext({ attemptId, checkoutId: a.checkoutId });
  const stripe = connectorFor(db, "stripe");
  try {
    // A fresh key per call (canceling twice is harmless): a refusal stored at the PSP under a fixed key would
    // be replayed on every retry, even once the PaymentIntent has become cancelable again.
    return toStored(await stripe.cancelPayment({ pspReference: a.pspReference, idempotencyKey: `${a.idempotencyKey}:cancel:${randomUUID()}` }));
  } catch (err) {
    if (!(err instanceof PspError) || err.retryable) throw err;
    const current = toStored(await stripe.getPaymentStatus({ pspReference: a.pspReference }));
    if (current.status === "pending") throw new Error(`PaymentIntent ${a.pspReference} is processing; cannot cancel yet`);
    return current;
  }
}

// --- Read and apply in one step -------------------------------------------------------------------------
// A step's memoized result is data the engine hands back to the app on every later call. It is signed in
// transit (inngest/client.ts), but money is not moved on the strength of it: an outcome is applied only
// inside the same step that read it from the PSP (or from a verified, stored PSP event). A forged or stale
// memo can then at worst make the function skip a check or ask the PSP again, never credit a seller.

export interface Settlement {
  pspReference: string;
  status: StoredResult["status"];
  /** What applying did; null when the PSP's answer was not final yet. */
  outcome: ApplyResult | null;
}

async function applyIfFinal(db: Db, attemptId: string, s: StoredResult): Promise<Settlement> {
  if (!isFinal(s)) return { pspReference: s.pspReference, status: s.status, outcome: null };
  const observedAt = s.fetchedAt ? new Date(s.fetchedAt) : undefined;
  const outcome = await applyAttemptOutcome(db, attemptId, fromStored(s), observedAt);
  log.info({ attemptId, pspReference: s.pspReference, pspStatus: s.status, outcome }, "payment attempt outcome applied");
  return { pspReference: s.pspReference, status: s.status, outcome };
}

/** Asks the PSP about the attempt's own payment (reference read from our database, not from a memo) and applies a final answer. */
export async function settleAttempt(db: Db, connectorFor: ConnectorFor, attemptId: string): Promise<Settlement> {
  const [a] = await db.select({ psp: paymentAttempts.psp, pspReference: paymentAttempts.pspReference, checkoutId: paymentAttempts.checkoutId }).from(paymentAttempts).where(eq(paymentAttempts.id, attemptId));
  if (!a) throw new AppError("not_found", `Payment attempt ${attemptId} not found`);
  addLogContext({ attemptId, checkoutId: a.checkoutId });
  if (!a.pspReference) throw new AppError("attempt_not_executable", `Attempt ${attemptId} has no PSP reference to check`);
  return applyIfFinal(db, attemptId, await fetchPaymentStatus(db, connectorFor, a.psp as PspName, a.pspReference));
}

/** Sends the STK push; Daraja's synchronous refusal is final and applied here, from that very answer. */
export async function pushAndSettle(db: Db, connectorFor: ConnectorFor, attemptId: string): Promise<Settlement> {
  return applyIfFinal(db, attemptId, await sendStkPush(db, connectorFor, attemptId));
}

/** Cancels a superseded card attempt at the PSP; if the buyer paid it after all, that PSP answer is applied (a double charge for ops). */
export async function cancelAndSettle(db: Db, connectorFor: ConnectorFor, attemptId: string): Promise<Settlement | null> {
  const result = await cancelAtPsp(db, connectorFor, attemptId);
  if (!result) return null;
  if (result.status !== "succeeded") return { pspReference: result.pspReference, status: result.status, outcome: null };
  const outcome = await applyAttemptOutcome(db, attemptId, fromStored(result));
  log.info({ attemptId, pspReference: result.pspReference, pspStatus: result.status, outcome }, "payment attempt outcome applied");
  return { pspReference: result.pspReference, status: result.status, outcome };
}
