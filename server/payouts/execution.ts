// The PSP-facing steps of a payout, each run inside one durable step (inngest/functions/payouts.ts). They read
// everything from our database and the PSP (never from a step's memo), apply the PSP's answer in the step that read
// it, and let transient PSP failures throw so the step is retried — after looking the payout up again.
// The one rule: never two PSP payouts for one payout.
//  - Stripe (transfer to the seller's connected account, then a payout on it): before any create, the PSP is asked
//    whether it exists — transfers by transfer_group = pspKey, payouts on the connected account by
//    metadata.payout_key = pspKey. Idempotency keys alone are not enough: Stripe may prune them after 24 h, and a
//    create under a pruned key makes a second object.
//  - Daraja (one B2C BusinessPayment, OriginatorConversationID = pspKey): a B2C that may have left (any answered,
//    timed-out, reset or 5xx call in psp_attempts) is never sent again until Transaction Status says Daraja has no
//    such payment (the payout then went unknown -> pending after that call).
// Failpoints (crash tests): before each create, after the PSP answered and before we recorded, after the commit.
import { and, asc, desc, eq, gte, inArray, lt, or, sql, type SQL } from "drizzle-orm";
import type { Db, DbOrTx } from "@/db/client";
import { payouts, payoutTransitions, pspAttempts } from "@/db/schema";
import { AppError } from "@/server/errors";
import { recordException } from "@/server/exceptions/record-exception";
import { money } from "@/server/money";
import { failpoint } from "@/server/observability/failpoints";
import { env } from "@/server/env.js";
import { addLogContext, log } from "@/server/observability/log";
import { enqueueEvent } from "@/server/outbox";
import { payoutExecute } from "@/server/events/catalog";
import type { ConnectorFor } from "@/server/psp";
import { PspError } from "@/server/psp/errors";
import type { MpesaB2cOps, PspPayoutRecord, PspTransferRecord, StripeConnectOps } from "@/server/psp/types";
import { applyPayoutOutcome } from "./apply-outcome";
import { loadPayoutDestination } from "./destinations";
import type { Payout, PayoutStatus } from "./state-machine";
import type { PayoutDestination, PayoutOutcome } from "./types";

/** JSON-safe step result. `done`: paid, failed or canceled (paid may still fail later: sync-payout follows it). */
export interface PayoutStepResult {
  payoutId: string;
  status: PayoutStatus;
  done: boolean;
}

const DONE: readonly PayoutStatus[] = ["paid", "failed", "canceled"];
/** How far back a connected account's payouts are listed, before the payout's creation (clock skew, slow builds). */
export const PAYOUT_LOOKUP_SLACK_MS = 24 * 3600 * 1000;
/** Janitor: a pending payout with no progress for this long is looked up (its execution may be gone). */
export const STALE_PENDING_MS = 5 * 60 * 1000;
/** Janitor: an in-transit payout not checked for this long is asked about. */
export const STALE_IN_TRANSIT_MS = 10 * 60 * 1000;

export const transferKey = (p: Pick<Payout, "pspKey">) => `${p.pspKey}:transfer`;
export const connectedPayoutKey = (p: Pick<Payout, "pspKey">) => `${p.pspKey}:payout`;
export const reversalKey = (p: Pick<Payout, "pspKey">) => `${p.pspKey}:reversal`;
const pspMetadata = (p: Payout) => ({ payout_id: p.id, payout_key: p.pspKey });

function stepResult(p: Payout): PayoutStepResult {
  return { payoutId: p.id, status: p.status, done: DONE.includes(p.status) };
}

/** We asked the PSP about this payout (the janitor's staleness clock). */
async function markChecked(db: DbOrTx, payoutId: string, at = new Date()): Promise<void> {
  await db.update(payouts).set({ lastCheckedAt: at }).where(eq(payouts.id, payoutId));
}

/**
 * Not (fully) at the PSP: back to pending (if unknown) and a fresh payout/execute, in one transaction; the execution
 * sends what is missing, looking up first.
 */
