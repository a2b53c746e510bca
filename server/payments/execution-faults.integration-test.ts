import { and, count, eq, like, notLike } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { checkouts, engineDeadLetters, engineRuns, outboxEvents, paymentOrderTransitions, paymentAttempts, paymentOrders, pspAttempts, pspEvents, riskRules, sellers } from "@/db/schema";
import type { Db } from "@/db/client";
import { createPaymentFunctions } from "@/inngest/functions/payments";
import { startTestApp, type TestApp } from "@/inngest/engine/testing";
import { accountFor, checkLedgerInvariants, loadTransactionBySource } from "@/server/ledger";
import { startOutboxDispatcher, type OutboxDispatcher } from "@/server/outbox";
import { getConnector, type PspName } from "@/server/psp";
import { PspError } from "@/server/psp/errors";
import { getBalance, getWallet } from "@/server/wallet";
import { receiveStripeWebhook } from "@/server/webhooks/receive-stripe-webhook";
import type { Sandbox } from "@/sandbox";
import { startReceiver, startTestSandbox, waitFor, type Receiver } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createMerchant, createTestCheckout } from "@/test/fixtures";
import { platformFee } from "./apply-outcome";
import { prepareCardPayment, startMpesaPayment, submitCardPayment } from "./attempts";
import type { ConnectorFor } from "./execution";
import { asyncWorkSettled } from "@/test/settled";

// Issue 6 acceptance: the durable pay-in path with PSP and webhook faults, wired as in production.
// Real Postgres; the PSP sandbox behind the real stripe SDK; its signed Stripe webhooks go to a receiver that
// calls receiveStripeWebhook (what /api/webhooks/stripe calls); the local Inngest engine runs the payment
// functions in-process; the outbox dispatcher feeds it. The buyer acts as the checkout page does:
// prepareCardPayment -> confirm in the card field -> submitCardPayment. Nothing of ours is mocked.

const WEBHOOK_SECRET = "whsec_execution_faults_test";
/** The durable functions' PSP timeout: a hanging PSP costs a second here, not PSP_TIMEOUT_MS (15 s). */
const ENGINE_PSP_TIMEOUT_MS = 1_000;
/** Waits between the execution's status checks (production: 15 s, 30 s, 1 m…). */
const TEST_STATUS_WAITS = ["300ms", "600ms"];
const SETTLE_TIMEOUT_MS = 20_000;
const CONCURRENT_CLICKS = 20;

let t: TestDatabase;
let sandbox: Sandbox;
let receiver: Receiver;
let app: TestApp;
let outbox: OutboxDispatcher;

const engineConnectorFor: ConnectorFor = (db: Db, psp: PspName) => getConnector(db, psp, { apiBase: sandbox.url, timeoutMs: ENGINE_PSP_TIMEOUT_MS });
/** What the checkout page's server calls use (the default PSP timeout). */
const buyerConnector = (timeoutMs?: number) => getConnector(t.db, "stripe", { apiBase: sandbox.url, timeoutMs });

beforeAll(async () => {
  t = await createTestDatabase();
  receiver = await startReceiver(async (_path, body, headers) => {
    const signature = headers["stripe-signature"];
    const reply = await receiveStripeWebhook(t.db, body, typeof signature === "string" ? signature : null, WEBHOOK_SECRET);
    return { status: reply.status, body: reply.body };
  });
  sandbox = await startTestSandbox({ webhookTargets: { stripe: [`${receiver.url}/api/webhooks/stripe`] }, stripeWebhookSecret: WEBHOOK_SECRET });
  app = await startTestApp({
    db: t.db,
    clientId: "paybridge",
    functions: (client) => createPaymentFunctions(client, { getDb: () => t.db, connectorFor: engineConnectorFor, statusWaits: TEST_STATUS_WAITS }),
  });
  outbox = startOutboxDispatcher({ db: t.db, send: (events) => app.client.send(events), pollMs: 20 });
});
afterEach(async () => {
  sandbox.clearFaults();
  sandbox.setStripeWebhookTargets([`${receiver.url}/api/webhooks/stripe`]);
  await settled();
  // Nothing in these scenarios may end in the dead letters (a double charge, an unknown outcome), and every
  // webhook delivered passed signature verification.
  const [dead] = await t.db.select({ n: count() }).from(engineDeadLetters);
  expect(dead!.n).toBe(0);
  expect(receiver.received.filter((r) => r.status !== 200)).toEqual([]);
});
afterAll(async () => {
  await outbox?.stop();
  await app?.stop();
  await sandbox?.stop();
  await receiver?.stop();
  await t?.drop();
});

