import { and, asc, eq, inArray, or, sql, type SQL } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import {
  apiRequestLog,
  checkouts,
  checkoutTransitions,
  disputes,
  disputeTransitions,
  doubleCharges,
  idempotencyKeys,
  ledgerAccounts,
  ledgerEntries,
  ledgerTransactions,
  merchantEvents,
  merchants,
  paymentAttempts,
  paymentAttemptTransitions,
  paymentOrders,
  paymentOrderTransitions,
  pspAttempts,
  pspEvents,
  refunds,
  refundTransitions,
  riskDecisions,
  sellers,
  webhookDeliveries,
  webhookDeliveryAttempts,
  webhookEndpoints,
} from "@/db/schema";
import { decryptJson, FieldKeyMissingError } from "@/server/crypto/field";
import { AppError } from "@/server/errors";
import { transactionHash } from "@/server/ledger/hash";
import { isCurrencyCode } from "@/server/money/currencies";
import { getWallet } from "@/server/wallet/get-balance";
import { maskEmail } from "@/server/webhooks/redact-psp-payload";
import { platformFee } from "./apply-outcome";
import { LEDGER_SOURCE as DOUBLE_CHARGE_LEDGER_SOURCE } from "./double-charges";

// The payment detail page's one read (dashboard and ops): a checkout, all its orders with fee and net per
// seller, the payment method, and the full timeline of everything that happened to it — the API request
// that created it, the risk decision, every state transition, each PSP attempt and each call we made to the
// PSP, the PSP's webhooks, the ledger transactions with their hashes, the merchant webhooks sent with each
// delivery try, double charges. Read-only; no buyer data in clear (the email is masked; the clear read is
// readBuyerDetails, audited). Scoped: the dashboard passes the caller's merchant, and another merchant's id
// is not_found; ops pass none.

/** Rows read per timeline source: a runaway poll loop cannot make the page unbounded. */
export const TIMELINE_SOURCE_MAX = 200;
/** Ledger postings a checkout's orders and double charges are booked under. */
const ORDER_LEDGER_SOURCE = "payment_order";

export type TimelineKind =
  | "api_request"
  | "risk"
  | "transition"
  | "psp_attempt"
  | "psp_call"
  | "psp_webhook"
  | "ledger"
  | "webhook_out"
  | "double_charge"
  | "refund"
  | "dispute";

interface EntryBase {
  /** Stable key (the row's id), unique in the timeline. */
  id: string;
  at: Date;
}

export type TimelineEntry = EntryBase &
  (
    | {
        kind: "api_request";
        method: string;
        path: string;
        status: number | null;
        idempotencyKey: string | null;
        requestId: string | null;
        latencyMs: number | null;
        errorCode: string | null;
        /** api_request_log, or (older requests, before the log) the idempotency record. */
        source: "api_request_log" | "idempotency_key";
      }
    | { kind: "risk"; outcome: string; reasons: string[] }
    | { kind: "transition"; entity: "checkout" | "payment_order" | "payment_attempt"; entityLabel: string; from: string | null; to: string; reason: string }
    | {
        kind: "psp_attempt";
        attemptId: string;
        attemptNo: number;
        method: string;
        psp: string;
        status: string;
        pspReference: string | null;
        idempotencyKey: string;
        receipt: string | null;
        failure: { code: string; message: string | null } | null;
      }
    | {
        kind: "psp_call";
        psp: string;
        operation: string;
        outcome: string;
        responseStatus: number | null;
        errorCode: string | null;
        pspObjectId: string | null;
        pspRequestId: string | null;
        idempotencyKey: string | null;
        latencyMs: number;
      }
    | { kind: "psp_webhook"; psp: string; eventId: string; eventType: string; objectId: string | null; status: string; processedAt: Date | null }
    | {
        kind: "ledger";
        transactionId: string;
        ledger: string;
        chainSeq: bigint;
        source: string;
        sourceId: string;
        description: string;
        hash: string;
        prevHash: string;
        /** The stored row recomputes to its stored hash (its own content; `npm run ledger:verify` walks the chain). */
        hashVerified: boolean;
        entries: { line: number; accountKey: string; accountKind: string; currency: string; amount: bigint }[];
      }
    | {
        kind: "webhook_out";
        /** When the event was recorded (in the transaction of the fact); `at` is when it was first sent. */
        recordedAt: Date;
        eventId: string;
        eventType: string;
        objectId: string;
        sequence: bigint;
        deliveries: {
          deliveryId: string;
          endpointUrl: string;
          status: string;
          attempts: number;
          lastStatusCode: number | null;
          lastError: string | null;
          deliveredAt: Date | null;
          tries: { attemptNo: number; statusCode: number | null; error: string | null; durationMs: number; at: Date }[];
        }[];
      }
    | { kind: "double_charge"; doubleChargeId: string; psp: string; pspReference: string; receipt: string | null; amount: bigint; currency: string; status: string }
    | {
        kind: "refund";
        refundId: string;
        paymentOrderId: string;
        amount: bigint;
        currency: string;
        /** null: the refund was created (in `to`). */
        from: string | null;
        to: string;
        reason: string;
        pspRefundId: string | null;
        failureReason: string | null;
      }
    | { kind: "dispute"; disputeId: string; pspDisputeId: string; amount: bigint; currency: string; from: string | null; to: string; reason: string }
  );

