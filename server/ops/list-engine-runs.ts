import { and, eq, inArray, isNull, or, sql, type SQL } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { checkouts, engineDeadLetters, engineRuns, merchantEvents, paymentAttempts, paymentOrders, pspEvents, webhookDeliveries, type EngineRunStatus } from "@/db/schema";
import { readKeysetPage, type KeysetInput } from "./keyset-page";

// The ops view of the local engine's runs and dead letters (/ops/runs): keyset paged, filtered by status and
// function, and searched by run id or by payment. A run's event names no checkout: its data carries the ids of
// what it works on (attemptId, pspReference, storedEventId, eventId of a merchant event, deliveryId; for
// inngest/function.failed and .cancelled the same under data.event.data). So a payment order id or checkout id
// is first resolved to every such id of its checkout, then runs are matched on those keys. Each row carries the
// checkout its event belongs to, for the link to /ops/payments/<checkoutId>.

/** Bounds on what one payment search resolves to (a checkout has a handful of attempts and events). */
export const RUN_SEARCH_CHECKOUTS_MAX = 20;
export const RUN_SEARCH_IDS_MAX = 500;
/** Runs start after their checkout: the search skips older runs (the created_at index), with some slack for clocks. */
const RUN_SEARCH_SLACK = "5 minutes";

export interface RunFilters {
  status?: EngineRunStatus;
  functionId?: string;
  /** A run id, a payment order id (ours po_… or the merchant's own), a checkout id, an attempt id or a PSP reference. */
  search?: string;
}

interface PaymentRefs {
  checkoutIds: string[];
  since: Date;
  attemptIds: string[];
  pspReferences: string[];
  storedEventIds: string[];
  merchantEventIds: string[];
  deliveryIds: string[];
}

/** Every id a run's event may carry for the checkout(s) `q` names; null when it names no payment. */
async function paymentRefsFor(db: DbOrTx, q: string): Promise<PaymentRefs | null> {
  const named = await db
    .selectDistinct({ id: checkouts.id, createdAt: checkouts.createdAt })
    .from(checkouts)
    .leftJoin(paymentOrders, eq(paymentOrders.checkoutId, checkouts.id))
    .leftJoin(paymentAttempts, eq(paymentAttempts.checkoutId, checkouts.id))
    .where(or(eq(checkouts.id, q), eq(paymentOrders.id, q), eq(paymentOrders.paymentOrderId, q), eq(paymentAttempts.id, q), eq(paymentAttempts.pspReference, q)))
    .limit(RUN_SEARCH_CHECKOUTS_MAX);
  if (named.length === 0) return null;
  const checkoutIds = named.map((c) => c.id);
  const since = new Date(Math.min(...named.map((c) => c.createdAt.getTime())));
  const [attempts, orders] = await Promise.all([
    db.select({ id: paymentAttempts.id, psp: paymentAttempts.psp, ref: paymentAttempts.pspReference }).from(paymentAttempts).where(inArray(paymentAttempts.checkoutId, checkoutIds)).limit(RUN_SEARCH_IDS_MAX),
    db.select({ merchantId: paymentOrders.merchantId, orderId: paymentOrders.paymentOrderId }).from(paymentOrders).where(inArray(paymentOrders.checkoutId, checkoutIds)).limit(RUN_SEARCH_IDS_MAX),
  ]);
  const pspReferences = attempts.flatMap((a) => (a.ref ? [a.ref] : []));
  const [stored, events] = await Promise.all([
    pspReferences.length ? db.select({ id: pspEvents.id }).from(pspEvents).where(inArray(pspEvents.objectId, pspReferences)).limit(RUN_SEARCH_IDS_MAX) : Promise.resolve([]),
    orders.length
      ? db
          .select({ id: merchantEvents.id })
          .from(merchantEvents)
          .where(or(...orders.map((o) => and(eq(merchantEvents.merchantId, o.merchantId), eq(merchantEvents.objectId, o.orderId)))))
          .limit(RUN_SEARCH_IDS_MAX)
      : Promise.resolve([]),
  ]);
  const merchantEventIds = events.map((e) => e.id);
  const deliveries = merchantEventIds.length
    ? await db.select({ id: webhookDeliveries.id }).from(webhookDeliveries).where(inArray(webhookDeliveries.eventId, merchantEventIds)).limit(RUN_SEARCH_IDS_MAX)
    : [];
  return {
    checkoutIds,
    since,
    attemptIds: attempts.map((a) => a.id),
    pspReferences,
    storedEventIds: stored.map((s) => s.id),
    merchantEventIds,
    deliveryIds: deliveries.map((d) => d.id),
  };
}

/** The run's own event data and, for lifecycle events (function.failed / .cancelled), the original event's. */
const dataOf = [sql`(${engineRuns.event}->'data')`, sql`(${engineRuns.event}->'data'->'event'->'data')`];

