// Creating payouts: the set-based scheduled run and manual requests (maker-checker), approval and cancellation
// (docs/payouts.md "Schedules", "Composition"). Every payout is created in one transaction with: netSellerDebt,
// its composition (payout_items, summing exactly to its amount: composition.ts), its hold (reference = payout
// id), the payout.created merchant event and (when `pending`) the payout/execute outbox event.
//
// Two runs racing (two cron fires, a cron and a manual request): every creator takes lockSellerFunds for the
// seller first and, holding it, re-checks the idempotency key and (scheduled) the open payouts, so the second one
// sees the first's committed payout and its hold; insertPayouts' unique key is the backstop.
import { and, eq, inArray, notInArray, or, sql } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { newId } from "@/db/ids";
import { merchants, payoutDestinations, payoutItems, payouts, sellers, walletHolds } from "@/db/schema";
import { recordAudit } from "@/server/audit/record-audit";
import { AppError } from "@/server/errors";
import { payoutExecute } from "@/server/events/catalog";
import { postTransactions } from "@/server/ledger";
import { isCurrencyCode, money, type CurrencyCode } from "@/server/money";
import { enqueueEvent } from "@/server/outbox";
import { MPESA_MAX_TRANSACTION_MINOR } from "@/server/psp/daraja/transform";
import { holdPlacePosting } from "@/server/wallet/holds";
import { thresholdState } from "./threshold";
import { lockSellerFunds, netSellerDebt } from "@/server/wallet/seller-funds";
import { recordObjectEvent } from "@/server/webhooks-out/record-event";
import { applyPayoutOutcome } from "./apply-outcome";
import { composeItems, readSellerSnapshots, snapshotKey, type PayoutItemDraft, type SellerSnapshot } from "./composition";
import { presentPayout } from "./present";
import { isDue, periodKey } from "./schedule";
import { insertPayouts, PAYOUT_OPEN_STATUSES, transitionPayout, type NewPayout, type Payout } from "./state-machine";
import type { ManualPayoutInput } from "./types";

export interface DuePayoutsResult {
  created: Payout[];
  /** Sellers looked at that got no payout (nothing due, below minimum, held, no destination). */
  skipped: number;
}

/** Daraja B2C limits (KES minor units): whole shillings, 10 .. 250,000 KES per payout (Daraja's per-transaction cap). */
export const MPESA_B2C_MIN = 1_000n;
export const MPESA_B2C_MAX = MPESA_MAX_TRANSACTION_MINOR;
export const DEFAULT_BATCH_SIZE = 200;

type Destination = typeof payoutDestinations.$inferSelect;

/** What may be paid out now from a snapshot: available minus the delay's held-back part, on the rail's terms. */
export function payableNow(snap: Pick<SellerSnapshot, "available" | "heldBack">, psp: "stripe" | "mpesa"): bigint {
  let amount = snap.available - snap.heldBack;
  if (amount < 0n) amount = 0n;
  if (psp === "mpesa") {
    amount -= amount % 100n;
    if (amount > MPESA_B2C_MAX) amount = MPESA_B2C_MAX;
    if (amount < MPESA_B2C_MIN) amount = 0n;
  }
  return amount;
}

interface Candidate {
  merchantId: string;
  sellerId: string;
  sellerReference: string;
  currency: CurrencyCode;
  destination: Pick<Destination, "id" | "psp" | "stripeAccountId" | "phoneLast3">;
  delayDays: number;
  minimumAmount: bigint;
  idempotencyKey: string;
}

/** One payout to create inside a batch transaction. */
interface Planned {
  payoutId: string;
  candidate: Candidate;
  amount: bigint;
  position: bigint;
  items: PayoutItemDraft[];
  status: "pending" | "pending_approval";
  origin: "scheduled" | "manual" | "api";
  method: "standard" | "instant";
  description?: string | null;
  metadata?: Record<string, string>;
  requestedByUserId?: string | null;
}

