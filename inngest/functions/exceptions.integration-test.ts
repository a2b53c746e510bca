import { and, count, eq, like } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { auditLog, engineDeadLetters, engineRuns, opsExceptions, outboxEvents, paymentOrders, sellers, webhookDeliveries } from "@/db/schema";
import { startTestApp, type TestApp } from "@/inngest/engine/testing";
import { enqueueEvent, startOutboxDispatcher, type OutboxDispatcher } from "@/server/outbox";
import { paymentAttemptExecute } from "@/server/events/catalog";
import { prepareCardPayment, startMpesaPayment } from "@/server/payments/attempts";
import { transitionPaymentOrder } from "@/server/payments/state-machine";
import { getConnector, type PspName } from "@/server/psp";
import { createWebhookEndpoint } from "@/server/webhooks-out/endpoints";
import type { Sandbox } from "@/sandbox";
import { startReceiver, startTestSandbox, waitFor, type Receiver } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { callerFor, createMerchant, createTestCheckout, createUser, trpcErrorCode as code } from "@/test/fixtures";
import { createExceptionFunctions } from "./exceptions";
import { createMerchantWebhookFunctions, DELIVER_RETRIES } from "./merchant-webhooks";
import { createPaymentFunctions, STATUS_CHECKS_MAX } from "./payments";

// Issue 19: the app owns its exceptions. The real payment, webhook and exception functions behind a real serve(),
// run by the local engine in-process, the PSP sandbox behind our real connectors, the outbox dispatcher feeding
// the engine. A run that fails records an ops_exceptions row through its onFailure handler; the engine's own
// dead letters are then deleted and the ops queue (the tRPC router) still carries it; retry re-emits the
// domain event through the outbox, on any engine.

const ENGINE_PSP_TIMEOUT_MS = 1_000;
const TEST_STATUS_WAITS = ["30ms"];
const CEILING_MS = 25_000;

let t: TestDatabase;
let sandbox: Sandbox;
let receiver: Receiver;
let app: TestApp;
let outbox: OutboxDispatcher;
let opsUser: string;
let merchantId: string;
let merchantAdmin: string;
let refs: string[];

const connectorFor = (db: Db, psp: PspName) => getConnector(db, psp, { apiBase: sandbox.url, timeoutMs: ENGINE_PSP_TIMEOUT_MS });

beforeAll(async () => {
  t = await createTestDatabase();
  sandbox = await startTestSandbox();
  receiver = await startReceiver(async () => ({ status: 500, body: { error: "down" } }));
  app = await startTestApp({
    db: t.db,
    clientId: "paybridge",
    functions: (client) => [
      ...createPaymentFunctions(client, { getDb: () => t.db, connectorFor, statusWaits: TEST_STATUS_WAITS }),
      ...createMerchantWebhookFunctions(client, { getDb: () => t.db }),
      ...createExceptionFunctions(client, { getDb: () => t.db }),
    ],
  });
  outbox = startOutboxDispatcher({ db: t.db, send: (events) => app.client.send(events), pollMs: 20 });
  opsUser = (await createUser(t.db, { ops: true })).id;
  merchantId = (await createMerchant(t.db, "Exceptions Shop")).id;
  merchantAdmin = (await createUser(t.db, { merchantId, role: "merchant_admin" })).id;
  refs = (await t.db.select().from(sellers).where(eq(sellers.merchantId, merchantId)).orderBy(sellers.reference)).map((s) => s.reference);
});
afterAll(async () => {
  await outbox?.stop();
  await app?.stop();
  await receiver?.stop();
  await sandbox?.stop();
  await t?.drop();
});

const checkout = async (amount = "100.00") => (await createTestCheckout(t.db, { merchantId, sellerRefs: refs, amounts: [amount] })).checkout_id;

const exceptionsOf = (subjectId: string) => t.db.select().from(opsExceptions).where(eq(opsExceptions.subjectId, subjectId));

function waitForException(subjectId: string, ok: (e: typeof opsExceptions.$inferSelect) => boolean = () => true, ceilingMs = CEILING_MS) {
  return waitFor(
    async () => (await exceptionsOf(subjectId)).find(ok),
    ceilingMs,
    25,
    async () => ({ exceptions: await exceptionsOf(subjectId), runs: await t.db.select({ fn: engineRuns.functionId, status: engineRuns.status, error: engineRuns.error }).from(engineRuns) }),
  );
}

async function failedRunOf(functionId: string, attemptId: string) {
  const runs = await t.db.select().from(engineRuns).where(and(eq(engineRuns.functionId, functionId), eq(engineRuns.status, "failed")));
  return runs.filter((r) => (r.event as { data?: { attemptId?: string } }).data?.attemptId === attemptId);
}

