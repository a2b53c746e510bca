// Settlement (docs/payouts.md "Settlement"): a successful payment order's seller funds move pending -> available when
// the PSP says the charge's funds are available (Stripe: the charge's balance transaction is `available`, on Stripe's
// clock; M-Pesa: MPESA_SETTLEMENT_DELAY_S after the payment), or after the per-PSP fallback
// (STRIPE_SETTLEMENT_FALLBACK_S after the payment) when the PSP does not say. One order_settlements row per order
// (its primary key: an order settles once), written with its posting in one transaction.
//
// The amount is min(the order's seller credit, the seller's pending balance now), read under lockSellerFunds: a refund
// or dispute may already have taken pending (refunds take available first, then pending), and the ledger never
// lets pending go below zero. 0 is recorded as a row without a posting. Summed over a seller's orders this moves
// exactly what is left of pending once all of them are settled: nothing stays stranded in pending.
import { inArray, sql } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { orderSettlements } from "@/db/schema";
import { env } from "@/server/env.js";
import type { PostTransactionInput } from "@/server/ledger";
import { postTransactions } from "@/server/ledger/post-transaction";
import { money, type CurrencyCode } from "@/server/money";
import { log } from "@/server/observability/log";
import type { ConnectorFor } from "@/server/psp";
import type { FundsAvailability, PspName } from "@/server/psp/types";
import { lockSellerFunds, SETTLEMENT_SOURCE, settlementPosting, settlementSourceId } from "@/server/wallet/seller-funds";

/** Candidates read per query (keyset pages by order id). */
export const SETTLEMENT_PAGE_SIZE = 500;
/** Candidates examined per call by default (the cron walks on with `next`). */
export const SETTLEMENT_LIMIT_DEFAULT = 2_000;
/** Orders settled per database transaction (one merchant, one currency). */
export const SETTLEMENT_TX_ORDERS_MAX = 100;
/** PSP availability calls in flight at once. */
export const AVAILABILITY_CONCURRENCY = 4;

interface Candidate {
  id: string;
  merchantId: string;
  sellerId: string;
  currency: CurrencyCode;
  checkoutId: string;
  psp: PspName | null;
  pspReference: string | null;
  succeededAt: Date;
  /** The order posting's credit to the seller's pending balance (order amount - platform fee). */
  credit: bigint;
}

interface Due extends Candidate {
  availableOn: Date;
  source: "psp" | "fallback";
}

export interface SettleResult {
  /** order_settlements rows written by this call. */
  settled: number;
  /** Candidates whose funds are not available yet. */
  waiting: number;
  /** More candidates may follow this order id (the limit was reached): call again with `after`. */
  next?: string;
}

export async function settleDueOrders(db: Db, connectorFor: ConnectorFor, opts: { now?: Date; limit?: number; orderIds?: readonly string[]; after?: string } = {}): Promise<SettleResult> {
  const now = opts.now ?? new Date();
  const limit = Math.max(1, opts.limit ?? SETTLEMENT_LIMIT_DEFAULT);
  let after = opts.after;
  let examined = 0;
  let settled = 0;
  let waiting = 0;
  while (examined < limit) {
    const size = Math.min(SETTLEMENT_PAGE_SIZE, limit - examined);
    const page = await loadCandidates(db, { after, size, orderIds: opts.orderIds });
    examined += page.length;
    if (page.length > 0) after = page.at(-1)!.id;
    const availability = await askPsps(db, connectorFor, page);
    const due: Due[] = [];
    for (const c of page) {
      const d = dueOf(c, availability.get(checkoutKey(c)) ?? null, now);
      if (d) due.push({ ...c, ...d });
      else waiting++;
    }
    for (const chunk of chunks(due)) settled += await settleChunk(db, chunk);
    if (page.length < size) return { settled, waiting };
  }
  return { settled, waiting, next: after };
}