/** Creates every payout due at `now` (schedules in the merchant's time zone), in batches. Two concurrent runs create each payout once. */
export async function createDuePayouts(db: Db, opts: { now?: Date; batchSize?: number; sellerIds?: readonly string[] } = {}): Promise<DuePayoutsResult> {
  const now = opts.now ?? new Date();
  const batchSize = Math.max(1, opts.batchSize ?? DEFAULT_BATCH_SIZE);
  const open = sql.join(PAYOUT_OPEN_STATUSES.map((s) => sql`${s}`), sql`, `);
  // ONE selection: (seller, currency) pairs with available > 0, an active destination, not held, not manual,
  // and no open payout in that currency. Due-ness (time zones) is decided below, on the rows it returns.
  const rows = (await db.execute(sql`
    select s.id as seller_id, s.merchant_id, s.reference, s.payout_interval, s.payout_weekly_anchor, s.payout_monthly_anchor,
      s.payout_delay_days, s.payout_minimum_amount::text as minimum_amount, s.default_currency, m.time_zone, a.currency,
      d.id as destination_id, d.psp, d.stripe_account_id, d.phone_last3
    from ledger_accounts a
    join sellers s on s.id = a.seller_id
    join merchants m on m.id = s.merchant_id
    join payout_destinations d on d.seller_id = s.id and d.disabled_at is null
    where a.kind = 'seller_payable_available'
      and s.payout_interval <> 'manual'
      and (s.payouts_held_until is null or s.payouts_held_until <= ${now.toISOString()}::timestamptz)
      ${opts.sellerIds ? sql`and s.id in (${opts.sellerIds.length ? sql.join(opts.sellerIds.map((id) => sql`${id}`), sql`, `) : sql`null`})` : sql``}
      and (select coalesce(sum(b.balance), 0) from ledger_balances b where b.account_id = a.id) < 0
      and not exists (select 1 from payouts p where p.seller_id = s.id and p.currency = a.currency and p.status in (${open}))
    order by a.currency, s.id
  `)) as unknown as Array<{
    seller_id: string;
    merchant_id: string;
    reference: string;
    payout_interval: "daily" | "weekly" | "monthly" | "manual";
    payout_weekly_anchor: number;
    payout_monthly_anchor: number;
    payout_delay_days: number;
    minimum_amount: string;
    default_currency: string;
    time_zone: string;
    currency: string;
    destination_id: string;
    psp: "stripe" | "mpesa";
    stripe_account_id: string | null;
    phone_last3: string | null;
  }>;
  let skipped = 0;
  const due: Candidate[] = [];
  for (const r of rows) {
    const schedule = { interval: r.payout_interval, weeklyAnchor: Number(r.payout_weekly_anchor), monthlyAnchor: Number(r.payout_monthly_anchor) };
    const period = periodKey(schedule, now, r.time_zone);
    if (!isDue(schedule, now, r.time_zone) || !period || !isCurrencyCode(r.currency) || (r.psp === "mpesa" && r.currency !== "KES")) {
      skipped++;
      continue;
    }
    due.push({
      merchantId: r.merchant_id,
      sellerId: r.seller_id,
      sellerReference: r.reference,
      currency: r.currency,
      destination: { id: r.destination_id, psp: r.psp, stripeAccountId: r.stripe_account_id, phoneLast3: r.phone_last3 },
      delayDays: Number(r.payout_delay_days),
      // The minimum is in the seller's default currency: a balance in another one has none (its cents are not those cents).
      minimumAmount: r.currency === r.default_currency ? BigInt(r.minimum_amount) : 0n,
      idempotencyKey: `schedule:${r.seller_id}:${r.currency}:${period}`,
    });
  }
  // Periods already paid (a later fire the same day): dropped before taking any lock. Only a shortcut — the
  // check that counts is the one under the seller locks in createScheduledBatch.
  const paid = new Set<string>();
  for (let i = 0; i < due.length; i += 1_000) {
    const keys = due.slice(i, i + 1_000).map((c) => c.idempotencyKey);
    for (const r of await db.select({ key: payouts.idempotencyKey }).from(payouts).where(inArray(payouts.idempotencyKey, keys))) paid.add(r.key);
  }
  const todo = due.filter((c) => !paid.has(c.idempotencyKey));
  skipped += due.length - todo.length;
  const created: Payout[] = [];
  for (let i = 0; i < todo.length; i += batchSize) {
    const batch = todo.slice(i, i + batchSize);
    const made = await db.transaction((tx) => createScheduledBatch(tx, batch, now));
    created.push(...made);
    skipped += batch.length - made.length;
  }
  return { created, skipped };
}