describe("a payment run that fails records the app's own exception, on any engine", () => {
  it("an STK push with no answer: outcome_unknown / psp_outcome_unknown with the run id, still listed with the dead letters gone; retry is refused", async () => {
    const id = await checkout("60.00");
    sandbox.addFault({ fault: "hang=after_commit", pathPrefix: "/mpesa/stkpush", count: 1 });
    const { attemptId } = await startMpesaPayment(t.db, { checkoutId: id, phone: "0712340061" });
    const exc = await waitForException(attemptId);
    const [run] = await failedRunOf("paybridge-execute-payment-attempt", attemptId);
    expect(run).toBeDefined();
    expect(exc).toMatchObject({
      kind: "payment_attempt",
      subjectType: "payment_attempt",
      merchantId,
      reason: "outcome_unknown",
      code: "psp_outcome_unknown",
      functionId: "paybridge-execute-payment-attempt",
      runId: run!.id,
      status: "open",
      occurrences: 1,
      // Re-running refuses again (the push may be on the phone): reconcile with the M-Pesa statement.
      retryEvent: null,
    });
    expect(exc.message).toMatch(/not re-sent/);

    // The engine's own record is gone (a real Inngest server has none here at all): the app's row carries it.
    expect((await t.db.select().from(engineDeadLetters)).map((d) => d.runId)).toContain(run!.id);
    await t.sql`delete from engine_dead_letters`;
    expect(await t.db.select().from(engineDeadLetters)).toEqual([]);
    const ops = callerFor(t.db, opsUser);
    const page = await ops.ops.exceptions.list({ search: attemptId });
    expect(page.items.map((i) => [i.id, i.reason, i.code, i.runId])).toEqual([[exc.id, "outcome_unknown", "psp_outcome_unknown", run!.id]]);

    const outboxBefore = await t.db.select({ n: count() }).from(outboxEvents);
    expect(await code(ops.ops.exceptions.retry({ id: exc.id, expectedRetryCount: 0 }))).toBe("CONFLICT");
    expect(await t.db.select({ n: count() }).from(outboxEvents)).toEqual(outboxBefore);
    expect(await t.db.select().from(auditLog).where(eq(auditLog.targetId, exc.id))).toEqual([]);
    expect((await exceptionsOf(attemptId))[0]).toMatchObject({ status: "open", retryCount: 0 });
    sandbox.clearFaults();
  });

  it(`"still unknown after ${STATUS_CHECKS_MAX} checks": listed without the dead letters; retry re-emits the event through the outbox (audited), the rerun bumps it; a resolved one is not retried`, async () => {
    const id = await checkout("70.00");
    // A card PaymentIntent handed out and never confirmed: the PSP never gives a final answer.
    const { attemptId } = await prepareCardPayment(t.db, connectorFor(t.db, "stripe"), id);
    await enqueueEvent(t.db, { event: paymentAttemptExecute, id: `test-execute:${attemptId}`, data: { attemptId } });
    const exc = await waitForException(attemptId, undefined, 90_000);
    const [run] = await failedRunOf("paybridge-execute-payment-attempt", attemptId);
    expect(exc).toMatchObject({
      kind: "payment_attempt",
      reason: "outcome_unknown",
      code: null,
      runId: run!.id,
      retryEvent: { name: "payment/attempt.execute", data: { attemptId } },
    });
    expect(exc.message).toMatch(new RegExp(`still unknown after ${STATUS_CHECKS_MAX} checks`));
    await t.sql`delete from engine_dead_letters`;

    const ops = callerFor(t.db, opsUser);
    const listed = await ops.ops.exceptions.list({ status: "open", kind: "payment_attempt", search: attemptId });
    expect(listed.items.map((i) => i.id)).toEqual([exc.id]);
    expect((await ops.ops.exceptions.summary()).byKind.payment_attempt.open).toBeGreaterThanOrEqual(1);

    const { eventId } = await ops.ops.exceptions.retry({ id: exc.id, expectedRetryCount: 0 });
    expect(eventId).toBe(`exception-retry:${exc.id}:1`);
    const [row] = await t.db.select().from(outboxEvents).where(eq(outboxEvents.id, eventId));
    expect(row).toMatchObject({ name: "payment/attempt.execute", data: { attemptId } });
    const detail = await ops.ops.exceptions.get({ id: exc.id });
    expect(detail.exception).toMatchObject({ retryCount: 1, lastRetryEventId: eventId });
    expect(detail.audit.map((a) => [a.action, a.actorUserId, a.data.eventId])).toEqual([["exception.retried", opsUser, eventId]]);

    // The dispatcher sends it; the engine runs the execution again; it fails the same way: the same exception, bumped.
    const again = await waitForException(attemptId, (e) => e.occurrences === 2, 90_000);
    expect(again).toMatchObject({ id: exc.id, status: "open" });
    expect(again.runId).not.toBe(exc.runId);
    expect(await failedRunOf("paybridge-execute-payment-attempt", attemptId)).toHaveLength(2);

    await ops.ops.exceptions.resolve({ id: exc.id, note: "Buyer abandoned the card form; PaymentIntent left to expire.", as: "resolved" });
    const outboxBefore = await t.db.select({ n: count() }).from(outboxEvents);
    expect(await code(ops.ops.exceptions.retry({ id: exc.id, expectedRetryCount: 1 }))).toBe("CONFLICT");
    expect(await t.db.select({ n: count() }).from(outboxEvents)).toEqual(outboxBefore);
    expect(await t.db.select().from(outboxEvents).where(like(outboxEvents.id, `exception-retry:${exc.id}:2`))).toEqual([]);
    expect((await ops.ops.exceptions.get({ id: exc.id })).audit.map((a) => a.action)).toEqual(["exception.retried", "exception.resolved"]);
    // Merchants never reach the queue.
    expect(await code(callerFor(t.db, merchantAdmin, merchantId).ops.exceptions.retry({ id: exc.id, expectedRetryCount: 1 }))).toBe("FORBIDDEN");
  }, 120_000);
});