// ---- helpers ----

interface Shop {
  merchantId: string;
  refs: string[];
  sellerIds: string[];
  feeBps: number;
}
let seq = 0;

async function newShop(): Promise<Shop> {
  const m = await createMerchant(t.db);
  const rows = await t.db.select().from(sellers).where(eq(sellers.merchantId, m.id)).orderBy(sellers.reference);
  return { merchantId: m.id, refs: rows.map((r) => r.reference), sellerIds: rows.map((r) => r.id), feeBps: m.platformFeeBps };
}

const newCheckout = (shop: Shop, amounts: string[] = ["100.00", "50.25"]) => createTestCheckout(t.db, { merchantId: shop.merchantId, sellerRefs: shop.refs, amounts });

const piOf = (clientSecret: string) => clientSecret.split("_secret_")[0]!;

/** The card field's confirm (pm_… from the hosted field); `fault` rides along as the Sandbox-Fault header. */
function confirmCard(piId: string, pm = "pm_card_visa", fault?: string) {
  return buyerConnector().confirmPayment({ pspReference: piId, paymentMethodToken: pm, idempotencyKey: `confirm-${piId}-${pm}-${++seq}`, sandboxFault: fault });
}

/** The checkout page: prepare, confirm in the card field, submit. */
async function payByCard(checkoutId: string, opts: { pm?: string; fault?: string } = {}) {
  const session = await prepareCardPayment(t.db, buyerConnector(), checkoutId);
  const piId = piOf(session.clientSecret);
  const confirmed = await confirmCard(piId, opts.pm, opts.fault);
  await submitCardPayment(t.db, { checkoutId, paymentIntentId: piId });
  return { piId, attemptId: session.attemptId, confirmed };
}

async function orders(checkoutId: string) {
  return t.db.select().from(paymentOrders).where(eq(paymentOrders.checkoutId, checkoutId)).orderBy(paymentOrders.paymentOrderId);
}

async function waitForOrders(checkoutId: string, status: "SUCCESS" | "FAILED") {
  return waitFor(async () => {
    const rows = await orders(checkoutId);
    return rows.length > 0 && rows.every((o) => o.status === status) ? rows : undefined;
  }, SETTLE_TIMEOUT_MS, 25);
}

/** Everything in flight has finished, the sandbox's webhooks included (delayed ones are not in flight). */
function settled(): Promise<void> {
  return asyncWorkSettled(t.sql, { timeoutMs: SETTLE_TIMEOUT_MS, before: () => sandbox.webhooksIdle() });
}

function pisFor(checkoutId: string) {
  return sandbox.stripeObjects("payment_intent").filter((pi) => (pi.metadata as Record<string, string> | undefined)?.checkout_id === checkoutId);
}

async function ledgerRowsFor(orderIds: string[]): Promise<number> {
  const [row] = await t.sql<{ n: number }[]>`select count(*)::int as n from ledger_transactions where source = 'payment_order' and source_id in ${t.sql(orderIds)}`;
  return row!.n;
}

/** The acceptance invariant: SUCCESS, one PaymentIntent, exactly one ledger transaction per order. */
async function expectPaidOnce(checkoutId: string) {
  await settled();
  const rows = await orders(checkoutId);
  expect(rows.map((o) => o.status)).toEqual(rows.map(() => "SUCCESS"));
  expect(pisFor(checkoutId)).toHaveLength(1);
  for (const o of rows) expect(await loadTransactionBySource(t.db, "payment_order", o.id)).toMatchObject({ source: "payment_order", sourceId: o.id });
  expect(await ledgerRowsFor(rows.map((o) => o.id))).toBe(rows.length);
  const [c] = await t.db.select({ status: checkouts.status }).from(checkouts).where(eq(checkouts.id, checkoutId));
  expect(c!.status).toBe("completed");
  return rows;
}