async function reexecute(db: Db, p: Payout, reason: string, at: Date): Promise<void> {
  await db.transaction(async (tx) => {
    const { payout } = p.status === "unknown" ? await applyPayoutOutcome(tx, p.id, { status: "pending" }, reason) : { payout: p };
    await markChecked(tx, p.id, at);
    await enqueueEvent(tx, { event: payoutExecute, id: `payout-execute:${p.id}:janitor:${payout.version}:${at.getTime()}`, data: { payoutId: p.id } });
  });
}

/** The payout's destination, which must be on the rail the payout is sent by. */
async function destinationOf<P extends PayoutDestination["psp"]>(db: Db, p: Payout, psp: P): Promise<Extract<PayoutDestination, { psp: P }>> {
  const dest = await loadPayoutDestination(db, p.destinationId);
  if (dest.psp !== psp) throw new AppError("internal", `Payout ${p.id} is a ${psp} payout to a ${dest.psp} destination`);
  return dest as Extract<PayoutDestination, { psp: P }>;
}

async function loadPayout(db: Db, payoutId: string): Promise<Payout> {
  const [p] = await db.select().from(payouts).where(eq(payouts.id, payoutId));
  if (!p) throw new AppError("not_found", `Payout ${payoutId} not found`);
  addLogContext({ payoutId, sellerId: p.sellerId });
  return p;
}

async function apply(db: Db, payoutId: string, outcome: PayoutOutcome, reason: string): Promise<Payout> {
  const { payout } = await db.transaction((tx) => applyPayoutOutcome(tx, payoutId, outcome, reason));
  return payout;
}

/** The PSP answered nothing we can trust (timeout, reset, 5xx): whatever we sent may have been done. */
const outcomeUnknown = (err: unknown) => err instanceof PspError && (err.kind === "timeout" || err.kind === "network" || err.kind === "unavailable");
/** A definitive refusal: the PSP did not do it, and asking again gives the same answer. */
const refused = (err: unknown): err is PspError => err instanceof PspError && !err.retryable;

/** A create's outcome is unknown: pending -> unknown in its own transaction (the janitor asks the PSP), then rethrow. */
async function markUnknown(db: Db, payoutId: string, err: unknown, what: string): Promise<never> {
  log.warn({ payoutId, what, err: err instanceof Error ? err.message : String(err) }, "payout PSP call outcome unknown");
  await db.transaction(async (tx) => {
    const [p] = await tx.select({ status: payouts.status }).from(payouts).where(eq(payouts.id, payoutId));
    if (p?.status === "pending") await applyPayoutOutcome(tx, payoutId, { status: "unknown" }, `${what}_outcome_unknown`);
  });
  throw err;
}

/** Two PSP objects for one payout: never a third. Ops settle it; the run fails without retrying. */
async function duplicateAtPsp(db: Db, p: Payout, what: string, ids: string[]): Promise<never> {
  const message = `Payout ${p.id} has ${ids.length} ${what}s at ${p.psp} (${ids.join(", ")}): nothing more is sent; reconcile it.`;
  await db.transaction((tx) => recordException(tx, { kind: "payout", subjectType: "payout", subjectId: p.id, reason: "double_charge", message, merchantId: p.merchantId, retryEvent: null }));
  throw new AppError("double_charge", message);
}

function connectOf(connectorFor: ConnectorFor, db: Db): StripeConnectOps {
  const c = connectorFor(db, "stripe").connect;
  if (!c) throw new AppError("internal", "The Stripe connector has no Connect operations");
  return c;
}

function b2cOf(connectorFor: ConnectorFor, db: Db): MpesaB2cOps {
  const c = connectorFor(db, "mpesa").b2c;
  if (!c) throw new AppError("internal", "The Daraja connector has no B2C operations");
  return c;
}

const SENDABLE: readonly PayoutStatus[] = ["pending", "unknown"];