async function createScheduledBatch(tx: Tx, batch: readonly Candidate[], now: Date): Promise<Payout[]> {
  await lockPairs(tx, batch);
  // Under the locks: what a racing run (or a manual request) committed before we got them.
  const keys = batch.map((c) => c.idempotencyKey);
  const taken = await tx
    .select({ key: payouts.idempotencyKey, sellerId: payouts.sellerId, currency: payouts.currency, status: payouts.status })
    .from(payouts)
    .where(or(inArray(payouts.idempotencyKey, keys), and(inArray(payouts.sellerId, [...new Set(batch.map((c) => c.sellerId))]), inArray(payouts.status, [...PAYOUT_OPEN_STATUSES]))));
  const takenKeys = new Set(taken.map((t) => t.key));
  const openPairs = new Set(taken.filter((t) => PAYOUT_OPEN_STATUSES.includes(t.status)).map((t) => snapshotKey(t.sellerId, t.currency)));
  const fresh = batch.filter((c) => !takenKeys.has(c.idempotencyKey) && !openPairs.has(snapshotKey(c.sellerId, c.currency)));
  if (fresh.length === 0) return [];
  const ids = new Map(fresh.map((c) => [snapshotKey(c.sellerId, c.currency), newId("pyo")]));
  await netDebts(tx, fresh, ids);
  const snaps = await readSellerSnapshots(tx, fresh.map((c) => ({ sellerId: c.sellerId, currency: c.currency, delayDays: c.delayDays })), now);
  const planned: Planned[] = [];
  for (const c of fresh) {
    const snap = snaps.get(snapshotKey(c.sellerId, c.currency));
    if (!snap) continue;
    const amount = payableNow(snap, c.destination.psp);
    const minimum = c.minimumAmount > 1n ? c.minimumAmount : 1n;
    if (amount < minimum) continue;
    const payoutId = ids.get(snapshotKey(c.sellerId, c.currency))!;
    planned.push({ payoutId, candidate: c, amount, position: snap.position, items: composeItems(snap, amount, now), status: "pending", origin: "scheduled", method: "standard" });
  }
  return createPlanned(tx, planned, "scheduled");
}

/** lockSellerFunds for every pair, in (currency, seller) order: concurrent batches cannot deadlock. */
async function lockPairs(tx: Tx, pairs: ReadonlyArray<{ sellerId: string; currency: CurrencyCode }>): Promise<void> {
  const byCurrency = new Map<CurrencyCode, string[]>();
  for (const p of pairs) byCurrency.set(p.currency, [...(byCurrency.get(p.currency) ?? []), p.sellerId]);
  for (const cur of [...byCurrency.keys()].sort()) await lockSellerFunds(tx, byCurrency.get(cur)!, cur);
}

/** netSellerDebt for the pairs whose receivable is not zero (one read for all of them). */
async function netDebts(tx: Tx, pairs: readonly Candidate[], ids: Map<string, string>): Promise<void> {
  const input = JSON.stringify(pairs.map((p) => ({ seller_id: p.sellerId, currency: p.currency })));
  const owing = (await tx.execute(sql`
    select a.seller_id, a.currency from jsonb_to_recordset(${input}::jsonb) as x(seller_id text, currency text)
    join ledger_accounts a on a.seller_id = x.seller_id and a.currency = x.currency and a.kind = 'seller_receivable'
    where (select coalesce(sum(b.balance), 0) from ledger_balances b where b.account_id = a.id) <> 0
    order by a.currency, a.seller_id
  `)) as unknown as Array<{ seller_id: string; currency: CurrencyCode }>;
  for (const o of owing) await netSellerDebt(tx, { sellerId: o.seller_id, currency: o.currency, reference: ids.get(snapshotKey(o.seller_id, o.currency))! });
}

/**
 * Holds (batched holdPlacePosting postings, one set per merchant ledger, as placeHold posts them), payouts, items,
 * payout.created events and execute events. The caller holds lockSellerFunds for every planned seller.
 */