export interface PaymentDetailOrder {
  id: string;
  paymentOrderId: string;
  position: number;
  seller: { id: string; reference: string; name: string };
  amount: bigint;
  currency: string;
  status: "NOT_STARTED" | "EXECUTING" | "SUCCESS" | "FAILED";
  psp: string | null;
  failure: { code: string; message: string | null } | null;
  /** Platform fee and seller net: as posted in the ledger once paid, else what the merchant's rate gives. */
  fee: bigint;
  net: bigint;
  feeSource: "ledger" | "rate";
  ledgerTransactionId: string | null;
  createdAt: Date;
  /** Refunds that count (pending, requires_action, succeeded: payment_orders.amount_refunded). */
  amountRefunded: bigint;
  /** What a new refund may still take: amount − amountRefunded when paid and no dispute blocks it, else 0. */
  refundable: bigint;
  /** Why nothing can be refunded now (shown beside the disabled Refund button), or null. */
  refundBlockedReason: string | null;
}

export interface PaymentDetailRefund {
  id: string;
  paymentOrderId: string;
  sellerReference: string;
  amount: bigint;
  currency: string;
  status: "pending" | "requires_action" | "succeeded" | "failed" | "canceled";
  reason: string | null;
  failureReason: string | null;
  failureMessage: string | null;
  platformFeeReturned: bigint;
  origin: string;
  psp: string;
  pspRefundId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface PaymentDetailDispute {
  id: string;
  pspDisputeId: string;
  status: string;
  reason: string;
  isInquiry: boolean;
  amount: bigint;
  fee: bigint;
  currency: string;
  evidenceDueBy: Date | null;
  createdAt: Date;
}

/** A seller of the checkout: their balances now, in the checkout's currency (server/wallet getWallet). */
export interface PaymentDetailSellerWallet {
  sellerId: string;
  reference: string;
  name: string;
  currency: string;
  available: bigint;
  pending: bigint;
  onHold: bigint;
  /** What the seller owes (refunds and disputes beyond their balance), netted from their next payout. */
  owed: bigint;
}

export interface PaymentMethodDetails {
  method: "card" | "mpesa";
  psp: string;
  pspReference: string | null;
  /** The PSP's receipt: Stripe charge id, M-Pesa receipt number. */
  receipt: string | null;
  card: { brand: string | null; last4: string | null } | null;
  /** The last 3 digits of the phone the STK push went to. */
  phoneHint: string | null;
}

export interface PaymentDetail {
  checkout: {
    id: string;
    merchantId: string;
    merchantName: string;
    status: string;
    currency: string;
    totalAmount: bigint;
    totalFee: bigint;
    totalNet: bigint;
    feeBps: number;
    buyer: { emailMasked: string | null; country: string | null };
    returnUrl: string;
    metadata: Record<string, string>;
    createdAt: Date;
    updatedAt: Date;
  };
  /** The merchant's payment_order_id the page was opened for, when opened by one. */
  focusPaymentOrderId: string | null;
  orders: PaymentDetailOrder[];
  /** The attempt that paid the checkout, else the latest one; null before any attempt. */
  method: PaymentMethodDetails | null;
  doubleCharges: { id: string; status: string; amount: bigint; currency: string; pspReference: string }[];
  /** Refunds of the checkout's orders, newest first; disputes of its charge, newest first. */
  refunds: PaymentDetailRefund[];
  disputes: PaymentDetailDispute[];
  sellerWallets: PaymentDetailSellerWallet[];
  timeline: TimelineEntry[];
  /** A timeline source hit TIMELINE_SOURCE_MAX rows: older entries of it are left out. */
  timelineTruncated: boolean;
}

type Scope = { merchantId: string | null };

/** By the merchant's own payment_order_id; another merchant's (or an unknown) id is not_found. */
export async function getPaymentDetailByOrder(db: DbOrTx, opts: { merchantId: string; paymentOrderId: string }): Promise<PaymentDetail> {
  const [o] = await db
    .select({ checkoutId: paymentOrders.checkoutId })
    .from(paymentOrders)
    .where(and(eq(paymentOrders.merchantId, opts.merchantId), eq(paymentOrders.paymentOrderId, opts.paymentOrderId)));
  if (!o) throw new AppError("not_found", `No payment order with payment_order_id "${opts.paymentOrderId}"`);
  return loadPaymentDetail(db, o.checkoutId, { merchantId: opts.merchantId }, opts.paymentOrderId);
}

/** By checkout id; `merchantId` null = ops (any merchant), else another merchant's checkout is not_found. */
export async function getPaymentDetailByCheckout(db: DbOrTx, opts: { checkoutId: string } & Scope): Promise<PaymentDetail> {
  return loadPaymentDetail(db, opts.checkoutId, opts, null);
}

async function loadPaymentDetail(db: DbOrTx, checkoutId: string, scope: Scope, focus: string | null): Promise<PaymentDetail> {
  const where = scope.merchantId === null ? eq(checkouts.id, checkoutId) : and(eq(checkouts.id, checkoutId), eq(checkouts.merchantId, scope.merchantId));
  const [row] = await db
    .select({ c: checkouts, merchantName: merchants.name, feeBps: merchants.platformFeeBps })
    .from(checkouts)
    .innerJoin(merchants, eq(merchants.id, checkouts.merchantId))
    .where(where);
  if (!row) throw new AppError("not_found", "Checkout not found");
  const c = row.c;
  const orderRows = await db
    .select({ o: paymentOrders, seller: { id: sellers.id, reference: sellers.reference, name: sellers.name } })
    .from(paymentOrders)
    .innerJoin(sellers, eq(sellers.id, paymentOrders.sellerId))
    .where(eq(paymentOrders.checkoutId, c.id))
    .orderBy(asc(paymentOrders.position), asc(paymentOrders.id));
  const attempts = await db.select().from(paymentAttempts).where(eq(paymentAttempts.checkoutId, c.id)).orderBy(asc(paymentAttempts.attemptNo));
  const dcs = await db.select().from(doubleCharges).where(eq(doubleCharges.checkoutId, c.id)).orderBy(asc(doubleCharges.createdAt));
  const refundRows = await db.select().from(refunds).where(eq(refunds.checkoutId, c.id)).orderBy(asc(refunds.createdAt), asc(refunds.id)).limit(TIMELINE_SOURCE_MAX);
  const disputeRows = await db.select().from(disputes).where(eq(disputes.checkoutId, c.id)).orderBy(asc(disputes.createdAt), asc(disputes.id)).limit(TIMELINE_SOURCE_MAX);
  const ledger = await loadLedger(db, [
    ...refundRows.flatMap((f) => [
      { source: "refund", sourceId: f.id },
      { source: "refund.reversal", sourceId: f.id },
    ]),
    ...disputeRows.flatMap((d) => [
      { source: "dispute.withdrawal", sourceId: d.id },
      { source: "dispute.reinstatement", sourceId: d.id },
    ]),
    ...orderRows.map((r) => ({ source: ORDER_LEDGER_SOURCE, sourceId: r.o.id })),
    ...dcs.flatMap((d) => [
      { source: DOUBLE_CHARGE_LEDGER_SOURCE, sourceId: d.id },
      { source: `${DOUBLE_CHARGE_LEDGER_SOURCE}.refund`, sourceId: d.id },
    ]),
  ]);
  const refundBlock = disputeRows.some((d) => REFUND_BLOCKING_DISPUTE_STATUSES.includes(d.status)) ? "A dispute is open on this payment: it cannot be refunded until the dispute is resolved." : null;
  const orders = orderRows.map((r) => presentDetailOrder(r.o, r.seller, row.feeBps, ledger.get(`${ORDER_LEDGER_SOURCE}:${r.o.id}`), refundBlock));
  const events = await loadPspEvents(db, attempts, refundRows.flatMap((f) => (f.pspRefundId ? [{ psp: f.psp as "stripe" | "mpesa", id: f.pspRefundId }] : [])));
  const sources = await Promise.all([
    apiRequestEntries(db, c.merchantId, c.id),
    riskEntries(db, c.id),
    transitionEntries(db, c.id, orderRows.map((r) => r.o), attempts),
    pspCallEntries(db, attempts),
    merchantEventEntries(db, c.merchantId, orderRows.map((r) => r.o.paymentOrderId), [...refundRows.map((f) => f.id), ...disputeRows.map((d) => d.id)]),
    refundEntries(db, refundRows, orderRows.map((r) => r.o)),
    disputeEntries(db, disputeRows),
  ]);
  const timeline: TimelineEntry[] = [
    ...sources.flatMap((s) => s.entries),
    ...attempts.map(attemptEntry),
    ...events.rows.map(pspEventEntry),
    ...[...ledger.values()].map((l) => l.entry),
    ...dcs.map(doubleChargeEntry),
  ].sort(byTime);
  const totalFee = orders.reduce((s, o) => s + o.fee, 0n);
  return {
    checkout: {
      id: c.id,
      merchantId: c.merchantId,
      merchantName: row.merchantName,
      status: c.status,
      currency: c.currency,
      totalAmount: c.totalAmount,
      totalFee,
      totalNet: orders.reduce((s, o) => s + o.net, 0n),
      feeBps: row.feeBps,
      buyer: { emailMasked: maskedBuyerEmail(c.buyerInfoEncrypted), country: c.buyerCountry },
      returnUrl: c.returnUrl,
      metadata: c.metadata,
      createdAt: c.createdAt,
      updatedAt: c.updatedAt,
    },
    focusPaymentOrderId: focus,
    orders,
    method: methodDetails(attempts, events.rows),
    doubleCharges: dcs.map((d) => ({ id: d.id, status: d.status, amount: d.amount, currency: d.currency, pspReference: d.pspReference })),
    refunds: refundRows
      .map((f) => presentDetailRefund(f, orderRows))
      .reverse(),
    disputes: disputeRows
      .map((d) => ({ id: d.id, pspDisputeId: d.pspDisputeId, status: d.status, reason: d.reason, isInquiry: d.isInquiry, amount: d.amount, fee: d.fee, currency: d.currency, evidenceDueBy: d.evidenceDueBy, createdAt: d.createdAt }))
      .reverse(),
    sellerWallets: await sellerWallets(db, orderRows.map((r) => r.seller), c.currency),
    timeline,
    timelineTruncated: events.truncated || sources.some((s) => s.truncated),
  };
}

// Same instant: the order things happen in (request → risk → attempt → PSP → ledger → webhook out).
const KIND_ORDER: Record<TimelineKind, number> = { api_request: 0, risk: 1, transition: 2, psp_attempt: 3, psp_call: 4, psp_webhook: 5, refund: 6, dispute: 6, ledger: 7, webhook_out: 8, double_charge: 9 };
function byTime(a: TimelineEntry, b: TimelineEntry): number {
  return a.at.getTime() - b.at.getTime() || KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

type LedgerLoaded = { entry: Extract<TimelineEntry, { kind: "ledger" }>; fee: bigint; net: bigint };

async function loadLedger(db: DbOrTx, keys: { source: string; sourceId: string }[]): Promise<Map<string, LedgerLoaded>> {
  const out = new Map<string, LedgerLoaded>();
  if (keys.length === 0) return out;
  const match = or(...keys.map((k) => and(eq(ledgerTransactions.source, k.source), eq(ledgerTransactions.sourceId, k.sourceId))))!;
  const txs = await db.select().from(ledgerTransactions).where(match).orderBy(asc(ledgerTransactions.postedAt), asc(ledgerTransactions.id)).limit(TIMELINE_SOURCE_MAX);
  if (txs.length === 0) return out;
  const entries = await db
    .select({ transactionId: ledgerEntries.transactionId, line: ledgerEntries.line, accountId: ledgerEntries.accountId, accountKey: ledgerAccounts.key, accountKind: ledgerAccounts.kind, accountCurrency: ledgerAccounts.currency, currency: ledgerEntries.currency, amount: ledgerEntries.amount })
    .from(ledgerEntries)
    .innerJoin(ledgerAccounts, eq(ledgerAccounts.id, ledgerEntries.accountId))
    .where(inArray(ledgerEntries.transactionId, txs.map((t) => t.id)))
    .orderBy(asc(ledgerEntries.transactionId), asc(ledgerEntries.line));
  for (const t of txs) {
    const own = entries.filter((e) => e.transactionId === t.id);
    const hashVerified = transactionHash(t.prevHash, { ...t, entries: own }) === t.hash;
    // Credits are negative: the fee and the seller's net are the credits to those accounts.
    const credit = (kind: string) => -own.filter((e) => e.accountKind === kind).reduce((s, e) => s + e.amount, 0n);
    out.set(`${t.source}:${t.sourceId}`, {
      fee: credit("platform_fees"),
      net: credit("seller_payable_pending"),
      entry: {
        kind: "ledger",
        id: t.id,
        at: t.postedAt,
        transactionId: t.id,
        ledger: t.ledger,
        chainSeq: t.chainSeq,
        source: t.source,
        sourceId: t.sourceId,
        description: t.description,
        hash: t.hash,
        prevHash: t.prevHash,
        hashVerified,
        entries: own.map((e) => ({ line: e.line, accountKey: e.accountKey, accountKind: e.accountKind, currency: e.currency, amount: e.amount })),
      },
    });
  }
  return out;
}

function presentDetailOrder(o: typeof paymentOrders.$inferSelect, seller: PaymentDetailOrder["seller"], feeBps: number, posted: LedgerLoaded | undefined, disputeBlock: string | null): PaymentDetailOrder {
  const fee = posted ? posted.fee : platformFee(o.amount, feeBps);
  const left = o.amount - o.amountRefunded;
  const refundBlockedReason =
    o.status !== "SUCCESS" ? "Only a paid payment order can be refunded." : left <= 0n ? "This payment order is refunded in full." : disputeBlock;
  return {
    id: o.id,
    paymentOrderId: o.paymentOrderId,
    position: o.position,
    seller,
    amount: o.amount,
    currency: o.currency,
    status: o.status,
    psp: o.psp,
    failure: o.failureCode ? { code: o.failureCode, message: o.failureMessage } : null,
    fee,
    net: posted ? posted.net : o.amount - fee,
    feeSource: posted ? "ledger" : "rate",
    ledgerTransactionId: posted?.entry.transactionId ?? null,
    createdAt: o.createdAt,
    amountRefunded: o.amountRefunded,
    refundable: refundBlockedReason ? 0n : left,
    refundBlockedReason,
  };
}

/** A dispute in these statuses blocks refunds of its checkout (charge_disputed); inquiries (warning_*) do not. */
const REFUND_BLOCKING_DISPUTE_STATUSES: readonly string[] = ["needs_response", "under_review", "lost"];

function presentDetailRefund(f: typeof refunds.$inferSelect, orderRows: { o: typeof paymentOrders.$inferSelect; seller: { reference: string } }[]): PaymentDetailRefund {
  const order = orderRows.find((r) => r.o.id === f.paymentOrderId);
  return {
    id: f.id,
    paymentOrderId: order?.o.paymentOrderId ?? f.paymentOrderId,
    sellerReference: order?.seller.reference ?? "",
    amount: f.amount,
    currency: f.currency,
    status: f.status,
    reason: f.reason,
    failureReason: f.failureReason,
    failureMessage: f.failureMessage,
    platformFeeReturned: f.platformFeeReturned,
    origin: f.origin,
    psp: f.psp,
    pspRefundId: f.pspRefundId,
    createdAt: f.createdAt,
    updatedAt: f.updatedAt,
  };
}

/** Each seller of the checkout once, with their balances now (one statement each). */
async function sellerWallets(db: DbOrTx, sellersOfCheckout: { id: string; reference: string; name: string }[], currency: string): Promise<PaymentDetailSellerWallet[]> {
  if (!isCurrencyCode(currency)) return [];
  const unique = [...new Map(sellersOfCheckout.map((s) => [s.id, s])).values()];
  return Promise.all(
    unique.map(async (s) => {
      const w = await getWallet(db, s.id, currency);
      return { sellerId: s.id, reference: s.reference, name: s.name, currency, available: w.available.amount, pending: w.pending.amount, onHold: w.onHold.amount, owed: w.owed.amount };
    }),
  );
}

/** Each refund's creation and every move of its status (refund_transitions; a creation without its own row is the refund's). */
async function refundEntries(db: DbOrTx, rows: (typeof refunds.$inferSelect)[], orders: (typeof paymentOrders.$inferSelect)[]): Promise<Sourced> {
  if (rows.length === 0) return sourced([]);
  const moves = await db.select().from(refundTransitions).where(inArray(refundTransitions.refundId, rows.map((f) => f.id))).orderBy(asc(refundTransitions.at), asc(refundTransitions.id)).limit(TIMELINE_SOURCE_MAX);
  const label = new Map(orders.map((o) => [o.id, o.paymentOrderId]));
  const byId = new Map(rows.map((f) => [f.id, f]));
  const base = (f: typeof refunds.$inferSelect) => ({ kind: "refund" as const, refundId: f.id, paymentOrderId: label.get(f.paymentOrderId) ?? f.paymentOrderId, amount: f.amount, currency: f.currency, pspRefundId: f.pspRefundId });
  const created = rows
    .filter((f) => !moves.some((m) => m.refundId === f.id && m.fromStatus === null))
    .map((f) => ({ ...base(f), id: `created:${f.id}`, at: f.createdAt, from: null, to: "pending", reason: f.reason ? `created (${f.reason})` : "created", failureReason: null }));
  const moved = moves.map((m) => {
    const f = byId.get(m.refundId)!;
    return { ...base(f), id: m.id, at: m.at, from: m.fromStatus, to: m.toStatus, reason: m.reason, failureReason: m.toStatus === "failed" || m.toStatus === "canceled" ? f.failureReason : null };
  });
  return { entries: [...created, ...moved], truncated: rows.length >= TIMELINE_SOURCE_MAX || moves.length >= TIMELINE_SOURCE_MAX };
}

/** Each dispute's opening and every move of its status (dispute_transitions). */
async function disputeEntries(db: DbOrTx, rows: (typeof disputes.$inferSelect)[]): Promise<Sourced> {
  if (rows.length === 0) return sourced([]);
  const moves = await db.select().from(disputeTransitions).where(inArray(disputeTransitions.disputeId, rows.map((d) => d.id))).orderBy(asc(disputeTransitions.at), asc(disputeTransitions.id)).limit(TIMELINE_SOURCE_MAX);
  const byId = new Map(rows.map((d) => [d.id, d]));
  return {
    entries: moves.map((m) => {
      const d = byId.get(m.disputeId)!;
      return { kind: "dispute" as const, id: m.id, at: m.at, disputeId: d.id, pspDisputeId: d.pspDisputeId, amount: d.amount, currency: d.currency, from: m.fromStatus, to: m.toStatus, reason: m.reason };
    }),
    truncated: rows.length >= TIMELINE_SOURCE_MAX || moves.length >= TIMELINE_SOURCE_MAX,
  };
}

type Sourced = { entries: TimelineEntry[]; truncated: boolean };
const sourced = (entries: TimelineEntry[]): Sourced => ({ entries, truncated: entries.length >= TIMELINE_SOURCE_MAX });

async function apiRequestEntries(db: DbOrTx, merchantId: string, checkoutId: string): Promise<Sourced> {
  const logged = await db
    .select()
    .from(apiRequestLog)
    .where(and(eq(apiRequestLog.merchantId, merchantId), eq(apiRequestLog.checkoutId, checkoutId)))
    .orderBy(asc(apiRequestLog.createdAt), asc(apiRequestLog.id))
    .limit(TIMELINE_SOURCE_MAX);
  if (logged.length > 0) {
    return sourced(
      logged.map((r) => ({
        kind: "api_request",
        id: r.id,
        // The row is written as the answer leaves: the request arrived latency_ms before (ahead of the risk decision it caused).
        at: new Date(r.createdAt.getTime() - Math.max(0, r.latencyMs)),
        method: r.method,
        path: r.path,
        status: r.status,
        idempotencyKey: r.idempotencyKey,
        requestId: r.requestId,
        latencyMs: r.latencyMs,
        errorCode: r.errorCode,
        source: "api_request_log",
      })),
    );
  }
  // Before the request log (or past its retention): the idempotency record of the create call, while kept.
  const names: SQL = or(
    sql`${idempotencyKeys.recoveryData} ->> 'checkoutId' = ${checkoutId}`,
    sql`${idempotencyKeys.recoveryData} ->> 'checkout_id' = ${checkoutId}`,
    sql`strpos(${idempotencyKeys.responseText}, ${`"checkout_id":"${checkoutId}"`}) > 0`,
  )!;
  const keys = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.merchantId, merchantId), names))
    .orderBy(asc(idempotencyKeys.createdAt))
    .limit(TIMELINE_SOURCE_MAX);
  return sourced(
    keys.map((k) => ({
      kind: "api_request",
      id: `idem:${k.key}`,
      at: k.createdAt,
      method: k.method,
      path: k.path,
      status: k.responseStatus,
      idempotencyKey: k.key,
      requestId: null,
      latencyMs: null,
      errorCode: null,
      source: "idempotency_key",
    })),
  );
}