/** Sends the payout to its PSP, once: looks it up first, creates only what the PSP does not have, applies the answer. */
export async function sendPayout(db: Db, connectorFor: ConnectorFor, payoutId: string): Promise<PayoutStepResult> {
  const p = await loadPayout(db, payoutId);
  if (!SENDABLE.includes(p.status)) return stepResult(p);
  return p.psp === "stripe" ? sendStripe(db, connectorFor, p) : sendMpesa(db, connectorFor, p);
}

// ---------------------------------------------------------------------------------------------------------------
// Stripe

/** The one transfer of this payout at Stripe, if any (more than one: an ops exception, never another). */
async function findTransfer(db: Db, connect: StripeConnectOps, p: Payout): Promise<PspTransferRecord | undefined> {
  const found = await connect.findTransfers({ transferGroup: p.pspKey });
  if (found.length > 1) await duplicateAtPsp(db, p, "transfer", found.map((t) => t.id));
  const t = found[0];
  if (t && t.amount.amount !== p.amount) throw new AppError("psp_amount_mismatch", `Transfer ${t.id} of payout ${p.id} is ${t.amount.amount}, not ${p.amount}`);
  return t;
}

async function findConnectedPayout(db: Db, connect: StripeConnectOps, p: Payout, account: string): Promise<PspPayoutRecord | undefined> {
  const found = await connect.findPayouts({ account, payoutKey: p.pspKey, createdAfter: new Date(p.createdAt.getTime() - PAYOUT_LOOKUP_SLACK_MS) });
  if (found.length > 1) await duplicateAtPsp(db, p, "payout", found.map((x) => x.id));
  return found[0];
}

/** Brings what is left of the transfer back to the platform (a failed or canceled connected payout). */
async function reverseTransfer(db: Db, connect: StripeConnectOps, p: Payout): Promise<string | undefined> {
  if (p.pspTransferReversalId) return p.pspTransferReversalId;
  const transfer = await findTransfer(db, connect, p);
  if (!transfer) return undefined;
  // Reversed already (a retried step after its key was pruned must not reverse twice: there is nothing left).
  if ((transfer.amountReversed ?? 0n) >= transfer.amount.amount) return undefined;
  const r = await connect.reverseTransfer({ transferId: transfer.id, idempotencyKey: reversalKey(p), metadata: pspMetadata(p) });
  await db.update(payouts).set({ pspTransferReversalId: r.id }).where(and(eq(payouts.id, p.id), sql`${payouts.pspTransferReversalId} is null`));
  return r.id;
}

/** A Stripe payout record as our outcome; a failed or canceled one has its transfer reversed first. */
async function applyStripePayout(db: Db, connect: StripeConnectOps, p: Payout, po: PspPayoutRecord, reason: string): Promise<Payout> {
  if (po.amount.amount !== p.amount) throw new AppError("psp_amount_mismatch", `Stripe payout ${po.id} of payout ${p.id} is ${po.amount.amount}, not ${p.amount}`);
  const ids = { pspPayoutId: po.id, ...(p.pspTransferId ? { pspTransferId: p.pspTransferId } : {}), arrivalDate: po.arrivalDate };
  switch (po.status) {
    case "pending":
    case "in_transit":
      return apply(db, p.id, { status: "in_transit", ...ids }, reason);
    case "paid":
      return apply(db, p.id, { status: "paid", ...ids, pspReceipt: po.balanceTransaction }, reason);
    case "failed":
    case "canceled": {
      if (p.status === "failed" || p.status === "canceled") return p;
      // The money is back on the connected account: bring it back to the platform, then give it back to the seller.
      const reversalId = await reverseTransfer(db, connect, p);
      const status = po.status === "failed" || p.status === "paid" ? "failed" : "canceled";
      return apply(db, p.id, { status, ...ids, ...(reversalId ? { pspTransferReversalId: reversalId } : {}), failureCode: po.failureCode ?? (po.status === "canceled" ? "canceled" : undefined), failureMessage: po.failureMessage }, reason);
    }
  }
}