async function retrieveCalls(piId: string) {
  const rows = await t.db.select().from(pspAttempts).where(eq(pspAttempts.operation, "payment_intent.retrieve")).orderBy(pspAttempts.createdAt);
  return rows.filter((r) => (r.request as { payment_intent?: string }).payment_intent === piId);
}

/** Events the sandbox recorded (as Stripe keeps them in /v1/events, delivered or not). */
function stripeEventsFor(piId: string, type: string) {
  return sandbox.stripeObjects("event").filter((e) => e.type === type && (e.data as { object: { id: string } }).object.id === piId);
}

async function storedEventsFor(piId: string) {
  return t.db.select().from(pspEvents).where(eq(pspEvents.objectId, piId));
}

/** Stored events about the PaymentIntent other than its creation (which prepareCardPayment's request caused). */
async function confirmEventsStored(piId: string) {
  return (await storedEventsFor(piId)).map((e) => e.eventType).filter((type) => type !== "payment_intent.created");
}

// ---- acceptance ----

describe("happy path through the engine", () => {
  it("pays a 2-seller checkout: SUCCESS, one PaymentIntent, one ledger transaction per order, balances right", async () => {
    const shop = await newShop();
    const clearingBefore = await getBalance(t.db, accountFor.pspClearing("stripe", "KES"));
    const feesBefore = await getBalance(t.db, accountFor.platform("platform_fees", "KES"));
    const chk = await newCheckout(shop, ["100.00", "50.25"]);
    const { piId, attemptId } = await payByCard(chk.checkout_id);
    const paid = await waitForOrders(chk.checkout_id, "SUCCESS");
    expect(paid).toHaveLength(2);
    await expectPaidOnce(chk.checkout_id);

    // The outcome came from the PSP, via the durable run, with the attempt's key.
    const [attempt] = await t.db.select().from(paymentAttempts).where(eq(paymentAttempts.id, attemptId));
    expect(attempt).toMatchObject({ status: "succeeded", pspReference: piId, idempotencyKey: `${chk.checkout_id}:attempt:1` });
    expect((await retrieveCalls(piId)).some((r) => r.outcome === "ok")).toBe(true);
    const runs = await t.db.select().from(engineRuns).where(eq(engineRuns.functionId, "paybridge-execute-payment-attempt"));
    const mine = runs.filter((r) => (r.event as { data?: { attemptId?: string } }).data?.attemptId === attemptId);
    expect(mine.length).toBeGreaterThanOrEqual(1);
    expect(mine.every((r) => r.status === "completed")).toBe(true);
    expect(mine.map((r) => (r.output as { outcome?: string }).outcome)).toContain("succeeded");
    // Stripe's webhooks arrived, were verified and stored once each.
    expect((await storedEventsFor(piId)).map((e) => e.eventType)).toContain("payment_intent.succeeded");

    const fees = [10_000n, 5_025n].map((a) => platformFee(a, shop.feeBps));
    const wallets = await Promise.all(shop.sellerIds.map((s) => getWallet(t.db, s, "KES")));
    expect(wallets.map((w) => w.pending.amount)).toEqual([10_000n - fees[0]!, 5_025n - fees[1]!]);
    expect((await getBalance(t.db, accountFor.pspClearing("stripe", "KES"))).amount - clearingBefore.amount).toBe(15_025n);
    expect((await getBalance(t.db, accountFor.platform("platform_fees", "KES"))).amount - feesBefore.amount).toBe(fees[0]! + fees[1]!);
    const report = await checkLedgerInvariants(t.db);
    expect(report.ok).toBe(true);
  });
});