function matchesPayment(refs: PaymentRefs): SQL {
  const keyed: [string, string[]][] = [
    ["checkoutId", refs.checkoutIds],
    ["attemptId", refs.attemptIds],
    ["pspReference", refs.pspReferences],
    ["storedEventId", refs.storedEventIds],
    ["eventId", refs.merchantEventIds],
    ["deliveryId", refs.deliveryIds],
  ];
  const tests = dataOf.flatMap((d) => keyed.filter(([, ids]) => ids.length > 0).map(([key, ids]) => inArray(sql`${d}->>${sql.raw(`'${key}'`)}`, ids)));
  return and(sql`${engineRuns.createdAt} >= ${refs.since.toISOString()}::timestamptz - ${RUN_SEARCH_SLACK}::interval`, or(...tests))!;
}

async function searchCondition(db: DbOrTx, search: string | undefined): Promise<SQL | undefined> {
  const q = search?.trim();
  if (!q) return undefined;
  const refs = await paymentRefsFor(db, q);
  return or(eq(engineRuns.id, q), eq(engineRuns.replayOf, q), refs ? matchesPayment(refs) : undefined);
}

/** The checkout a run's event is about, resolved through the ids its data carries; null for runs about no payment. */
const d = sql`coalesce(${engineRuns.event}->'data'->'event'->'data', ${engineRuns.event}->'data')`;
export const runCheckoutId = sql<string | null>`coalesce(
  ${d}->>'checkoutId',
  (select pa.checkout_id from payment_attempts pa where pa.id = ${d}->>'attemptId'),
  (select pa.checkout_id from payment_attempts pa where pa.psp = ${d}->>'psp' and pa.psp_reference = ${d}->>'pspReference' order by pa.created_at desc limit 1),
  (select pa.checkout_id from psp_events pe join payment_attempts pa on pa.psp = pe.psp::text and pa.psp_reference = pe.object_id
     where pe.id = ${d}->>'storedEventId' order by pa.created_at desc limit 1),
  (select po.checkout_id from merchant_events me join payment_orders po on po.merchant_id = me.merchant_id and po.payment_order_id = me.object_id
     where me.id = ${d}->>'eventId' limit 1),
  (select po.checkout_id from webhook_deliveries wd join merchant_events me on me.id = wd.event_id
     join payment_orders po on po.merchant_id = me.merchant_id and po.payment_order_id = me.object_id where wd.id = ${d}->>'deliveryId' limit 1)
)`;

const runColumns = {
  id: engineRuns.id,
  functionId: engineRuns.functionId,
  status: engineRuns.status,
  eventName: sql<string>`${engineRuns.event}->>'name'`,
  error: engineRuns.error,
  createdAt: engineRuns.createdAt,
  endedAt: engineRuns.endedAt,
  replayOf: engineRuns.replayOf,
  attempts: sql<number>`(select count(*)::int from engine_attempts a where a.run_id = engine_runs.id)`,
  checkoutId: runCheckoutId,
};

export async function listEngineRuns(db: DbOrTx, input: RunFilters & KeysetInput) {
  const filters = and(
    input.status ? eq(engineRuns.status, input.status) : undefined,
    input.functionId ? eq(engineRuns.functionId, input.functionId) : undefined,
    await searchCondition(db, input.search),
  );
  return readKeysetPage(
    db,
    { table: engineRuns, at: engineRuns.createdAt, id: engineRuns.id },
    input,
    ({ where, orderBy, limit }) =>
      db
        .select(runColumns)
        .from(engineRuns)
        .where(and(filters, where))
        .orderBy(...orderBy)
        .limit(limit),
    (r) => r.id,
  );
}

export async function listEngineDeadLetters(db: DbOrTx, input: { includeReplayed: boolean; functionId?: string; search?: string } & KeysetInput) {
  const filters = and(
    input.includeReplayed ? undefined : isNull(engineDeadLetters.replayedRunId),
    input.functionId ? eq(engineDeadLetters.functionId, input.functionId) : undefined,
    await searchCondition(db, input.search),
  );
  return readKeysetPage(
    db,
    { table: engineDeadLetters, at: engineDeadLetters.failedAt, id: engineDeadLetters.runId },
    input,
    ({ where, orderBy, limit }) =>
      db
        .select({
          runId: engineDeadLetters.runId,
          functionId: engineDeadLetters.functionId,
          error: engineDeadLetters.error,
          failedAt: engineDeadLetters.failedAt,
          replayedRunId: engineDeadLetters.replayedRunId,
          replayedAt: engineDeadLetters.replayedAt,
          eventName: sql<string>`${engineRuns.event}->>'name'`,
          checkoutId: runCheckoutId,
        })
        .from(engineDeadLetters)
        .innerJoin(engineRuns, eq(engineRuns.id, engineDeadLetters.runId))
        .where(and(filters, where))
        .orderBy(...orderBy)
        .limit(limit),
    (r) => r.runId,
  );
}