async function createPlanned(tx: Tx, planned: readonly Planned[], reason: string): Promise<Payout[]> {
  if (planned.length === 0) return [];
  const byMerchant = new Map<string, Planned[]>();
  for (const p of planned) byMerchant.set(p.candidate.merchantId, [...(byMerchant.get(p.candidate.merchantId) ?? []), p]);
  const holdIds = new Map<string, string>();
  for (const group of byMerchant.values()) {
    const posted = await postTransactions(
      tx,
      group.map((p) => holdPlacePosting({ sellerId: p.candidate.sellerId, amount: money(p.amount, p.candidate.currency), reference: p.payoutId })),
    );
    const holds = await tx
      .insert(walletHolds)
      .values(group.map((p, i) => ({ sellerId: p.candidate.sellerId, reference: p.payoutId, currency: p.candidate.currency, amount: p.amount, placeTransactionId: posted[i]!.id })))
      .returning({ id: walletHolds.id, reference: walletHolds.reference });
    for (const h of holds) holdIds.set(h.reference, h.id);
  }
  const rows: NewPayout[] = planned.map((p) => ({
    id: p.payoutId,
    merchantId: p.candidate.merchantId,
    sellerId: p.candidate.sellerId,
    destinationId: p.candidate.destination.id,
    psp: p.candidate.destination.psp,
    amount: p.amount,
    currency: p.candidate.currency,
    status: p.status,
    origin: p.origin,
    method: p.method,
    idempotencyKey: p.candidate.idempotencyKey,
    pspKey: `payout_${p.payoutId}`,
    carriedForward: p.position - p.amount,
    holdId: holdIds.get(p.payoutId)!,
    requestedByUserId: p.requestedByUserId ?? null,
    description: p.description ?? null,
    metadata: p.metadata ?? {},
  }));
  const inserted = await insertPayouts(tx, rows, reason);
  // Under the seller locks nobody else can have taken a key we checked: a skipped row is a bug, and its hold
  // must not stay placed. Roll the whole batch back.
  if (inserted.length !== rows.length) throw new AppError("internal", `insertPayouts skipped ${rows.length - inserted.length} of ${rows.length} payouts whose keys were free under the seller locks`);
  const items = planned.flatMap((p) => p.items.map((i) => ({ ...i, payoutId: p.payoutId })));
  for (let i = 0; i < items.length; i += 1_000) await tx.insert(payoutItems).values(items.slice(i, i + 1_000));
  const byId = new Map(planned.map((p) => [p.payoutId, p]));
  for (const payout of inserted) {
    const p = byId.get(payout.id)!;
    await recordObjectEvent(tx, {
      merchantId: payout.merchantId,
      type: "payout.created",
      objectId: payout.id,
      version: payout.version,
      payload: { ...presentPayout(payout, { sellerReference: p.candidate.sellerReference, destination: p.candidate.destination }) },
    });
    if (payout.status === "pending") await enqueueExecute(tx, payout.id, "created");
  }
  return inserted;
}

function enqueueExecute(tx: Tx, payoutId: string, why: string) {
  return enqueueEvent(tx, { event: payoutExecute, id: `payout-execute:${payoutId}:${why}`, data: { payoutId } });
}

