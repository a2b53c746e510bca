// A payout's composition (docs/payouts.md "Composition"): what the seller's money was made of since their previous
// payout, frozen as payout_items when the payout is created, summing EXACTLY to its amount.
//
// The seller's net position (per currency) = pending + available - receivable (on hold excluded). A ledger
// transaction's position delta = -(sum of its entries on those three accounts). Read in ONE statement (one
// snapshot), under lockSellerFunds, after netSellerDebt:
//   - the position and the available balance;
//   - every transaction with a non-zero delta not yet itemized in a payout (anti-join on payout_items), except
//     the holds of payouts (wallet_hold.place with a payout id: a payout's own hold IS the payout);
//   - the previous payout's carried_forward, and what was settled in the last payout_delay_days (held back).
// Then: carried_over + sum(deltas) + carried_forward == amount, where carried_forward = -(position - amount) and
// carried_over = position - sum(deltas) — which is the previous payout's carried_forward (the position left after
// its hold) whenever the ledger and the items are consistent; a difference is logged, and the identity holds anyway.
import { sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import type { payoutItems } from "@/db/schema";
import { AppError } from "@/server/errors";
import { log } from "@/server/observability/log";
import { HOLD_SOURCE } from "@/server/wallet/holds";
import type { PayoutItemKind } from "./types";

export interface SnapshotTransaction {
  id: string;
  /** The seller's position delta (signed minor units). */
  delta: bigint;
  source: string;
  sourceId: string;
  /** metadata.reference (a hold's payout id). */
  reference: string | null;
  postedAt: Date;
  /** source payment_order: the order (our id, its amount, the merchant's payment_order_id). */
  orderId: string | null;
  orderAmount: bigint | null;
  orderPublicId: string | null;
}

export interface SellerSnapshot {
  sellerId: string;
  currency: string;
  available: bigint;
  /** pending + available - receivable */
  position: bigint;
  /** The previous payout's carried_forward column, null when the seller has had no payout in this currency. */
  previousCarriedForward: bigint | null;
  /** Available funds settled within the seller's payout_delay_days, not paid out yet (<= available). */
  heldBack: bigint;
  transactions: SnapshotTransaction[];
}

export interface SnapshotRequest {
  sellerId: string;
  currency: string;
  delayDays: number;
}

export const snapshotKey = (sellerId: string, currency: string) => `${sellerId}|${currency}`;

interface SnapshotRow {
  seller_id: string;
  currency: string;
  available: string;
  position: string;
  prev_cf: string | null;
  recently_settled: string;
  txns: Array<{ id: string; delta: string; source: string; sourceId: string; reference: string | null; postedAt: string; orderId: string | null; orderAmount: string | null; orderPublicId: string | null }> | string;
}

/** One statement, one snapshot, for every (seller, currency) asked. Call under lockSellerFunds for all of them. */
export async function readSellerSnapshots(tx: DbOrTx, requests: readonly SnapshotRequest[], now: Date): Promise<Map<string, SellerSnapshot>> {
  const out = new Map<string, SellerSnapshot>();
  if (requests.length === 0) return out;
  const input = JSON.stringify(requests.map((r) => ({ seller_id: r.sellerId, currency: r.currency, delay_days: r.delayDays })));
  const rows = (await tx.execute(sql`
    with p as (
      select x.seller_id, x.currency, x.delay_days from jsonb_to_recordset(${input}::jsonb) as x(seller_id text, currency text, delay_days int)
    ),
    acc as (
      select p.seller_id, p.currency, a.id as account_id, a.kind
      from p join ledger_accounts a on a.seller_id = p.seller_id and a.currency = p.currency
      where a.kind in ('seller_payable_pending', 'seller_payable_available', 'seller_receivable')
    ),
    bal as (
      select acc.seller_id, acc.currency,
        coalesce(sum(b.balance) filter (where acc.kind = 'seller_payable_available'), 0)::bigint as available_signed,
        coalesce(sum(b.balance), 0)::bigint as position_signed
      from acc join ledger_balances b on b.account_id = acc.account_id
      group by acc.seller_id, acc.currency
    ),
    deltas as (
      select acc.seller_id, acc.currency, e.transaction_id, sum(e.amount)::bigint as signed
      from acc join ledger_entries e on e.account_id = acc.account_id
      where not exists (
        select 1 from payout_items i where i.ledger_transaction_id = e.transaction_id and i.seller_id = acc.seller_id and i.currency = acc.currency
      )
      group by acc.seller_id, acc.currency, e.transaction_id
      having sum(e.amount) <> 0
    ),
    txns as (
      select d.seller_id, d.currency,
        json_agg(json_build_object(
          'id', t.id, 'delta', (-d.signed)::text, 'source', t.source, 'sourceId', t.source_id, 'reference', t.metadata->>'reference',
          'postedAt', t.posted_at, 'orderId', po.id, 'orderAmount', po.amount::text, 'orderPublicId', po.payment_order_id
        ) order by t.posted_at, t.id) as list
      from deltas d
      join ledger_transactions t on t.id = d.transaction_id
      left join payment_orders po on t.source = 'payment_order' and po.id = t.source_id
      where not (t.source = ${HOLD_SOURCE.place} and exists (select 1 from payouts py where py.id = t.source_id))
      group by d.seller_id, d.currency
    )
    select p.seller_id, p.currency,
      (-coalesce(bal.available_signed, 0))::text as available,
      (-coalesce(bal.position_signed, 0))::text as position,
      (select py.carried_forward::text from payouts py where py.seller_id = p.seller_id and py.currency = p.currency order by py.created_at desc, py.id desc limit 1) as prev_cf,
      (select coalesce(sum(s.amount), 0)::text from order_settlements s
        where p.delay_days > 0 and s.seller_id = p.seller_id and s.currency = p.currency
          and s.created_at > ${now.toISOString()}::timestamptz - make_interval(days => p.delay_days)) as recently_settled,
      coalesce(txns.list, '[]'::json) as txns
    from p
    left join bal on bal.seller_id = p.seller_id and bal.currency = p.currency
    left join txns on txns.seller_id = p.seller_id and txns.currency = p.currency
  `)) as unknown as SnapshotRow[];
  for (const r of rows) {
    const available = BigInt(r.available);
    const settled = BigInt(r.recently_settled);
    const list = typeof r.txns === "string" ? (JSON.parse(r.txns) as Exclude<SnapshotRow["txns"], string>) : r.txns;
    out.set(snapshotKey(r.seller_id, r.currency), {
      sellerId: r.seller_id,
      currency: r.currency,
      available,
      position: BigInt(r.position),
      previousCarriedForward: r.prev_cf === null ? null : BigInt(r.prev_cf),
      heldBack: settled < 0n ? 0n : settled > available ? available : settled,
      transactions: list.map((t) => ({
        id: t.id,
        delta: BigInt(t.delta),
        source: t.source,
        sourceId: t.sourceId,
        reference: t.reference,
        postedAt: new Date(t.postedAt),
        orderId: t.orderId,
        orderAmount: t.orderAmount === null ? null : BigInt(t.orderAmount),
        orderPublicId: t.orderPublicId,
      })),
    });
  }
  return out;
}

export type PayoutItemDraft = Omit<typeof payoutItems.$inferInsert, "id" | "payoutId">;

const ITEM_BY_SOURCE: Record<string, { kind: PayoutItemKind; sourceType: string; describe: (t: SnapshotTransaction) => string }> = {
  refund: { kind: "refund", sourceType: "refund", describe: (t) => `Refund ${t.sourceId}` },
  "refund.reversal": { kind: "refund", sourceType: "refund", describe: (t) => `Refund ${t.sourceId} reversed (it failed)` },
  "dispute.withdrawal": { kind: "dispute", sourceType: "dispute", describe: (t) => `Dispute ${t.sourceId}: funds withdrawn` },
  "dispute.reinstatement": { kind: "dispute_reversal", sourceType: "dispute", describe: (t) => `Dispute ${t.sourceId}: funds reinstated` },
  "wallet_hold.release": { kind: "payout_returned", sourceType: "payout", describe: (t) => `Payout ${t.reference ?? t.sourceId} not paid: funds returned` },
  "payout.returned": { kind: "payout_returned", sourceType: "payout", describe: (t) => `Payout ${t.sourceId} returned by the bank` },
};

/**
 * The items of a payout of `amount` from `snap`: carried_over, one or two per transaction, carried_forward.
 * Zero items are left out. Throws `internal` unless they sum exactly to `amount`.
 */
export function composeItems(snap: SellerSnapshot, amount: bigint, now: Date): PayoutItemDraft[] {
  const base = { sellerId: snap.sellerId, currency: snap.currency };
  const items: PayoutItemDraft[] = [];
  const push = (i: Omit<PayoutItemDraft, "sellerId" | "currency" | "position">) => {
    if (i.amount !== 0n) items.push({ ...base, ...i, position: items.length });
  };
  const sumDeltas = snap.transactions.reduce((s, t) => s + t.delta, 0n);
  const carriedOver = snap.position - sumDeltas;
  if (carriedOver !== (snap.previousCarriedForward ?? 0n)) {
    log.warn(
      { sellerId: snap.sellerId, currency: snap.currency, carriedOver: carriedOver.toString(), previousCarriedForward: (snap.previousCarriedForward ?? 0n).toString() },
      "payout composition: carried-over balance differs from the previous payout's carried_forward",
    );
  }
  push({ kind: "carried_over", amount: carriedOver, description: "Balance carried over from before", occurredAt: now });
  for (const t of snap.transactions) {
    const common = { ledgerTransactionId: t.id, occurredAt: t.postedAt };
    if (t.source === "payment_order" && t.orderId && t.orderAmount !== null) {
      const label = t.orderPublicId ?? t.orderId;
      push({ ...common, kind: "payment", amount: t.orderAmount, paymentOrderId: t.orderId, sourceType: "payment_order", sourceId: label, description: `Payment ${label}` });
      push({ ...common, kind: "fee", amount: t.delta - t.orderAmount, paymentOrderId: t.orderId, sourceType: "payment_order", sourceId: label, description: `Platform fee on ${label}` });
      continue;
    }
    const mapped = ITEM_BY_SOURCE[t.source];
    if (mapped) {
      const sourceId = mapped.sourceType === "payout" && t.source === "wallet_hold.release" ? (t.reference ?? t.sourceId) : t.sourceId;
      push({ ...common, kind: mapped.kind, amount: t.delta, sourceType: mapped.sourceType, sourceId, description: mapped.describe(t) });
    } else {
      push({ ...common, kind: "adjustment", amount: t.delta, sourceType: t.source, sourceId: t.sourceId, description: `Adjustment (${t.source} ${t.sourceId})` });
    }
  }
  push({ kind: "carried_forward", amount: -(snap.position - amount), description: "Balance carried forward to the next payout", occurredAt: now });
  const total = items.reduce((s, i) => s + i.amount, 0n);
  if (total !== amount) {
    throw new AppError("internal", `Payout composition of ${snap.sellerId} (${snap.currency}) sums to ${total}, not ${amount}`);
  }
  return items;
}