/** SUCCESS orders without a settlement, with their paying attempt (from the SUCCESS transition) and seller credit. */
async function loadCandidates(db: Db, q: { after?: string; size: number; orderIds?: readonly string[] }): Promise<Candidate[]> {
  const ids = q.orderIds ? sql`and o.id in (${q.orderIds.length ? sql.join(q.orderIds.map((id) => sql`${id}`), sql`, `) : sql`null`})` : sql``;
  const rows = (await db.execute(sql`
    select o.id, o.merchant_id, o.seller_id, o.currency, o.checkout_id, s.at as succeeded_at,
      coalesce(a.psp, o.psp) as psp, coalesce(a.psp_reference, s.data->>'pspReference') as psp_reference,
      (select coalesce(-sum(e.amount), 0)::bigint from ledger_transactions lt
        join ledger_entries e on e.transaction_id = lt.id
        join ledger_accounts la on la.id = e.account_id
        where lt.source = 'payment_order' and lt.source_id = o.id and la.kind = 'seller_payable_pending' and la.seller_id = o.seller_id) as credit
    from payment_orders o
    cross join lateral (select t.at, t.data from payment_order_transitions t
      where t.payment_order_id = o.id and t.to_status = 'SUCCESS' order by t.at desc limit 1) s
    left join payment_attempts a on a.id = s.data->>'attemptId'
    where o.status = 'SUCCESS'
      and not exists (select 1 from order_settlements os where os.payment_order_id = o.id)
      ${q.after ? sql`and o.id > ${q.after}` : sql``} ${ids}
    order by o.id
    limit ${q.size}`)) as unknown as Array<Record<string, unknown>>;
  return rows.map((r) => ({
    id: String(r.id),
    merchantId: String(r.merchant_id),
    sellerId: String(r.seller_id),
    currency: String(r.currency) as CurrencyCode,
    checkoutId: String(r.checkout_id),
    psp: r.psp === "stripe" || r.psp === "mpesa" ? r.psp : null,
    pspReference: typeof r.psp_reference === "string" && r.psp_reference ? r.psp_reference : null,
    succeededAt: new Date(r.succeeded_at as string | Date),
    credit: BigInt(String(r.credit ?? 0)),
  }));
}

const checkoutKey = (c: Candidate) => `${c.psp}:${c.pspReference ?? c.checkoutId}`;

/** One availability question per checkout (its orders share one charge). A PSP that fails to answer says nothing. */
async function askPsps(db: Db, connectorFor: ConnectorFor, page: Candidate[]): Promise<Map<string, FundsAvailability | null>> {
  const asks = new Map<string, Candidate>();
  for (const c of page) if (c.psp === "stripe" && c.pspReference && !asks.has(checkoutKey(c))) asks.set(checkoutKey(c), c);
  const out = new Map<string, FundsAvailability | null>();
  if (asks.size === 0) return out;
  const connector = connectorFor(db, "stripe");
  if (!connector.getFundsAvailability) return out;
  const queue = [...asks];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [key, c] = next;
      try {
        out.set(key, await connector.getFundsAvailability!({ pspReference: c.pspReference! }));
      } catch (err) {
        log.warn({ err, checkoutId: c.checkoutId, pspReference: c.pspReference }, "settlement: funds availability unknown (the fallback applies)");
        out.set(key, null);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(AVAILABILITY_CONCURRENCY, queue.length) }, worker));
  return out;
}

/** When (and on whose word) the order's funds are available, or null while they are not. */
export function dueOf(c: Pick<Candidate, "psp" | "succeededAt">, availability: FundsAvailability | null, now: Date): { availableOn: Date; source: "psp" | "fallback" } | null {
  if (c.psp === "mpesa") {
    const at = new Date(c.succeededAt.getTime() + env.MPESA_SETTLEMENT_DELAY_S * 1000);
    return at <= now ? { availableOn: at, source: "psp" } : null;
  }
  if (availability?.available) return { availableOn: availability.availableOn, source: "psp" };
  const fallback = new Date(c.succeededAt.getTime() + env.STRIPE_SETTLEMENT_FALLBACK_S * 1000);
  return fallback <= now ? { availableOn: fallback, source: "fallback" } : null;
}

/** Due orders grouped by (merchant, currency) — one ledger and one lock set per transaction — in bounded chunks. */
function chunks(due: Due[]): Due[][] {
  const groups = new Map<string, Due[]>();
  for (const d of due) {
    const k = `${d.merchantId}:${d.currency}`;
    groups.set(k, [...(groups.get(k) ?? []), d]);
  }
  const out: Due[][] = [];
  for (const g of groups.values()) for (let i = 0; i < g.length; i += SETTLEMENT_TX_ORDERS_MAX) out.push(g.slice(i, i + SETTLEMENT_TX_ORDERS_MAX));
  return out;
}

const releaseReference = (orderId: string) => `order:${orderId}`;