describe("PSP faults", () => {
  it("PaymentIntent create: 503, 429 with Retry-After, a hang before and after the PSP acted — retries make exactly one PaymentIntent", async () => {
    const shop = await newShop();
    const chk = await newCheckout(shop, ["42.00"]);
    const shortTimeout = buyerConnector(ENGINE_PSP_TIMEOUT_MS);
    const createFault = (fault: string) => sandbox.addFault({ fault, method: "POST", pathPrefix: "/v1/payment_intents", count: 1 });
    const refused = async (kind: PspError["kind"]) => {
      const err = await prepareCardPayment(t.db, shortTimeout, chk.checkout_id).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(PspError);
      expect((err as PspError).kind).toBe(kind);
      expect((err as PspError).retryable).toBe(true);
    };
    createFault("status=503");
    await refused("unavailable");
    createFault("rate_limit=2");
    const limited = await prepareCardPayment(t.db, shortTimeout, chk.checkout_id).then(() => null, (e: unknown) => e as PspError);
    expect(limited).toMatchObject({ kind: "rate_limited", retryAfterMs: 2_000 });
    createFault("hang"); // the PSP never saw it
    await refused("timeout");
    expect(pisFor(chk.checkout_id)).toHaveLength(0);
    createFault("hang=after_commit"); // the PSP created it, the answer was lost
    await refused("timeout");
    expect(pisFor(chk.checkout_id)).toHaveLength(1);

    // The page retries: the same idempotency key replays the PaymentIntent the lost answer carried.
    const session = await prepareCardPayment(t.db, shortTimeout, chk.checkout_id);
    expect(piOf(session.clientSecret)).toBe(pisFor(chk.checkout_id)[0]!.id);
    const creates = await t.db.select().from(pspAttempts).where(eq(pspAttempts.idempotencyKey, `${chk.checkout_id}:attempt:1`));
    expect(creates.map((c) => c.outcome).sort()).toEqual(["ok", "psp_error", "psp_error", "timeout", "timeout"]);
    await confirmCard(piOf(session.clientSecret));
    await submitCardPayment(t.db, { checkoutId: chk.checkout_id, paymentIntentId: piOf(session.clientSecret) });
    await waitForOrders(chk.checkout_id, "SUCCESS");
    await expectPaidOnce(chk.checkout_id);
  });

  for (const c of [
    { name: "500 twice", fault: "status=500", count: 2, failed: { outcome: "psp_error", responseStatus: 500 } },
    { name: "503 (Stripe-Should-Retry: true) twice", fault: "status=503;retry=true", count: 2, failed: { outcome: "psp_error", responseStatus: 503 } },
    { name: "a hang past the connector timeout", fault: "hang", count: 1, failed: { outcome: "timeout", responseStatus: null } },
  ]) {
    it(`status fetch: ${c.name} — the step retries with backoff and the run still pays once`, async () => {
      const shop = await newShop();
      const chk = await newCheckout(shop);
      const session = await prepareCardPayment(t.db, buyerConnector(), chk.checkout_id);
      const piId = piOf(session.clientSecret);
      sandbox.addFault({ fault: c.fault, method: "GET", pathPrefix: `/v1/payment_intents/${piId}`, count: c.count });
      await confirmCard(piId);
      await submitCardPayment(t.db, { checkoutId: chk.checkout_id, paymentIntentId: piId });
      await waitForOrders(chk.checkout_id, "SUCCESS");
      await expectPaidOnce(chk.checkout_id);
      const calls = await retrieveCalls(piId);
      const failed = calls.filter((r) => r.outcome === c.failed.outcome && r.responseStatus === c.failed.responseStatus);
      expect(calls.some((r) => r.outcome === "ok")).toBe(true);
      if (c.failed.outcome === "timeout") {
        // ≥: on a loaded machine an unfaulted call may also time out; that is retried the same way.
        expect(failed.length).toBeGreaterThanOrEqual(c.count);
        expect(failed[0]!.latencyMs).toBeGreaterThanOrEqual(ENGINE_PSP_TIMEOUT_MS - 50);
      } else expect(failed).toHaveLength(c.count);
    });
  }

  it("status fetch: 429 with Retry-After — the next try waits Retry-After (not the fast backoff) and the run still pays once", async () => {
    const shop = await newShop();
    const chk = await newCheckout(shop);
    const session = await prepareCardPayment(t.db, buyerConnector(), chk.checkout_id);
    const piId = piOf(session.clientSecret);
    // Only the buyer's execution fetches: a webhook-woken run would fetch in between and blur the timing.
    sandbox.setStripeWebhookTargets([]);
    sandbox.addFault({ fault: "rate_limit=1", method: "GET", pathPrefix: `/v1/payment_intents/${piId}`, count: 1 });
    await confirmCard(piId);
    await submitCardPayment(t.db, { checkoutId: chk.checkout_id, paymentIntentId: piId });
    await waitForOrders(chk.checkout_id, "SUCCESS");
    await expectPaidOnce(chk.checkout_id);
    const calls = await retrieveCalls(piId);
    const limited = calls.findIndex((r) => r.responseStatus === 429);
    expect(limited).toBeGreaterThanOrEqual(0);
    const next = calls[limited + 1]!;
    expect(next.outcome).toBe("ok");
    // Retry-After: 1 s. The engine's test backoff alone would retry after 20–50 ms.
    expect(next.createdAt.getTime() - calls[limited]!.createdAt.getTime()).toBeGreaterThanOrEqual(900);
  });
});