async function riskEntries(db: DbOrTx, checkoutId: string): Promise<Sourced> {
  const rows = await db.select().from(riskDecisions).where(eq(riskDecisions.checkoutId, checkoutId)).orderBy(asc(riskDecisions.createdAt)).limit(TIMELINE_SOURCE_MAX);
  return sourced(rows.map((r) => ({ kind: "risk", id: r.id, at: r.createdAt, outcome: r.outcome, reasons: r.reasons.map((x) => x.reason) })));
}

async function transitionEntries(db: DbOrTx, checkoutId: string, orders: (typeof paymentOrders.$inferSelect)[], attempts: (typeof paymentAttempts.$inferSelect)[]): Promise<Sourced> {
  const orderLabel = new Map(orders.map((o) => [o.id, o.paymentOrderId]));
  const attemptLabel = new Map(attempts.map((a) => [a.id, `attempt #${a.attemptNo}`]));
  const [ck, po, at] = await Promise.all([
    db.select().from(checkoutTransitions).where(eq(checkoutTransitions.checkoutId, checkoutId)).orderBy(asc(checkoutTransitions.at)).limit(TIMELINE_SOURCE_MAX),
    orders.length ? db.select().from(paymentOrderTransitions).where(inArray(paymentOrderTransitions.paymentOrderId, [...orderLabel.keys()])).orderBy(asc(paymentOrderTransitions.at)).limit(TIMELINE_SOURCE_MAX) : [],
    attempts.length ? db.select().from(paymentAttemptTransitions).where(inArray(paymentAttemptTransitions.attemptId, [...attemptLabel.keys()])).orderBy(asc(paymentAttemptTransitions.at)).limit(TIMELINE_SOURCE_MAX) : [],
  ]);
  const move = (t: { id: string; at: Date; fromStatus: string | null; toStatus: string; reason: string }) => ({ id: t.id, at: t.at, from: t.fromStatus, to: t.toStatus, reason: t.reason });
  return {
    entries: [
      ...ck.map((t) => ({ kind: "transition" as const, entity: "checkout" as const, entityLabel: "checkout", ...move(t) })),
      ...po.map((t) => ({ kind: "transition" as const, entity: "payment_order" as const, entityLabel: orderLabel.get(t.paymentOrderId) ?? t.paymentOrderId, ...move(t) })),
      ...at.map((t) => ({ kind: "transition" as const, entity: "payment_attempt" as const, entityLabel: attemptLabel.get(t.attemptId) ?? t.attemptId, ...move(t) })),
    ],
    truncated: [ck, po, at].some((l) => l.length >= TIMELINE_SOURCE_MAX),
  };
}

