// The dashboard's sellers for payouts (payouts.sellers / payouts.seller): each seller's active destination, hold,
// schedule and balances per currency from the ledger (one statement: one snapshot); the schedule change
// (audited payout_schedule.updated) and the merchant's maker-checker threshold (audited merchant.settings_updated).
// Merchant scoped: another merchant's seller is not_found. Amounts shown are decimal strings in major units.
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Db, DbOrTx } from "@/db/client";
import { merchants, payoutDestinations, sellers } from "@/db/schema";
import { recordAudit } from "@/server/audit/record-audit";
import { AppError } from "@/server/errors";
import { thresholdChange, thresholdState } from "./threshold";
import { formatMoney, isCurrencyCode, money, MoneyError, parseMoney } from "@/server/money";
import { payableNow } from "./build";
import { presentDestination } from "./present";
import type { PayoutDestinationView, PayoutInterval } from "./types";

export interface PayoutSellerBalance {
  currency: string;
  pending: string;
  available: string;
  onHold: string;
  /** What the seller owes (refunds / disputes above their balance), netted in the next payout. */
  owed: string;
  /** What a payout could take now: available after netting the debt, less funds still within the delay days (M-Pesa: whole shillings, limits). */
  payableNow: string;
}

export interface PayoutSellerSchedule {
  interval: PayoutInterval;
  weeklyAnchor: number;
  monthlyAnchor: number;
  delayDays: number;
  /** Major units in the seller's default currency. */
  minimumAmount: string;
}

export interface PayoutSeller {
  id: string;
  name: string;
  reference: string;
  defaultCurrency: string;
  destination: PayoutDestinationView | null;
  /** ISO; payouts are held until then after a destination change (null or past: not held). */
  heldUntil: string | null;
  schedule: PayoutSellerSchedule;
  balances: PayoutSellerBalance[];
}

const fmt = (minor: bigint, currency: string) => (isCurrencyCode(currency) ? formatMoney(money(minor, currency)) : minor.toString());

/** What a payout could take now: the debt netted, then the builder's own rule (the builder decides, under its locks). */
export function payableNowMinor(input: { available: bigint; owed: bigint; heldBack: bigint; currency: string; psp: "stripe" | "mpesa" | null }): bigint {
  let a = input.available;
  if (input.owed > 0n) a -= input.owed < a ? input.owed : a;
  else if (input.owed < 0n) a += -input.owed;
  return payableNow({ available: a, heldBack: input.heldBack }, input.psp === "mpesa" && input.currency === "KES" ? "mpesa" : "stripe");
}

type SellerRow = typeof sellers.$inferSelect & { destination: { psp: "stripe" | "mpesa"; stripeAccountId: string | null; phoneLast3: string | null } | null };

async function sellerRows(db: DbOrTx, merchantId: string, sellerId?: string): Promise<SellerRow[]> {
  const where = sellerId ? and(eq(sellers.merchantId, merchantId), eq(sellers.id, sellerId)) : eq(sellers.merchantId, merchantId);
  const rows = await db
    .select({ seller: sellers, psp: payoutDestinations.psp, stripeAccountId: payoutDestinations.stripeAccountId, phoneLast3: payoutDestinations.phoneLast3 })
    .from(sellers)
    .leftJoin(payoutDestinations, and(eq(payoutDestinations.sellerId, sellers.id), isNull(payoutDestinations.disabledAt)))
    .where(where)
    .orderBy(sellers.name, sellers.id);
  return rows.map((r) => ({ ...r.seller, destination: r.psp ? { psp: r.psp, stripeAccountId: r.stripeAccountId, phoneLast3: r.phoneLast3 } : null }));
}

/** Per (seller, currency): the four balances (signed sums) and what settled within the seller's delay days, one statement. */
async function balanceRows(db: DbOrTx, merchantId: string, sellerId?: string) {
  const sellerFilter = sellerId ? sql`and s.id = ${sellerId}` : sql``;
  return (await db.execute(sql`
    with acc as (
      select s.id as seller_id, a.currency, a.kind, coalesce(sum(b.balance), 0)::text as signed
      from sellers s
      join ledger_accounts a on a.seller_id = s.id
      left join ledger_balances b on b.account_id = a.id
      where s.merchant_id = ${merchantId} ${sellerFilter}
        and a.kind in ('seller_payable_pending', 'seller_payable_available', 'seller_payable_on_hold', 'seller_receivable')
      group by s.id, a.currency, a.kind
    ),
    recent as (
      select os.seller_id, os.currency, coalesce(sum(os.amount), 0)::text as held_back
      from order_settlements os
      join sellers s on s.id = os.seller_id
      where s.merchant_id = ${merchantId} ${sellerFilter} and s.payout_delay_days > 0
        and os.created_at > now() - make_interval(days => s.payout_delay_days)
      group by os.seller_id, os.currency
    )
    select acc.seller_id, acc.currency, acc.kind, acc.signed, coalesce(recent.held_back, '0') as held_back
    from acc left join recent on recent.seller_id = acc.seller_id and recent.currency = acc.currency
    order by acc.seller_id, acc.currency`)) as unknown as Array<{ seller_id: string; currency: string; kind: string; signed: string; held_back: string }>;
}