async function sendStripe(db: Db, connectorFor: ConnectorFor, p: Payout): Promise<PayoutStepResult> {
  const dest = await destinationOf(db, p, "stripe");
  const connect = connectOf(connectorFor, db);
  const amount = money(p.amount, p.currency);

  // 1. The transfer to the connected account: look up, then create only if Stripe has none.
  let transferId = p.pspTransferId;
  if (!transferId) {
    const found = await findTransfer(db, connect, p);
    if (found) transferId = found.id;
    else {
      failpoint("payout.before_psp_call");
      let created: PspTransferRecord;
      try {
        created = await connect.createTransfer({ amount, destination: dest.stripeAccountId, transferGroup: p.pspKey, idempotencyKey: transferKey(p), metadata: pspMetadata(p) });
      } catch (err) {
        if (outcomeUnknown(err)) return markUnknown(db, p.id, err, "transfer");
        if (refused(err)) {
          // Nothing left the platform: the payout failed, the seller's available balance comes back.
          log.warn({ payoutId: p.id, pspCode: err.pspCode, message: err.message }, "Stripe refused the payout's transfer");
          return stepResult(await apply(db, p.id, { status: "failed", failureCode: err.pspCode ?? "transfer_refused", failureMessage: "The payment provider refused the transfer to the seller's account." }, "transfer_refused"));
        }
        throw err;
      }
      failpoint("payout.after_psp_call");
      transferId = created.id;
    }
    await db.update(payouts).set({ pspTransferId: transferId }).where(and(eq(payouts.id, p.id), sql`${payouts.pspTransferId} is null`));
    p = { ...p, pspTransferId: transferId };
  }

  // 2. The payout on the connected account: look up, then create only if there is none.
  let po = await findConnectedPayout(db, connect, p, dest.stripeAccountId);
  if (!po) {
    failpoint("payout.before_psp_call");
    try {
      po = await connect.createPayout({ account: dest.stripeAccountId, amount, idempotencyKey: connectedPayoutKey(p), metadata: pspMetadata(p), method: p.method, ...(p.description ? { description: p.description } : {}) });
    } catch (err) {
      if (outcomeUnknown(err)) return markUnknown(db, p.id, err, "payout");
      if (refused(err)) {
        // The money is on the connected account but no payout was made: bring it back, then fail the payout.
        log.warn({ payoutId: p.id, pspCode: err.pspCode, message: err.message }, "Stripe refused the connected account's payout");
        const reversalId = await reverseTransfer(db, connect, p);
        return stepResult(
          await apply(db, p.id, { status: "failed", pspTransferId: transferId, ...(reversalId ? { pspTransferReversalId: reversalId } : {}), failureCode: err.pspCode ?? "payout_refused", failureMessage: "The payment provider refused the payout to the seller's bank account." }, "payout_refused"),
        );
      }
      throw err;
    }
    failpoint("payout.after_psp_call");
  }
  const after = await applyStripePayout(db, connect, p, po, "psp_answered");
  failpoint("payout.after_record");
  return stepResult(after);
}

// ---------------------------------------------------------------------------------------------------------------
// M-Pesa

/** Reason of the durable claim written (pending -> unknown) just before a B2C leaves: a crash mid-call leaves no psp_attempts row. */
const B2C_SENDING = "b2c_sending";

/**
 * The latest moment a B2C for this payout may have left for Daraja, if ever: a recorded call (answered, timed out,
 * reset, 5xx) or the claim written before a call (the call is recorded only after it returns, so a process killed
 * mid-call leaves only the claim).
 */
export async function lastB2cThatMayHaveLeft(db: DbOrTx, p: Pick<Payout, "id" | "pspKey">): Promise<Date | undefined> {
  const [claim] = await db
    .select({ at: payoutTransitions.at })
    .from(payoutTransitions)
    .where(and(eq(payoutTransitions.payoutId, p.id), eq(payoutTransitions.reason, B2C_SENDING)))
    .orderBy(desc(payoutTransitions.at))
    .limit(1);
  const call = await lastB2cCall(db, p);
  if (!claim) return call;
  // A claim with no call recorded after it: the process died mid-call, and that request may still reach Daraja
  // until the call's timeout (plus the in-call reconnect tries) has passed.
  if (!call || call < claim.at) return new Date(claim.at.getTime() + B2C_IN_FLIGHT_MAX_MS);
  return call;
}