function attemptEntry(a: typeof paymentAttempts.$inferSelect): TimelineEntry {
  return {
    kind: "psp_attempt",
    id: a.id,
    at: a.createdAt,
    attemptId: a.id,
    attemptNo: a.attemptNo,
    method: a.method,
    psp: a.psp,
    status: a.status,
    pspReference: a.pspReference,
    idempotencyKey: a.idempotencyKey,
    receipt: a.receipt,
    failure: a.failureCode ? { code: a.failureCode, message: a.failureMessage } : null,
  };
}

/** Our calls to the PSP for the attempts: by the attempt's idempotency key (create) or its PSP object (reads, confirms). */
async function pspCallEntries(db: DbOrTx, attempts: (typeof paymentAttempts.$inferSelect)[]): Promise<Sourced> {
  const keyed = attempts.map((a) => and(eq(pspAttempts.psp, a.psp as "stripe" | "mpesa"), eq(pspAttempts.idempotencyKey, a.idempotencyKey)));
  const byObject = attempts.filter((a) => a.pspReference).map((a) => and(eq(pspAttempts.psp, a.psp as "stripe" | "mpesa"), eq(pspAttempts.pspObjectId, a.pspReference!)));
  const conds = [...keyed, ...byObject];
  if (conds.length === 0) return sourced([]);
  const rows = await db.select().from(pspAttempts).where(or(...conds)).orderBy(asc(pspAttempts.createdAt), asc(pspAttempts.id)).limit(TIMELINE_SOURCE_MAX);
  return sourced(
    rows.map((r) => ({
      kind: "psp_call",
      id: r.id,
      at: r.createdAt,
      psp: r.psp,
      operation: r.operation,
      outcome: r.outcome,
      responseStatus: r.responseStatus,
      errorCode: r.errorCode,
      pspObjectId: r.pspObjectId,
      pspRequestId: r.pspRequestId,
      idempotencyKey: r.idempotencyKey,
      latencyMs: r.latencyMs,
    })),
  );
}