function assemble(rows: SellerRow[], balances: Awaited<ReturnType<typeof balanceRows>>): PayoutSeller[] {
  const bySeller = new Map<string, Map<string, { pending: bigint; available: bigint; onHold: bigint; owed: bigint; heldBack: bigint }>>();
  for (const b of balances) {
    const cur = bySeller.get(b.seller_id) ?? new Map();
    const w = cur.get(b.currency) ?? { pending: 0n, available: 0n, onHold: 0n, owed: 0n, heldBack: BigInt(b.held_back) };
    const signed = BigInt(b.signed);
    if (b.kind === "seller_payable_pending") w.pending = -signed;
    else if (b.kind === "seller_payable_available") w.available = -signed;
    else if (b.kind === "seller_payable_on_hold") w.onHold = -signed;
    else if (b.kind === "seller_receivable") w.owed = signed;
    cur.set(b.currency, w);
    bySeller.set(b.seller_id, cur);
  }
  const now = Date.now();
  return rows.map((s) => {
    const wallets = bySeller.get(s.id) ?? new Map();
    if (!wallets.has(s.defaultCurrency)) wallets.set(s.defaultCurrency, { pending: 0n, available: 0n, onHold: 0n, owed: 0n, heldBack: 0n });
    const held = s.payoutsHeldUntil && s.payoutsHeldUntil.getTime() > now;
    return {
      id: s.id,
      name: s.name,
      reference: s.reference,
      defaultCurrency: s.defaultCurrency,
      destination: s.destination ? presentDestination(s.destination) : null,
      heldUntil: s.payoutsHeldUntil?.toISOString() ?? null,
      schedule: {
        interval: s.payoutInterval,
        weeklyAnchor: s.payoutWeeklyAnchor,
        monthlyAnchor: s.payoutMonthlyAnchor,
        delayDays: s.payoutDelayDays,
        minimumAmount: fmt(s.payoutMinimumAmount, s.defaultCurrency),
      },
      balances: [...wallets.entries()]
        .sort(([a], [b]) => (a === s.defaultCurrency ? -1 : b === s.defaultCurrency ? 1 : a.localeCompare(b)))
        .map(([currency, w]) => ({
          currency,
          pending: fmt(w.pending, currency),
          available: fmt(w.available, currency),
          onHold: fmt(w.onHold, currency),
          owed: fmt(w.owed, currency),
          payableNow: fmt(held || !s.destination ? 0n : payableNowMinor({ ...w, currency, psp: s.destination.psp }), currency),
        })),
    };
  });
}

/** Every seller of the merchant, by name. */
export async function listPayoutSellers(db: DbOrTx, merchantId: string): Promise<PayoutSeller[]> {
  const [rows, balances] = await Promise.all([sellerRows(db, merchantId), balanceRows(db, merchantId)]);
  return assemble(rows, balances);
}

/** One seller of the merchant (another merchant's seller: not_found). */
export async function getPayoutSeller(db: DbOrTx, merchantId: string, sellerId: string): Promise<PayoutSeller> {
  const rows = await sellerRows(db, merchantId, sellerId);
  if (rows.length === 0) throw new AppError("not_found", "Seller not found");
  return assemble(rows, await balanceRows(db, merchantId, sellerId))[0]!;
}

/** A decimal string in major units ("125.00") as exact minor units of `currency`; a 400 naming `field` if it does not fit the currency. */
export function parseMajorAmount(amount: string, currency: string, field: string): bigint {
  try {
    return parseMoney(amount, currency).amount;
  } catch (e) {
    if (!(e instanceof MoneyError)) throw e;
    const message = `${e.message} (${currency})`;
    throw new AppError("validation_failed", `Invalid input: ${field}: ${message}`, { details: { fields: [{ path: field, message }] } });
  }
}

/** The seller is this merchant's (else not_found, the same answer as for no such seller). */
export async function assertMerchantSeller(db: DbOrTx, merchantId: string, sellerId: string): Promise<void> {
  const [s] = await db
    .select({ id: sellers.id })
    .from(sellers)
    .where(and(eq(sellers.merchantId, merchantId), eq(sellers.id, sellerId)));
  if (!s) throw new AppError("not_found", "Seller not found");
}

export interface ScheduleInput {
  interval: PayoutInterval;
  weeklyAnchor: number;
  monthlyAnchor: number;
  delayDays: number;
  /** Major units in the seller's default currency. */
  minimumAmount: string;
}