describe("merchant webhooks", () => {
  it("a delivery whose retries run out is marked failed and records merchant_webhook / retries_exhausted", async () => {
    const ep = await createWebhookEndpoint(t.db, { merchantId, url: `${receiver.url}/hooks/exc` });
    const id = await checkout("10.00");
    const [order] = await t.db.select().from(paymentOrders).where(eq(paymentOrders.checkoutId, id));
    await t.db.transaction((tx) => transitionPaymentOrder(tx, { orderId: order!.id, to: "FAILED", reason: "test" }));
    const delivery = await waitFor(async () => {
      const [d] = await t.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, ep.id));
      return d?.status === "failed" ? d : undefined;
    }, CEILING_MS, 25);
    expect(delivery.attempts).toBe(DELIVER_RETRIES + 1);
    const exc = await waitForException(delivery.id);
    expect(exc).toMatchObject({
      kind: "merchant_webhook",
      subjectType: "webhook_delivery",
      merchantId,
      reason: "retries_exhausted",
      functionId: "paybridge-deliver-merchant-webhook",
      retryEvent: { name: "merchant/webhook.deliver", data: { deliveryId: delivery.id } },
    });
    expect(exc.runId).toBeTruthy();
    expect(exc.message).toMatch(/HTTP 500/);
  });
});

describe("cancelled runs and the janitor function", () => {
  it("inngest/function.cancelled for a payment function records a cancelled exception with the event to retry", async () => {
    const attemptId = "pat_cancelled_probe";
    const original = { name: "payment/attempt.execute", data: { attemptId } };
    await app.handle.engine.sendEvents([{ name: "inngest/function.cancelled", data: { function_id: "paybridge-execute-payment-attempt", run_id: "01CANCELLEDRUN", event: original } }]);
    // Another app's function (or one we do not watch) records nothing.
    await app.handle.engine.sendEvents([{ name: "inngest/function.cancelled", data: { function_id: "paybridge-housekeeping", run_id: "01OTHER", event: { name: "x", data: {} } } }]);
    const exc = await waitForException(attemptId);
    expect(exc).toMatchObject({ kind: "payment_attempt", reason: "cancelled", runId: "01CANCELLEDRUN", functionId: "paybridge-execute-payment-attempt", retryEvent: original, merchantId: null });
    expect(await exceptionsOf("housekeeping")).toEqual([]);
  });

  it("ops/exceptions.sweep-requested runs exceptions-janitor: auto-resolution and every detector, one step each", async () => {
    await app.handle.engine.sendEvents([{ name: "ops/exceptions.sweep-requested", data: { requestedBy: opsUser } }]);
    const run = await waitFor(async () => {
      const [r] = await t.db.select().from(engineRuns).where(eq(engineRuns.functionId, "paybridge-exceptions-janitor"));
      return r && r.status !== "running" ? r : undefined;
    }, CEILING_MS, 25);
    expect(run).toMatchObject({ status: "completed", output: { recorded: { payment_attempts: 0, psp_events: 0, outbox_events: 0, webhook_deliveries: 0 } } });
  });
});
