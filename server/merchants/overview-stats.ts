// The merchant overview's numbers: balance totals per currency (from the ledger), daily volume and success rate
// over a period (days in the merchant's time zone), and the latest failed payment orders. Every query is scoped by
// the merchant id the middleware resolved. Amounts are minor units summed in SQL and returned as decimal-digit
// strings (a sum of bigints is a numeric in Postgres and may exceed 2^63), never floats.
import { and, desc, eq, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { paymentOrders, sellers } from "@/db/schema";
import { LATEST_FAILURES_DEFAULT, OVERVIEW_PERIOD_DAYS, type TOverviewPeriod } from "./overview-stats.schema";
import { isKnownTimeZone, merchantTimeZone } from "./time-zone";

const SELLER_KINDS = sql`('seller_payable_pending', 'seller_payable_available', 'seller_payable_on_hold')`;

export interface CurrencyTotals {
  currency: string;
  /** Minor units owed to the merchant's sellers, not yet settled by the PSP. */
  pendingMinor: string;
  /** Settled and free to pay out. */
  availableMinor: string;
  /** Reserved for payouts in progress. */
  onHoldMinor: string;
}

/** Seller accounts are credit-normal: what we owe is minus the signed sum (debit > 0). */
export function owedFromSigned(signed: string): string {
  return (-BigInt(signed)).toString();
}

/** Pending / available / on-hold per currency over all the merchant's sellers, one statement (one snapshot). */
export async function getCurrencyTotals(db: DbOrTx, merchantId: string): Promise<CurrencyTotals[]> {
  const rows = (await db.execute(sql`
    select a.currency, a.kind, coalesce(sum(b.balance), 0)::text as signed
    from ledger_accounts a
    join ledger_balances b on b.account_id = a.id
    where a.merchant_id = ${merchantId} and a.kind in ${SELLER_KINDS}
    group by a.currency, a.kind
    order by a.currency`)) as unknown as Array<{ currency: string; kind: string; signed: string }>;
  const byCurrency = new Map<string, CurrencyTotals>();
  for (const r of rows) {
    const t = byCurrency.get(r.currency) ?? { currency: r.currency, pendingMinor: "0", availableMinor: "0", onHoldMinor: "0" };
    const owed = owedFromSigned(r.signed);
    if (r.kind === "seller_payable_pending") t.pendingMinor = owed;
    else if (r.kind === "seller_payable_available") t.availableMinor = owed;
    else t.onHoldMinor = owed;
    byCurrency.set(r.currency, t);
  }
  return [...byCurrency.values()];
}


export interface DayPoint {
  /** The local calendar day in the merchant's zone, YYYY-MM-DD. */
  day: string;
  /** Sum of the SUCCESS orders' amounts created that day, minor units. */
  volumeMinor: string;
  succeeded: number;
  failed: number;
}

export interface CurrencySeries {
  currency: string;
  volumeMinor: string;
  succeeded: number;
  failed: number;
  /** floor(succeeded / (succeeded + failed) * 10000); null when no order reached a final status. */
  successRateBps: number | null;
  /** One point per day of the period, oldest first (zeros on quiet days). */
  points: DayPoint[];
}

export interface PaymentStats {
  period: TOverviewPeriod;
  timeZone: string;
  /** Every day of the period, oldest first; the last is today in the merchant's zone. */
  days: string[];
  currencies: CurrencySeries[];
  /** Whether the merchant has any payment order at all (a new merchant gets the empty state). */
  hasAnyPayment: boolean;
}

/** Success rate in basis points, rounded down (so 100% means every final order succeeded). */
export function successRateBps(succeeded: number, failed: number): number | null {
  const total = succeeded + failed;
  return total === 0 ? null : Math.floor((succeeded * 10_000) / total);
}

/**
 * Daily volume and success counts per currency over the period's days in the merchant's time zone. An order counts
 * on the local day it was created; only SUCCESS and FAILED orders count (those still running have no outcome yet).
 * `now` is for tests; the database's clock is used otherwise.
 */
export async function getPaymentStats(db: DbOrTx, merchantId: string, opts: { period: TOverviewPeriod; now?: Date }): Promise<PaymentStats> {
  const days = OVERVIEW_PERIOD_DAYS[opts.period];
  // The configured zone, or UTC when the stored value is not one this runtime knows.
  const stored = await merchantTimeZone(db, merchantId);
  const timeZone = isKnownTimeZone(stored) ? stored : "UTC";
  const now = opts.now ? sql`${opts.now.toISOString()}::timestamptz` : sql`now()`;
  // Local dates of the period: today in the zone and the days - 1 before it.
  const today = sql`(${now} at time zone ${timeZone})::date`;
  const start = sql`(${today} - ${days - 1}::int)::timestamp at time zone ${timeZone}`;
  const end = sql`(${today} + 1)::timestamp at time zone ${timeZone}`;
  const dayRows = (await db.execute(sql`
    select to_char(d, 'YYYY-MM-DD') as day
    from generate_series(${today} - ${days - 1}::int, ${today}, interval '1 day') d
    order by d`)) as unknown as Array<{ day: string }>;
  const rows = (await db.execute(sql`
    select to_char(o.created_at at time zone ${timeZone}, 'YYYY-MM-DD') as day, o.currency,
      count(*) filter (where o.status = 'SUCCESS')::int as succeeded,
      count(*) filter (where o.status = 'FAILED')::int as failed,
      coalesce(sum(o.amount) filter (where o.status = 'SUCCESS'), 0)::text as volume
    from payment_orders o
    where o.merchant_id = ${merchantId} and o.status in ('SUCCESS', 'FAILED') and o.created_at >= ${start} and o.created_at < ${end}
    group by 1, 2`)) as unknown as Array<{ day: string; currency: string; succeeded: number; failed: number; volume: string }>;
  const [any] = (await db.execute(sql`select exists (select 1 from payment_orders where merchant_id = ${merchantId}) as any`)) as unknown as Array<{ any: boolean }>;
  const dayList = dayRows.map((d) => d.day);
  return { period: opts.period, timeZone, days: dayList, currencies: toSeries(dayList, rows), hasAnyPayment: any?.any === true };
}

function toSeries(days: string[], rows: Array<{ day: string; currency: string; succeeded: number; failed: number; volume: string }>): CurrencySeries[] {
  const currencies = [...new Set(rows.map((r) => r.currency))].sort();
  return currencies.map((currency) => {
    const mine = new Map(rows.filter((r) => r.currency === currency).map((r) => [r.day, r]));
    const points = days.map((day) => {
      const r = mine.get(day);
      return { day, volumeMinor: r ? BigInt(r.volume).toString() : "0", succeeded: r?.succeeded ?? 0, failed: r?.failed ?? 0 };
    });
    const succeeded = points.reduce((n, p) => n + p.succeeded, 0);
    const failed = points.reduce((n, p) => n + p.failed, 0);
    const volumeMinor = points.reduce((n, p) => n + BigInt(p.volumeMinor), 0n).toString();
    return { currency, volumeMinor, succeeded, failed, successRateBps: successRateBps(succeeded, failed), points };
  });
}

export interface LatestFailure {
  /** The merchant's own id for the order (what the payment detail page is addressed by). */
  paymentOrderId: string;
  checkoutId: string;
  sellerName: string;
  amountMinor: string;
  currency: string;
  psp: string | null;
  failureCode: string | null;
  failureMessage: string | null;
  createdAt: Date;
  failedAt: Date;
}

/** The merchant's most recently created FAILED payment orders, newest first. */
export async function getLatestFailures(db: DbOrTx, merchantId: string, limit = LATEST_FAILURES_DEFAULT): Promise<LatestFailure[]> {
  const rows = await db
    .select({
      paymentOrderId: paymentOrders.paymentOrderId,
      checkoutId: paymentOrders.checkoutId,
      sellerName: sellers.name,
      amount: paymentOrders.amount,
      currency: paymentOrders.currency,
      psp: paymentOrders.psp,
      failureCode: paymentOrders.failureCode,
      failureMessage: paymentOrders.failureMessage,
      createdAt: paymentOrders.createdAt,
      failedAt: paymentOrders.updatedAt,
    })
    .from(paymentOrders)
    .innerJoin(sellers, eq(sellers.id, paymentOrders.sellerId))
    .where(and(eq(paymentOrders.merchantId, merchantId), eq(paymentOrders.status, "FAILED")))
    .orderBy(desc(paymentOrders.createdAt), desc(paymentOrders.id))
    .limit(limit);
  return rows.map(({ amount, ...r }) => ({ ...r, amountMinor: amount.toString() }));
}