/** Changes a seller's payout schedule; the change and its audit row (only the fields that changed) in one transaction. */
export async function updatePayoutSchedule(db: Db, input: { merchantId: string; sellerId: string; userId: string | null; schedule: ScheduleInput }): Promise<PayoutSeller> {
  await db.transaction(async (tx) => {
    const [s] = await tx
      .select()
      .from(sellers)
      .where(and(eq(sellers.merchantId, input.merchantId), eq(sellers.id, input.sellerId)))
      .for("update");
    if (!s) throw new AppError("not_found", "Seller not found");
    const minimum = parseMajorAmount(input.schedule.minimumAmount, s.defaultCurrency, "minimumAmount");
    const before = { interval: s.payoutInterval, weeklyAnchor: s.payoutWeeklyAnchor, monthlyAnchor: s.payoutMonthlyAnchor, delayDays: s.payoutDelayDays, minimumAmount: s.payoutMinimumAmount.toString() };
    const after = { interval: input.schedule.interval, weeklyAnchor: input.schedule.weeklyAnchor, monthlyAnchor: input.schedule.monthlyAnchor, delayDays: input.schedule.delayDays, minimumAmount: minimum.toString() };
    const changed = (Object.keys(after) as (keyof typeof after)[]).filter((k) => after[k] !== before[k]);
    if (changed.length === 0) return;
    await tx
      .update(sellers)
      .set({ payoutInterval: after.interval, payoutWeeklyAnchor: after.weeklyAnchor, payoutMonthlyAnchor: after.monthlyAnchor, payoutDelayDays: after.delayDays, payoutMinimumAmount: minimum, updatedAt: new Date() })
      .where(eq(sellers.id, s.id));
    await recordAudit(tx, {
      actor: input.userId,
      merchantId: input.merchantId,
      action: "payout_schedule.updated",
      target: { type: "seller", id: s.id },
      before: Object.fromEntries(changed.map((k) => [k, before[k]])),
      after: Object.fromEntries(changed.map((k) => [k, after[k]])),
      data: { fields: changed, currency: s.defaultCurrency },
    });
  });
  return getPayoutSeller(db, input.merchantId, input.sellerId);
}

export interface ApprovalThresholdView {
  /** In effect now (major units of `currency`), or null (no approval needed). */
  amount: string | null;
  currency: string;
  /** A loosening (raised or cleared) that takes effect only 24 h after it was asked for (server/payouts/threshold.ts). */
  pending: { amount: string | null; effectiveAt: string } | null;
}

const THRESHOLD_COLUMNS = { threshold: merchants.payoutApprovalThreshold, next: merchants.payoutApprovalThresholdNext, nextAt: merchants.payoutApprovalThresholdNextAt, currency: merchants.defaultCurrency };
type ThresholdRow = { threshold: bigint | null; next: bigint | null; nextAt: Date | null; currency: string };
const columnsOf = (m: ThresholdRow) => ({ payoutApprovalThreshold: m.threshold, payoutApprovalThresholdNext: m.next, payoutApprovalThresholdNextAt: m.nextAt });

/** The maker-checker threshold in the merchant's default currency (major units), or null (no approval needed). */
export async function getApprovalThreshold(db: DbOrTx, merchantId: string): Promise<ApprovalThresholdView> {
  const [m] = await db.select(THRESHOLD_COLUMNS).from(merchants).where(eq(merchants.id, merchantId));
  if (!m) throw new AppError("not_found", "Merchant not found");
  const state = thresholdState(columnsOf(m));
  const show = (v: bigint | null) => (v === null ? null : fmt(v, m.currency));
  return { amount: show(state.current), currency: m.currency, pending: state.pending ? { amount: show(state.pending.amount), effectiveAt: state.pending.effectiveAt.toISOString() } : null };
}

/**
 * Sets (or clears, with null) the threshold; audited merchant.settings_updated with the change, in one transaction.
 * Tightening takes effect at once; loosening (higher, or cleared) 24 h later, so one admin alone cannot switch
 * maker-checker off for a payout of their own.
 */
export async function setApprovalThreshold(db: Db, input: { merchantId: string; userId: string | null; amount: string | null }): Promise<ApprovalThresholdView> {
  await db.transaction(async (tx) => {
    const [m] = await tx.select(THRESHOLD_COLUMNS).from(merchants).where(eq(merchants.id, input.merchantId)).for("update");
    if (!m) throw new AppError("not_found", "Merchant not found");
    const next = input.amount === null ? null : parseMajorAmount(input.amount, m.currency, "amount");
    if (next !== null && next <= 0n) throw new AppError("validation_failed", "Invalid input: amount: must be above zero", { details: { fields: [{ path: "amount", message: "must be above zero" }] } });
    const now = new Date();
    const before = thresholdState(columnsOf(m), now);
    if (next === before.current && before.pending === null) return;
    const change = thresholdChange(columnsOf(m), next, now);
    await tx.update(merchants).set({ ...change, updatedAt: now }).where(eq(merchants.id, input.merchantId));
    await recordAudit(tx, {
      actor: input.userId,
      merchantId: input.merchantId,
      action: "merchant.settings_updated",
      target: { type: "merchant", id: input.merchantId },
      before: { payoutApprovalThreshold: before.current?.toString() ?? null },
      after: { payoutApprovalThreshold: next?.toString() ?? null },
      data: { fields: ["payoutApprovalThreshold"], currency: m.currency, ...(change.payoutApprovalThresholdNextAt ? { effectiveAt: change.payoutApprovalThresholdNextAt.toISOString() } : {}) },
    });
  });
  return getApprovalThreshold(db, input.merchantId);
}