/** A manual (dashboard) or API payout. At or above the merchant's threshold it waits for a second admin (pending_approval). */
export async function requestManualPayout(db: Db, input: ManualPayoutInput): Promise<Payout> {
  const idempotencyKey = `manual:${input.merchantId}:${input.idempotencyKey}`;
  const replay = async () => (await db.select().from(payouts).where(eq(payouts.idempotencyKey, idempotencyKey)))[0];
  const existing = await replay();
  if (existing) return existing;
  if (!isCurrencyCode(input.currency)) throw new AppError("validation_failed", `Unsupported currency ${JSON.stringify(input.currency)}`);
  const currency = input.currency;
  if (input.amount !== undefined && input.amount <= 0n) throw new AppError("payout_amount_invalid", "The payout amount must be positive.");
  const [seller] = await db
    .select()
    .from(sellers)
    .where(and(eq(sellers.id, input.sellerId), eq(sellers.merchantId, input.merchantId)));
  if (!seller) throw new AppError("not_found", "Seller not found");
  const now = new Date();
  if (seller.payoutsHeldUntil && seller.payoutsHeldUntil > now) {
    throw new AppError("payouts_held", undefined, { details: { held_until: seller.payoutsHeldUntil.toISOString() } });
  }
  const [destination] = await db.select().from(payoutDestinations).where(and(eq(payoutDestinations.sellerId, seller.id), sql`${payoutDestinations.disabledAt} is null`));
  if (!destination) throw new AppError("payout_destination_missing");
  if (destination.psp === "mpesa" && currency !== "KES") throw new AppError("payout_amount_invalid", "M-Pesa pays out in KES only.");
  if (destination.psp === "mpesa" && input.amount !== undefined) {
    if (input.amount % 100n !== 0n) throw new AppError("payout_amount_invalid", "M-Pesa pays whole shillings: the amount must have no cents.");
    if (input.amount < MPESA_B2C_MIN || input.amount > MPESA_B2C_MAX) throw new AppError("payout_amount_invalid", "An M-Pesa payout is between KES 10 and KES 250,000.");
  }
  try {
    return await db.transaction(async (tx) => {
      await lockSellerFunds(tx, [seller.id], currency);
      const [again] = await tx.select().from(payouts).where(eq(payouts.idempotencyKey, idempotencyKey));
      if (again) return again;
      // Re-read under the lock: a destination change or hold committed meanwhile wins.
      const [s] = await tx.select({ heldUntil: sellers.payoutsHeldUntil }).from(sellers).where(eq(sellers.id, seller.id));
      if (s?.heldUntil && s.heldUntil > now) throw new AppError("payouts_held", undefined, { details: { held_until: s.heldUntil.toISOString() } });
      const [dest] = await tx.select().from(payoutDestinations).where(and(eq(payoutDestinations.id, destination.id), sql`${payoutDestinations.disabledAt} is null`));
      if (!dest) throw new AppError("payout_destination_missing");
      const payoutId = newId("pyo");
      await netSellerDebt(tx, { sellerId: seller.id, currency, reference: payoutId });
      const snap = (await readSellerSnapshots(tx, [{ sellerId: seller.id, currency, delayDays: seller.payoutDelayDays }], now)).get(snapshotKey(seller.id, currency))!;
      const payable = payableNow(snap, dest.psp);
      const amount = input.amount ?? payable;
      if (amount <= 0n || amount > payable) {
        throw new AppError("payout_amount_unavailable", undefined, { details: { available: payable.toString(), currency } });
      }
      // Maker-checker, with the threshold as it is now (read under the seller lock, not before it). The threshold is
      // in the merchant's default currency: a payout in another currency cannot be compared to it (a USD amount in
      // cents is not a KES amount in cents), so with a threshold set it always waits for a second admin.
      const [m] = await tx
        .select({ payoutApprovalThreshold: merchants.payoutApprovalThreshold, payoutApprovalThresholdNext: merchants.payoutApprovalThresholdNext, payoutApprovalThresholdNextAt: merchants.payoutApprovalThresholdNextAt, currency: merchants.defaultCurrency })
        .from(merchants)
        .where(eq(merchants.id, input.merchantId));
      const threshold = m ? thresholdState(m).current : null;
      // Splitting a payout into several just under the threshold does not escape it: the manual payouts of this seller
      // in this currency over the last 24 h (not failed or canceled) count together.
      const recent = threshold === null ? 0n : await recentManualTotal(tx, seller.id, currency);
      const status = threshold !== null && (currency !== m!.currency || amount + recent >= threshold) ? "pending_approval" : "pending";
      const candidate: Candidate = {
        merchantId: input.merchantId,
        sellerId: seller.id,
        sellerReference: seller.reference,
        currency,
        destination: dest,
        delayDays: seller.payoutDelayDays,
        minimumAmount: 0n,
        idempotencyKey,
      };
      const [payout] = await createPlanned(
        tx,
        [
          {
            payoutId,
            candidate,
            amount,
            position: snap.position,
            items: composeItems(snap, amount, now),
            status,
            origin: input.origin,
            method: input.method ?? "standard",
            description: input.description ?? null,
            metadata: input.metadata,
            requestedByUserId: input.requestedByUserId ?? null,
          },
        ],
        input.origin,
      );
      await recordAudit(tx, {
        actor: input.requestedByUserId ?? null,
        action: "payout.requested",
        merchantId: input.merchantId,
        target: { type: "payout", id: payoutId },
        data: { sellerId: seller.id, amount: amount.toString(), currency, status, origin: input.origin },
      });
      return payout!;
    });
  } catch (err) {
    // The same key raced in through another path (the unique index): that payout is the answer.
    const won = await replay();
    if (won) return won;
    throw err;
  }
}