describe("webhook faults", () => {
  it("duplicate deliveries are stored once and pay once", async () => {
    const shop = await newShop();
    const chk = await newCheckout(shop);
    const { piId } = await payByCard(chk.checkout_id, { fault: "webhook_duplicate" });
    await waitForOrders(chk.checkout_id, "SUCCESS");
    await expectPaidOnce(chk.checkout_id);
    const [event] = stripeEventsFor(piId, "payment_intent.succeeded");
    expect(sandbox.deliveries.filter((d) => d.id === event!.id && d.status === 200)).toHaveLength(2);
    const stored = (await storedEventsFor(piId)).filter((e) => e.eventType === "payment_intent.succeeded");
    expect(stored).toHaveLength(1);
    expect(stored[0]!.status).toBe("processed");
  });

  it("out of order: a decline's webhook arriving after the retry's success, and reordered events, change nothing", async () => {
    const shop = await newShop();
    const chk = await newCheckout(shop, ["30.00", "12.00"]);
    // First try declines; its webhooks are held back.
    const first = await payByCard(chk.checkout_id, { pm: "pm_card_chargeDeclined", fault: "webhook_delay=60000" });
    expect(first.confirmed.failure?.declineCode).toBe("generic_decline");
    await waitForOrders(chk.checkout_id, "FAILED");
    await settled();
    // The buyer tries another card on the same PaymentIntent; that request's events arrive in reverse order.
    const second = await payByCard(chk.checkout_id, { fault: "webhook_reorder" });
    expect(second.piId).toBe(first.piId);
    await waitForOrders(chk.checkout_id, "SUCCESS");
    await settled();
    // Now the stale payment_failed arrives, after the success.
    sandbox.flushDelayedWebhooks();
    await waitFor(async () => ((await storedEventsFor(first.piId)).some((e) => e.eventType === "payment_intent.payment_failed" && e.status === "processed") ? true : undefined), SETTLE_TIMEOUT_MS);
    const rows = await expectPaidOnce(chk.checkout_id);
    const types = (await storedEventsFor(first.piId)).map((e) => e.eventType);
    expect(types).toEqual(expect.arrayContaining(["payment_intent.payment_failed", "payment_intent.succeeded"]));
    // Each order's history: NOT_STARTED → EXECUTING → FAILED → EXECUTING → SUCCESS, and nothing after the success.
    for (const o of rows) {
      const history = await t.db.select().from(paymentOrderTransitions).where(eq(paymentOrderTransitions.paymentOrderId, o.id));
      expect(history.map((h) => `${h.fromStatus ?? "-"}>${h.toStatus}`).sort()).toEqual(["-", "EXECUTING>FAILED", "EXECUTING>SUCCESS", "FAILED>EXECUTING", "NOT_STARTED>EXECUTING"].map((x) => (x === "-" ? "->NOT_STARTED" : x)).sort());
    }
  });

  it("early webhook: the payment completes from the webhook before the page's submit arrives; the late submit is answered, not refused", async () => {
    const shop = await newShop();
    const chk = await newCheckout(shop);
    const session = await prepareCardPayment(t.db, buyerConnector(), chk.checkout_id);
    const piId = piOf(session.clientSecret);
    await confirmCard(piId);
    // The buyer's tab is slow: apply-psp-event wakes an execution for the attempt, which pays the orders.
    await waitForOrders(chk.checkout_id, "SUCCESS");
    await expect(submitCardPayment(t.db, { checkoutId: chk.checkout_id, paymentIntentId: piId })).resolves.toEqual({ attemptId: session.attemptId });
    await expectPaidOnce(chk.checkout_id);
    // Another PaymentIntent (a forged or stale id) is still refused for the paid checkout.
    await expect(submitCardPayment(t.db, { checkoutId: chk.checkout_id, paymentIntentId: "pi_other" })).rejects.toMatchObject({ code: "conflict" });
  });

  it("delayed webhooks: the run's own status check pays; the late events, flushed, change nothing", async () => {
    const shop = await newShop();
    const chk = await newCheckout(shop);
    const { piId } = await payByCard(chk.checkout_id, { fault: "webhook_delay=60000" });
    await waitForOrders(chk.checkout_id, "SUCCESS");
    await settled();
    expect(await confirmEventsStored(piId)).toEqual([]); // paid before any of the confirm's webhooks arrived
    sandbox.flushDelayedWebhooks();
    await waitFor(async () => ((await storedEventsFor(piId)).some((e) => e.eventType === "payment_intent.succeeded" && e.status === "processed") ? true : undefined), SETTLE_TIMEOUT_MS);
    await expectPaidOnce(chk.checkout_id);
  });

  it("dropped webhooks: the execution's own status polling resolves it", async () => {
    const shop = await newShop();
    const chk = await newCheckout(shop);
    const { piId } = await payByCard(chk.checkout_id, { fault: "webhook_drop" });
    await waitForOrders(chk.checkout_id, "SUCCESS");
    await expectPaidOnce(chk.checkout_id);
    const [event] = stripeEventsFor(piId, "payment_intent.succeeded");
    expect(sandbox.deliveries.filter((d) => d.id === event!.id).map((d) => d.status)).toEqual(["dropped"]);
    expect(await confirmEventsStored(piId)).toEqual([]);
  });

  it("dropped webhooks while 3DS is pending: the run waits, checks again and pays once the challenge completes", async () => {
    const shop = await newShop();
    const chk = await newCheckout(shop);
    sandbox.setStripeWebhookTargets([]); // every webhook is lost from here on (Stripe keeps them in /v1/events)
    const { piId, confirmed } = await payByCard(chk.checkout_id, { pm: "pm_card_authenticationRequired" });
    expect(confirmed.status).toBe("requires_action");
    // The run saw requires_action (not final) and is waiting for a PSP update that will never come.
    await waitFor(async () => ((await retrieveCalls(piId)).some((r) => r.outcome === "ok") ? true : undefined), SETTLE_TIMEOUT_MS);
    expect((await orders(chk.checkout_id)).map((o) => o.status)).toEqual(["EXECUTING", "EXECUTING"]);
    sandbox.completeThreeDs(piId, "complete");
    await waitForOrders(chk.checkout_id, "SUCCESS");
    await expectPaidOnce(chk.checkout_id);
    expect((await retrieveCalls(piId)).filter((r) => r.outcome === "ok").length).toBeGreaterThanOrEqual(2);
    expect(await confirmEventsStored(piId)).toEqual([]);
    expect(stripeEventsFor(piId, "payment_intent.succeeded")).toHaveLength(1);
  });
});