type PspEventRow = typeof pspEvents.$inferSelect;

/**
 * The PSP's events about the attempts' payments: by PSP object (the PaymentIntent or STK CheckoutRequestID, and
 * the Stripe charge that is the receipt), plus Daraja's status results that verified those STK callbacks.
 */
async function loadPspEvents(db: DbOrTx, attempts: (typeof paymentAttempts.$inferSelect)[], more: { psp: "stripe" | "mpesa"; id: string }[] = []): Promise<{ rows: PspEventRow[]; truncated: boolean }> {
  const objects = [...attempts.flatMap((a) => [a.pspReference, a.receipt].filter((x): x is string => Boolean(x)).map((id) => ({ psp: a.psp as "stripe" | "mpesa", id }))), ...more];
  if (objects.length === 0) return { rows: [], truncated: false };
  const first = await db
    .select()
    .from(pspEvents)
    .where(or(...objects.map((o) => and(eq(pspEvents.psp, o.psp), eq(pspEvents.objectId, o.id)))))
    .orderBy(asc(pspEvents.receivedAt), asc(pspEvents.id))
    .limit(TIMELINE_SOURCE_MAX);
  const stk = first.filter((e) => e.psp === "mpesa" && e.eventType === "stk.callback");
  const verifications = stk.length
    ? await db.select().from(pspEvents).where(and(eq(pspEvents.psp, "mpesa"), inArray(pspEvents.objectId, stk.map((e) => `verify_${e.id}`)))).limit(TIMELINE_SOURCE_MAX)
    : [];
  return { rows: [...first, ...verifications], truncated: first.length >= TIMELINE_SOURCE_MAX || verifications.length >= TIMELINE_SOURCE_MAX };
}