/** How long a B2C request may still be on its way after it was sent: the PSP call timeout and the reconnect tries. */
const B2C_IN_FLIGHT_MAX_MS = env.PSP_TIMEOUT_MS + 5_000;

async function lastB2cCall(db: DbOrTx, p: Pick<Payout, "pspKey">): Promise<Date | undefined> {
  const [row] = await db
    .select({ at: pspAttempts.createdAt })
    .from(pspAttempts)
    .where(
      and(
        eq(pspAttempts.psp, "mpesa"),
        eq(pspAttempts.operation, "b2c.payment_request"),
        eq(pspAttempts.idempotencyKey, p.pspKey),
        or(inArray(pspAttempts.outcome, ["ok", "timeout", "network_error"]), and(eq(pspAttempts.outcome, "psp_error"), gte(pspAttempts.responseStatus, 500))),
      ),
    )
    .orderBy(desc(pspAttempts.createdAt))
    .limit(1);
  return row?.at;
}

/** When Transaction Status last said Daraja has no such payment (unknown -> pending), if ever. */
async function lastCleared(db: Db, payoutId: string): Promise<Date | undefined> {
  const [row] = await db
    .select({ at: payoutTransitions.at })
    .from(payoutTransitions)
    .where(and(eq(payoutTransitions.payoutId, payoutId), eq(payoutTransitions.fromStatus, "unknown"), eq(payoutTransitions.toStatus, "pending")))
    .orderBy(desc(payoutTransitions.at))
    .limit(1);
  return row?.at;
}

/** Asks Daraja's Transaction Status about the B2C (its answer comes by callback: wakePayout applies it). */
async function requestB2cStatus(db: Db, connectorFor: ConnectorFor, p: Payout, tag: string): Promise<void> {
  await b2cOf(connectorFor, db).requestStatus({ originatorConversationId: p.pspKey, idempotencyKey: `${p.pspKey}:status:${tag}` });
  await markChecked(db, p.id);
}

/**
 * May this payout's B2C be sent (now, under its one OriginatorConversationID)? Only if none was accepted and no call
 * may have left — or Transaction Status said, after the last such call, that Daraja has no such payment.
 */
async function mpesaMaySend(db: Db, p: Payout): Promise<boolean> {
  if (!SENDABLE.includes(p.status)) return false;
  const left = await lastB2cThatMayHaveLeft(db, p);
  if (!left) return !p.pspPayoutId;
  if (p.status !== "pending") return false;
  const cleared = await lastCleared(db, p.id);
  return cleared !== undefined && cleared > left;
}

/** A B2C that may have left: the payout is unknown (if it was pending) and Daraja is asked about it. */
async function askAboutB2c(db: Db, connectorFor: ConnectorFor, p: Payout, tag: string): Promise<Payout> {
  if (p.status === "pending" && !p.pspPayoutId) await db.transaction((tx) => applyPayoutOutcome(tx, p.id, { status: "unknown" }, "b2c_may_have_left"));
  await requestB2cStatus(db, connectorFor, p, tag);
  return loadPayout(db, p.id);
}