describe("double clicks", () => {
  it(`${CONCURRENT_CLICKS} concurrent prepares and ${CONCURRENT_CLICKS} concurrent submits make one PaymentIntent, one execution and one posting per order`, async () => {
    const shop = await newShop();
    const chk = await newCheckout(shop, ["10.00", "20.00"]);
    // Only the buyer's clicks drive the payment here (a webhook-woken run could otherwise pay before the submits).
    sandbox.setStripeWebhookTargets([]);
    const prepared = await Promise.allSettled(Array.from({ length: CONCURRENT_CLICKS }, () => prepareCardPayment(t.db, buyerConnector(), chk.checkout_id)));
    const secrets = new Set(prepared.flatMap((p) => (p.status === "fulfilled" ? [p.value.clientSecret] : [])));
    expect(secrets.size).toBe(1);
    // A click that raced the first PSP call is told to retry (PSP idempotency key in use), never charged twice.
    for (const p of prepared) if (p.status === "rejected") expect(p.reason).toMatchObject({ kind: "unavailable", retryable: true });
    const session = await prepareCardPayment(t.db, buyerConnector(), chk.checkout_id);
    expect(secrets.has(session.clientSecret)).toBe(true);
    expect(pisFor(chk.checkout_id)).toHaveLength(1);
    const piId = piOf(session.clientSecret);

    await confirmCard(piId);
    const submits = await Promise.allSettled(Array.from({ length: CONCURRENT_CLICKS }, () => submitCardPayment(t.db, { checkoutId: chk.checkout_id, paymentIntentId: piId })));
    expect(submits.filter((s) => s.status === "rejected")).toEqual([]);
    expect(new Set(submits.map((s) => (s.status === "fulfilled" ? s.value.attemptId : "")))).toEqual(new Set([session.attemptId]));
    await waitForOrders(chk.checkout_id, "SUCCESS");
    await expectPaidOnce(chk.checkout_id);

    const [attempts] = await t.db.select({ n: count() }).from(paymentAttempts).where(eq(paymentAttempts.checkoutId, chk.checkout_id));
    expect(attempts!.n).toBe(1);
    // One execution for the 20 submissions.
    const executions = await t.db
      .select({ id: outboxEvents.id })
      .from(outboxEvents)
      .where(and(like(outboxEvents.id, `attempt-execute:${session.attemptId}:%`), notLike(outboxEvents.id, "%:psp-event:%")));
    expect(executions).toHaveLength(1);
    const transitions = await t.sql<{ n: number }[]>`
      select count(*)::int as n from payment_order_transitions t join payment_orders o on o.id = t.payment_order_id
      where o.checkout_id = ${chk.checkout_id} and t.to_status = 'EXECUTING'`;
    expect(transitions[0]!.n).toBe(2); // once per order
  });
});