/** Maker-checker: a different admin approves; pending_approval -> pending, then sent. */
export async function approvePayout(db: Db, input: { merchantId: string; payoutId: string; approverUserId: string }): Promise<Payout> {
  return db.transaction(async (tx) => {
    const p = await lockOwnPayout(tx, input.merchantId, input.payoutId);
    if (p.status !== "pending_approval") throw new AppError("payout_not_awaiting_approval", `Payout ${p.id} is ${p.status}: it is not waiting for approval.`);
    if (p.requestedByUserId && p.requestedByUserId === input.approverUserId) throw new AppError("payout_self_approval");
    const moved = await transitionPayout(tx, { payoutId: p.id, to: "pending", reason: "approved", actorUserId: input.approverUserId, set: { approvedByUserId: input.approverUserId, approvedAt: new Date() } });
    await recordAudit(tx, { actor: input.approverUserId, action: "payout.approved", merchantId: input.merchantId, target: { type: "payout", id: p.id }, data: { amount: p.amount.toString(), currency: p.currency, requestedBy: p.requestedByUserId } });
    await enqueueExecute(tx, p.id, "approved");
    return moved.payout;
  });
}

/** Rejects a payout waiting for approval: canceled, hold released. */
export async function cancelPayout(db: Db, input: { merchantId: string; payoutId: string; userId: string; reason?: string }): Promise<Payout> {
  return db.transaction(async (tx) => {
    const p = await lockOwnPayout(tx, input.merchantId, input.payoutId);
    // Only a payout waiting for approval: once `pending`, its execution may already be calling the PSP (the call is
    // recorded only after it returns), so releasing its hold here could pay the seller with money given back.
    if (p.status !== "pending_approval") {
      throw new AppError("payout_not_cancelable", `Payout ${p.id} is ${p.status}: only a payout waiting for approval can be canceled (rejected).`);
    }
    const reason = (input.reason ?? "").trim().slice(0, 500);
    const { payout } = await applyPayoutOutcome(tx, p.id, { status: "canceled", failureCode: "canceled_by_merchant", failureMessage: reason || undefined }, "rejected");
    await recordAudit(tx, { actor: input.userId, action: "payout.canceled", merchantId: input.merchantId, target: { type: "payout", id: p.id }, data: { from: p.status, amount: p.amount.toString(), currency: p.currency, ...(reason ? { reason } : {}) } });
    return payout;
  });
}

/** What this seller was paid (or is being paid) by manual and API payouts in `currency` over the last 24 hours. */
async function recentManualTotal(tx: Tx, sellerId: string, currency: string): Promise<bigint> {
  const [row] = await tx
    .select({ total: sql<string>`coalesce(sum(${payouts.amount}), 0)::text` })
    .from(payouts)
    .where(
      and(
        eq(payouts.sellerId, sellerId),
        eq(payouts.currency, currency),
        inArray(payouts.origin, ["manual", "api"]),
        notInArray(payouts.status, ["failed", "canceled"]),
        sql`${payouts.createdAt} > now() - interval '24 hours'`,
      ),
    );
  return BigInt(row?.total ?? "0");
}

/** The payout row, locked, if it is this merchant's (another merchant's id: not_found). */
async function lockOwnPayout(tx: Tx, merchantId: string, payoutId: string): Promise<Payout> {
  const [p] = await tx.select().from(payouts).where(and(eq(payouts.id, payoutId), eq(payouts.merchantId, merchantId))).for("update");
  if (!p) throw new AppError("not_found", "Payout not found");
  return p;
}