async function sendMpesa(db: Db, connectorFor: ConnectorFor, p: Payout): Promise<PayoutStepResult> {
  if (!(await mpesaMaySend(db, p))) {
    // It may have been paid: never sent again. Ask Daraja instead; the answer moves the payout.
    log.warn({ payoutId: p.id }, "B2C may have left already: not sent again; asking Transaction Status");
    return stepResult(await askAboutB2c(db, connectorFor, p, `s${Date.now().toString(36)}`));
  }
  const dest = await destinationOf(db, p, "mpesa");
  // Claim first, durably: from here on a crash may leave a B2C at Daraja that we never heard back about, and then
  // only Transaction Status ("no such payment") lets it be sent again (mpesaMaySend).
  // A compare-and-set: only the caller that moved it pending -> unknown sends.
  const { payout: claimed, changed } = await db.transaction((tx) => applyPayoutOutcome(tx, p.id, { status: "unknown" }, B2C_SENDING));
  if (!changed || claimed.status !== "unknown") return stepResult(claimed);
  failpoint("payout.before_psp_call");
  let accepted: { conversationId: string };
  try {
    accepted = await b2cOf(connectorFor, db).sendPayment({ amount: money(p.amount, p.currency), phone: dest.phone, originatorConversationId: p.pspKey, reference: p.id });
  } catch (err) {
    if (outcomeUnknown(err)) return markUnknown(db, p.id, err, "b2c");
    if (refused(err)) {
      log.warn({ payoutId: p.id, pspCode: err.pspCode, message: err.message }, "Daraja refused the B2C payment");
      return stepResult(await apply(db, p.id, { status: "failed", failureCode: err.pspCode ?? "b2c_refused", failureMessage: "M-Pesa refused the payment to the seller's phone." }, "b2c_refused"));
    }
    throw err;
  }
  failpoint("payout.after_psp_call");
  // Accepted only: the outcome comes by the Result callback (or Transaction Status).
  const after = await apply(db, p.id, { status: "in_transit", pspPayoutId: accepted.conversationId }, "b2c_accepted");
  failpoint("payout.after_record");
  return stepResult(after);
}

// ---------------------------------------------------------------------------------------------------------------
// Following a payout

/**
 * Asks the PSP where the payout is and applies it. Stripe: the connected payout (getPayout; a failed or canceled one
 * has its transfer reversed, then is applied); not yet created: sendPayout (which looks up first). Daraja: still open
 * after the wait (no Result, or a wake without an outcome), Transaction Status; a payout cleared back to pending is
 * sent again under the same OriginatorConversationID.
 */
export async function checkPayout(db: Db, connectorFor: ConnectorFor, payoutId: string, opts: { timedOut: boolean; checkNo: number }): Promise<PayoutStepResult> {
  const p = await loadPayout(db, payoutId);
  if (DONE.includes(p.status) || p.status === "pending_approval") return stepResult(p);
  if (p.psp === "mpesa") {
    if (await mpesaMaySend(db, p)) return sendMpesa(db, connectorFor, p);
    // No Result during the wait, or a wake without an outcome (a QueueTimeout, a status "Pending"): ask Daraja.
    return stepResult(await askAboutB2c(db, connectorFor, p, `c${opts.checkNo}${opts.timedOut ? "t" : "w"}`));
  }
  if (!p.pspPayoutId) return sendStripe(db, connectorFor, p);
  return stepResult(await syncStripe(db, connectorFor, p, "psp_checked"));
}

async function syncStripe(db: Db, connectorFor: ConnectorFor, p: Payout, reason: string): Promise<Payout> {
  const dest = await loadPayoutDestination(db, p.destinationId);
  if (dest.psp !== "stripe" || !p.pspPayoutId) return p;
  const connect = connectOf(connectorFor, db);
  const po = await connect.getPayout({ account: dest.stripeAccountId, payoutId: p.pspPayoutId });
  if (po.id !== p.pspPayoutId) throw new AppError("psp_reference_mismatch", `Stripe answered payout ${po.id} for ${p.pspPayoutId}`);
  const after = await applyStripePayout(db, connect, p, po, reason);
  await markChecked(db, p.id);
  return after;
}

/**
 * payout/psp.updated (sync-payout): applies what the PSP says now, without ever sending. Stripe: getPayout (also after
 * paid: a bank may return it days later); a payout whose connected payout we have not recorded yet is left to its
 * execution. Daraja: its outcome was applied with the callback (wakePayout); nothing to fetch.
 */