function pspEventEntry(e: PspEventRow): TimelineEntry {
  return { kind: "psp_webhook", id: e.id, at: e.receivedAt, psp: e.psp, eventId: e.eventId, eventType: e.eventType, objectId: e.objectId, status: e.status, processedAt: e.processedAt };
}

/** The merchant events about the orders (and their refunds and disputes), each with its deliveries and every try of each delivery. */
async function merchantEventEntries(db: DbOrTx, merchantId: string, paymentOrderIds: string[], refundAndDisputeIds: string[] = []): Promise<Sourced> {
  if (paymentOrderIds.length === 0) return sourced([]);
  const about = or(
    and(inArray(merchantEvents.objectId, paymentOrderIds), inArray(merchantEvents.type, ["payment_order.succeeded", "payment_order.failed"])),
    refundAndDisputeIds.length ? inArray(merchantEvents.objectId, refundAndDisputeIds) : undefined,
  );
  const evts = await db
    .select()
    .from(merchantEvents)
    .where(and(eq(merchantEvents.merchantId, merchantId), about))
    .orderBy(asc(merchantEvents.createdAt), asc(merchantEvents.id))
    .limit(TIMELINE_SOURCE_MAX);
  if (evts.length === 0) return sourced([]);
  const deliveries = await db
    .select({ d: webhookDeliveries, url: webhookEndpoints.url })
    .from(webhookDeliveries)
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
    .where(inArray(webhookDeliveries.eventId, evts.map((e) => e.id)))
    .orderBy(asc(webhookDeliveries.createdAt), asc(webhookDeliveries.id))
    .limit(TIMELINE_SOURCE_MAX);
  const tries = deliveries.length
    ? await db
        .select()
        .from(webhookDeliveryAttempts)
        .where(inArray(webhookDeliveryAttempts.deliveryId, deliveries.map((d) => d.d.id)))
        .orderBy(asc(webhookDeliveryAttempts.deliveryId), asc(webhookDeliveryAttempts.attemptNo))
        .limit(TIMELINE_SOURCE_MAX * 4)
    : [];
  return sourced(evts.map((e) => presentMerchantEvent(e, deliveries, tries)));
}