describe("risk", () => {
  it("a blocked checkout makes no PSP call: card and M-Pesa are refused, the sandbox sees no request, nothing is written", async () => {
    const shop = await newShop();
    await t.db.insert(riskRules).values({ merchantId: shop.merchantId, kind: "amount_limit", action: "block", params: { currency: "KES", max_amount: "100.00" } });
    await settled();
    const requestsBefore = sandbox.requests.length;
    const pisBefore = sandbox.stripeObjects("payment_intent").length;
    const [pspCallsBefore] = await t.db.select({ n: count() }).from(pspAttempts);
    // The order's FAILED is reported to the merchant (merchant/event.created); nothing else may be enqueued.
    const notMerchantEvent = notLike(outboxEvents.name, "merchant/%");
    const [outboxBefore] = await t.db.select({ n: count() }).from(outboxEvents).where(notMerchantEvent);

    const chk = await newCheckout(shop, ["150.00"]);
    expect(chk.status).toBe("blocked");
    expect((await orders(chk.checkout_id)).map((o) => [o.status, o.failureCode])).toEqual([["FAILED", "risk_blocked"]]);
    await expect(prepareCardPayment(t.db, buyerConnector(), chk.checkout_id)).rejects.toMatchObject({ code: "conflict" });
    await expect(startMpesaPayment(t.db, { checkoutId: chk.checkout_id, phone: "0712345678" })).rejects.toMatchObject({ code: "conflict" });
    await expect(submitCardPayment(t.db, { checkoutId: chk.checkout_id, paymentIntentId: "pi_forged" })).rejects.toMatchObject({ code: "conflict" });
    await settled();

    expect(sandbox.requests.slice(requestsBefore)).toEqual([]);
    expect(sandbox.stripeObjects("payment_intent")).toHaveLength(pisBefore);
    const [pspCallsAfter] = await t.db.select({ n: count() }).from(pspAttempts);
    expect(pspCallsAfter!.n).toBe(pspCallsBefore!.n);
    const [attempts] = await t.db.select({ n: count() }).from(paymentAttempts).where(eq(paymentAttempts.checkoutId, chk.checkout_id));
    expect(attempts!.n).toBe(0);
    const [outboxAfter] = await t.db.select({ n: count() }).from(outboxEvents).where(notMerchantEvent);
    expect(outboxAfter!.n).toBe(outboxBefore!.n);
    const orderIds = (await orders(chk.checkout_id)).map((o) => o.id);
    expect(await ledgerRowsFor(orderIds)).toBe(0);
    // The request log does see traffic: the same shop's allowed checkout reaches the PSP.
    const allowed = await newCheckout(shop, ["99.00"]);
    await prepareCardPayment(t.db, buyerConnector(), allowed.checkout_id);
    expect(sandbox.requests.slice(requestsBefore).some((r) => r.method === "POST" && r.path === "/v1/payment_intents")).toBe(true);
  });
});