export async function syncPayout(db: Db, connectorFor: ConnectorFor, payoutId: string): Promise<PayoutStepResult> {
  const p = await loadPayout(db, payoutId);
  if (p.psp !== "stripe" || !p.pspPayoutId || p.status === "failed" || p.status === "canceled") return stepResult(p);
  return stepResult(await syncStripe(db, connectorFor, p, "psp_synced"));
}

/**
 * Looks a Stripe payout up without creating anything (the janitor): found -> applied; nothing at Stripe -> pending and
 * payout/execute re-enqueued (its execution sends it, looking up first again).
 */
async function reconcileStripe(db: Db, connectorFor: ConnectorFor, p: Payout): Promise<"applied" | "resent"> {
  if (p.pspPayoutId) {
    await syncStripe(db, connectorFor, p, "janitor_checked");
    return "applied";
  }
  const dest = await destinationOf(db, p, "stripe");
  const connect = connectOf(connectorFor, db);
  const transfer = await findTransfer(db, connect, p);
  const po = transfer ? await findConnectedPayout(db, connect, p, dest.stripeAccountId) : undefined;
  if (transfer) await db.update(payouts).set({ pspTransferId: transfer.id }).where(and(eq(payouts.id, p.id), sql`${payouts.pspTransferId} is null`));
  if (po) {
    await applyStripePayout(db, connect, { ...p, pspTransferId: p.pspTransferId ?? transfer?.id ?? null }, po, "janitor_found");
    await markChecked(db, p.id);
    return "applied";
  }
  // Not (fully) at Stripe: a transfer without its payout included.
  await reexecute(db, p, "janitor_not_at_psp", new Date());
  return "resent";
}

/**
 * The janitor (payouts-janitor, every 5 minutes): settles what no execution is following, by asking the PSP —
 * unknown payouts (any age), pending ones with no progress for 5 minutes, in-transit ones not checked for 10. So an
 * unknown outcome is settled within 15 minutes. Stripe: looked up and applied (none found: pending + re-executed).
 * Daraja: Transaction Status (its answer arrives by callback); a pending B2C never sent is re-executed.
 */
export async function reconcileOpenPayouts(db: Db, connectorFor: ConnectorFor, opts: { now?: Date; limit?: number } = {}): Promise<{ checked: number; resent: number }> {
  const now = opts.now ?? new Date();
  const limit = opts.limit ?? 200;
  const stalePending = new Date(now.getTime() - STALE_PENDING_MS);
  const staleTransit = new Date(now.getTime() - STALE_IN_TRANSIT_MS);
  const checkedBefore = (t: Date): SQL => sql`coalesce(${payouts.lastCheckedAt}, ${payouts.updatedAt}) < ${t.toISOString()}::timestamptz`;
  const due = await db
    .select()
    .from(payouts)
    .where(
      or(
        eq(payouts.status, "unknown"),
        and(eq(payouts.status, "pending"), lt(payouts.updatedAt, stalePending), checkedBefore(stalePending)),
        and(eq(payouts.status, "in_transit"), checkedBefore(staleTransit)),
      ),
    )
    .orderBy(asc(payouts.updatedAt))
    .limit(limit);
  let checked = 0;
  let resent = 0;
  for (const p of due) {
    try {
      if (p.psp === "stripe") {
        if ((await reconcileStripe(db, connectorFor, p)) === "resent") resent++;
      } else if (!(await mpesaMaySend(db, p))) {
        await askAboutB2c(db, connectorFor, p, `j${now.getTime().toString(36)}`);
      } else {
        // Never left (or Daraja said it has none): its execution sends it.
        await reexecute(db, p, "janitor_never_sent", now);
        resent++;
      }
      checked++;
    } catch (err) {
      // One payout's PSP trouble does not stop the others; the next run asks again.
      log.warn({ payoutId: p.id, err: err instanceof Error ? err.message : String(err) }, "janitor could not reconcile a payout");
    }
  }
  if (due.length > 0) log.info({ due: due.length, checked, resent }, "payouts janitor ran");
  return { checked, resent };
}