type DeliveryRow = { d: typeof webhookDeliveries.$inferSelect; url: string };

/** Placed when it was first sent (the fan-out runs after the fact commits), else when it was recorded. */
function presentMerchantEvent(e: typeof merchantEvents.$inferSelect, deliveries: DeliveryRow[], tries: (typeof webhookDeliveryAttempts.$inferSelect)[]): TimelineEntry {
  const own = deliveries.filter((d) => d.d.eventId === e.id);
  const ownTries = tries.filter((x) => own.some((d) => d.d.id === x.deliveryId));
  const firstSent = [...ownTries.map((x) => x.createdAt), ...own.map((d) => d.d.createdAt)].sort((a, b) => a.getTime() - b.getTime())[0];
  return {
    kind: "webhook_out",
    id: e.id,
    at: firstSent ?? e.createdAt,
    recordedAt: e.createdAt,
    eventId: e.id,
    eventType: e.type,
    objectId: e.objectId,
    sequence: e.sequence,
    deliveries: own.map(({ d, url }) => ({
      deliveryId: d.id,
      endpointUrl: url,
      status: d.status,
      attempts: d.attempts,
      lastStatusCode: d.lastStatusCode,
      lastError: d.lastError,
      deliveredAt: d.deliveredAt,
      tries: ownTries.filter((x) => x.deliveryId === d.id).map((x) => ({ attemptNo: x.attemptNo, statusCode: x.statusCode, error: x.error, durationMs: x.durationMs, at: x.createdAt })),
    })),
  };
}