/** Settles one chunk: under the sellers' funds lock, re-checks what is already settled, caps by pending, posts, records. */
async function settleChunk(db: Db, chunk: Due[]): Promise<number> {
  const currency = chunk[0]!.currency;
  return db.transaction(async (tx) => {
    // Lock order as refunds and disputes take it: the rows first (the order_settlements insert's foreign keys need
    // them: a refund holds its order FOR UPDATE while it waits for the funds lock), then lockSellerFunds, then ledger.
    const orderIds = chunk.map((d) => d.id).sort();
    await tx.execute(sql`select id from payment_orders where id in (${sql.join(orderIds.map((id) => sql`${id}`), sql`, `)}) order by id for key share`);
    await tx.execute(sql`select id from sellers where id in (${sql.join([...new Set(chunk.map((d) => d.sellerId))].sort().map((id) => sql`${id}`), sql`, `)}) order by id for key share`);
    await lockSellerFunds(tx, chunk.map((d) => d.sellerId), currency);
    const done = await tx.select({ id: orderSettlements.paymentOrderId }).from(orderSettlements).where(inArray(orderSettlements.paymentOrderId, chunk.map((d) => d.id)));
    const settledIds = new Set(done.map((r) => r.id));
    const todo = chunk.filter((d) => !settledIds.has(d.id)).sort((a, b) => (a.id < b.id ? -1 : 1));
    if (todo.length === 0) return 0;
    const pending = await pendingBalances(tx, todo.map((d) => d.sellerId), currency);
    const prior = await priorReleases(tx, todo);
    const rows: (typeof orderSettlements.$inferInsert)[] = [];
    const postings: { row: number; input: PostTransactionInput }[] = [];
    for (const d of todo) {
      const base = { paymentOrderId: d.id, sellerId: d.sellerId, currency, availableOn: d.availableOn, source: d.source };
      const released = prior.get(d.id);
      if (released) {
        // Released before (releaseToAvailable with this order's reference): recorded, never moved twice.
        rows.push({ ...base, amount: released.amount, ledgerTransactionId: released.id });
        continue;
      }
      const left = pending.get(d.sellerId) ?? 0n;
      const amount = min(pos(d.credit), pos(left));
      pending.set(d.sellerId, left - amount);
      rows.push({ ...base, amount, ledgerTransactionId: null });
      if (amount > 0n) postings.push({ row: rows.length - 1, input: settlementPosting({ sellerId: d.sellerId, amount: money(amount, d.currency), reference: releaseReference(d.id) }) });
    }
    if (postings.length > 0) {
      const posted = await postTransactions(tx, postings.map((p) => p.input));
      posted.forEach((t, i) => (rows[postings[i]!.row]!.ledgerTransactionId = t.id));
    }
    await tx.insert(orderSettlements).values(rows);
    return rows.length;
  });
}

/** The sellers' pending balances in `currency` now (materialized shards; one statement). */
async function pendingBalances(tx: Tx, sellerIds: string[], currency: CurrencyCode): Promise<Map<string, bigint>> {
  const rows = (await tx.execute(sql`
    select a.seller_id, (-coalesce(sum(b.balance), 0))::bigint as pending
    from ledger_accounts a left join ledger_balances b on b.account_id = a.id
    where a.kind = 'seller_payable_pending' and a.currency = ${currency}
      and a.seller_id in (${sql.join([...new Set(sellerIds)].map((id) => sql`${id}`), sql`, `)})
    group by a.seller_id`)) as unknown as Array<{ seller_id: string; pending: unknown }>;
  return new Map(rows.map((r) => [r.seller_id, BigInt(String(r.pending))]));
}

/** Releases already posted for these orders (releaseToAvailable's source id), with the amount they moved. */
async function priorReleases(tx: Tx, due: Due[]): Promise<Map<string, { id: string; amount: bigint }>> {
  const bySource = new Map(due.map((d) => [settlementSourceId(releaseReference(d.id), d.sellerId), d.id]));
  const rows = (await tx.execute(sql`
    select lt.id, lt.source_id, (select coalesce(-sum(e.amount), 0)::bigint from ledger_entries e
      join ledger_accounts la on la.id = e.account_id
      where e.transaction_id = lt.id and la.kind = 'seller_payable_available') as amount
    from ledger_transactions lt
    where lt.source = ${SETTLEMENT_SOURCE} and lt.source_id in (${sql.join([...bySource.keys()].map((k) => sql`${k}`), sql`, `)})`)) as unknown as Array<{ id: string; source_id: string; amount: unknown }>;
  return new Map(rows.map((r) => [bySource.get(r.source_id)!, { id: r.id, amount: BigInt(String(r.amount)) }]));
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);
const pos = (a: bigint) => (a > 0n ? a : 0n);