function doubleChargeEntry(d: typeof doubleCharges.$inferSelect): TimelineEntry {
  return { kind: "double_charge", id: d.id, at: d.createdAt, doubleChargeId: d.id, psp: d.psp, pspReference: d.pspReference, receipt: d.receipt, amount: d.amount, currency: d.currency, status: d.status };
}

/** Card brand and last 4 digits from the PSP's charge in a stored event (never the card number): attempts paid before
 *  the attempt kept them (payment_attempts.card_last4). */
function cardFromEvents(events: PspEventRow[], receipt: string | null): PaymentMethodDetails["card"] {
  const charge = events.find((e) => e.psp === "stripe" && e.eventType.startsWith("charge.") && (!receipt || e.objectId === receipt));
  const obj = (charge?.payload as { data?: { object?: { payment_method_details?: { card?: { brand?: unknown; last4?: unknown } } } } } | undefined)?.data?.object;
  const card = obj?.payment_method_details?.card;
  const str = (v: unknown) => (typeof v === "string" && v.length > 0 && v.length <= 32 ? v : null);
  const last4 = str(card?.last4);
  return { brand: str(card?.brand), last4: last4 && /^\d{4}$/.test(last4) ? last4 : null };
}

function methodDetails(attempts: (typeof paymentAttempts.$inferSelect)[], events: PspEventRow[]): PaymentMethodDetails | null {
  const paid = attempts.find((a) => a.status === "succeeded") ?? attempts[attempts.length - 1];
  if (!paid) return null;
  return {
    method: paid.method,
    psp: paid.psp,
    pspReference: paid.pspReference,
    receipt: paid.receipt,
    card: paid.method !== "card" ? null : paid.cardLast4 ? { brand: paid.cardBrand, last4: paid.cardLast4 } : cardFromEvents(events.filter((e) => e.objectId === paid.pspReference || e.objectId === paid.receipt), paid.receipt),
    phoneHint: paid.method === "mpesa" ? paid.phoneHint : null,
  };
}

/** `j***@example.com`: a hint, not buyer data in clear (that read is readBuyerDetails, audited). */
function maskedBuyerEmail(envelope: string): string | null {
  try {
    const email = decryptJson<{ email?: string }>(envelope).email;
    return email ? maskEmail(email) : null;
  } catch (err) {
    // A key the app no longer holds: the page still shows the payment, without the hint.
    if (err instanceof FieldKeyMissingError) return null;
    throw err;
  }
}
