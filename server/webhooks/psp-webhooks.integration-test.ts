// Inbound PSP webhooks end to end: the sandbox delivers (signed Stripe events, unsigned Daraja callbacks)
// to a receiver that calls the same functions as the route handlers, against a real database.
import { createHash } from "node:crypto";
import Stripe from "stripe";
import { and, eq, like } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outboxEvents, pspEvents } from "@/db/schema";
import { money } from "@/server/money";
import type { Sandbox } from "@/sandbox/index";
import { type Receiver, startReceiver, startTestSandbox, waitFor } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createDarajaConnector, createStripeConnector } from "@/server/psp";
import { mpesaCallbackToken } from "@/server/psp/daraja/callback-tokens";
import type { DarajaConnector } from "@/server/psp/daraja/connector";
import type { StripeConnector } from "@/server/psp/stripe/connector";
import { env } from "@/server/env.js";
import { pspEventOutboxId } from "./hand-off";
import { processPspEvent } from "./process-psp-event";
import { receiveMpesaCallback } from "./receive-mpesa-callback";
import { receiveStripeWebhook } from "./receive-stripe-webhook";

let sandbox: Sandbox;
let receiver: Receiver;
let t: TestDatabase;
let stripe: StripeConnector;
let mpesa: DarajaConnector;
let sdk: Stripe;
let n = 0;
const key = (l: string) => `wh_${l}_${++n}_${Date.now()}`;
const MPESA_PREFIX = "/api/webhooks/mpesa/";

beforeAll(async () => {
  t = await createTestDatabase();
  receiver = await startReceiver(async (path, body, headers) => {
    if (path === "/stripe") return receiveStripeWebhook(t.db, body, (headers["stripe-signature"] as string | undefined) ?? null);
    if (path.startsWith(MPESA_PREFIX)) return receiveMpesaCallback(t.db, path.slice(MPESA_PREFIX.length), body);
    return { status: 404, body: {} };
  });
  sandbox = await startTestSandbox({ webhookTargets: { stripe: [`${receiver.url}/stripe`] } });
  stripe = createStripeConnector(t.db, { apiBase: sandbox.url, timeoutMs: 2_000 });
  mpesa = createDarajaConnector(t.db, { apiBase: sandbox.url, appUrl: receiver.url, timeoutMs: 2_000 });
  sdk = new Stripe(env.STRIPE_SECRET_KEY, { host: "127.0.0.1", port: sandbox.port, protocol: "http", maxNetworkRetries: 0, timeout: 2_000 });
});
afterAll(async () => {
  await sandbox?.stop();
  await receiver?.stop();
  await t?.drop();
});

const deps = () => ({ daraja: () => mpesa });
const eventsFor = (objectId: string) => t.db.select().from(pspEvents).where(eq(pspEvents.objectId, objectId));
const pay = (token: string, sandboxFault?: string) => {
  const k = key(token);
  return stripe.createPayment({ amount: money(2500n, "USD"), idempotencyKey: k, reference: k, paymentMethod: { type: "card_token", token }, sandboxFault });
};

describe("Stripe webhooks", () => {
  it("a genuine event is verified, stored once and processed once", async () => {
    const r = await pay("pm_card_visa");
    await sandbox.webhooksIdle();
    const rows = await eventsFor(r.pspReference);
    expect(rows.map((e) => e.eventType).sort()).toEqual(["payment_intent.created", "payment_intent.succeeded"]);
    expect(rows.every((e) => e.status === "received")).toBe(true);
    // Each stored event was handed to durable processing in the same transaction.
    for (const e of rows) {
      const [outbox] = await t.db.select().from(outboxEvents).where(eq(outboxEvents.id, pspEventOutboxId(e.id)));
      expect(outbox).toMatchObject({ name: "psp/event.received", data: { psp: "stripe", pspEventId: e.eventId, storedEventId: e.id } });
    }
    const succeeded = rows.find((e) => e.eventType === "payment_intent.succeeded")!;
    const processed = await processPspEvent(t.db, succeeded.id, deps());
    expect(processed).toMatchObject({ status: "processed", verdict: { status: "succeeded", amountMinor: "2500", currency: "USD" } });
    const again = await processPspEvent(t.db, succeeded.id, deps());
    expect(again.processedAt).toEqual(processed.processedAt);
    const created = await processPspEvent(t.db, rows.find((e) => e.eventType === "payment_intent.created")!.id, deps());
    expect(created.status).toBe("ignored");
  });

  it("a duplicated delivery gets 200 and changes nothing", async () => {
    const r = await pay("pm_card_visa", "webhook_duplicate");
    await sandbox.webhooksIdle();
    const ids = (await eventsFor(r.pspReference)).map((e) => e.eventId);
    expect(new Set(ids).size).toBe(ids.length);
    const deliveries = receiver.received.filter((x) => ids.some((id) => x.body.includes(id)));
    expect(deliveries.length).toBe(ids.length * 2);
    expect(deliveries.every((d) => d.status === 200)).toBe(true);
  });

  it("out-of-order delivery: payment_intent.succeeded before charge.succeeded, both stored", async () => {
    const r = await pay("pm_card_visa", "webhook_reorder");
    await sandbox.webhooksIdle();
    const order = receiver.received.map((x) => JSON.parse(x.body) as { type: string; data: { object: { id: string; payment_intent?: string } } }).filter((e) => e.data.object.id === r.pspReference || e.data.object.payment_intent === r.pspReference).map((e) => e.type);
    expect(order.indexOf("payment_intent.succeeded")).toBeLessThan(order.indexOf("charge.succeeded"));
    expect(order.indexOf("charge.succeeded")).toBeLessThan(order.indexOf("payment_intent.created"));
  });

  it("a dropped webhook is never delivered but is still listed in /v1/events", async () => {
    const r = await pay("pm_card_visa", "webhook_drop");
    await sandbox.webhooksIdle();
    expect(await eventsFor(r.pspReference)).toHaveLength(0);
    const listed = await sdk.events.list({ type: "payment_intent.succeeded", limit: 20 });
    expect(listed.data.some((e) => (e.data.object as { id: string }).id === r.pspReference)).toBe(true);
  });

  it("a delayed webhook arrives only later", async () => {
    const r = await pay("pm_card_visa", "webhook_delay=60000");
    await sandbox.webhooksIdle();
    expect(await eventsFor(r.pspReference)).toHaveLength(0);
    sandbox.flushDelayedWebhooks();
    await sandbox.webhooksIdle();
    expect((await eventsFor(r.pspReference)).length).toBeGreaterThan(0);
  });

  it("a forged signature, a changed body and a stale timestamp are refused with 400 and store nothing", async () => {
    const payload = JSON.stringify({ id: "evt_forged_1", object: "event", type: "payment_intent.succeeded", created: 1, data: { object: { id: "pi_forged", object: "payment_intent" } } });
    const forged = sdk.webhooks.generateTestHeaderString({ payload, secret: "whsec_attacker" });
    expect(await receiveStripeWebhook(t.db, payload, forged)).toMatchObject({ status: 400 });
    const good = sdk.webhooks.generateTestHeaderString({ payload, secret: env.STRIPE_WEBHOOK_SECRET });
    expect(await receiveStripeWebhook(t.db, payload.replace("pi_forged", "pi_other"), good)).toMatchObject({ status: 400 });
    const stale = sdk.webhooks.generateTestHeaderString({ payload, secret: env.STRIPE_WEBHOOK_SECRET, timestamp: Math.floor(Date.now() / 1000) - 301 });
    expect(await receiveStripeWebhook(t.db, payload, stale)).toMatchObject({ status: 400 });
    expect(await receiveStripeWebhook(t.db, payload, null)).toMatchObject({ status: 400 });
    expect(await t.db.select().from(pspEvents).where(eq(pspEvents.eventId, "evt_forged_1"))).toHaveLength(0);
    const outboxBefore = (await t.db.select().from(outboxEvents)).length;
    // The control: the same payload, correctly signed and fresh, is accepted.
    expect(await receiveStripeWebhook(t.db, payload, good)).toMatchObject({ status: 200, body: { duplicate: false } });
    expect(await receiveStripeWebhook(t.db, payload, good)).toMatchObject({ status: 200, body: { duplicate: true } });
    expect((await t.db.select().from(outboxEvents)).length).toBe(outboxBefore + 1);
  });
});

describe("M-Pesa callbacks (verify by fetch)", () => {
  const stkToken = () => mpesaCallbackToken(env.MPESA_CALLBACK_SECRET, "stk");
  const push = (phone: string) => {
    const k = key("stk");
    return mpesa.createPayment({ amount: money(50000n, "KES"), idempotencyKey: k, reference: k, paymentMethod: { type: "mpesa_phone", phone } });
  };
  const stkEvent = (checkoutRequestId: string) => waitFor(async () => (await eventsFor(checkoutRequestId)).find((e) => e.eventType === "stk.callback"));
  const statusResultFor = (stkEventId: string) => waitFor(async () => (await t.db.select().from(pspEvents).where(and(eq(pspEvents.eventType, "status.result"), like(pspEvents.objectId, `verify_${stkEventId}`))))[0]);
  const verify = async (stkEventId: string) => {
    const first = await processPspEvent(t.db, stkEventId, deps());
    if (first.status !== "received") return first;
    await processPspEvent(t.db, (await statusResultFor(stkEventId)).id, deps());
    return (await t.db.select().from(pspEvents).where(eq(pspEvents.id, stkEventId)))[0]!;
  };
  const forge = async (body: Record<string, unknown>) => {
    const raw = JSON.stringify(body);
    expect(await receiveMpesaCallback(t.db, stkToken(), raw)).toMatchObject({ status: 200 });
    // raw_body is stored encrypted; Daraja event ids end with a digest of the body (daraja/transform.ts).
    const digest = createHash("sha256").update(raw).digest("hex").slice(0, 16);
    return (await t.db.select().from(pspEvents).where(like(pspEvents.eventId, `stk:%:${digest}`)))[0]!;
  };
  const withItems = (cb: Record<string, unknown>, patch: Record<string, unknown>) => {
    const copy = structuredClone(cb) as { Body: { stkCallback: { CallbackMetadata: { Item: { Name: string; Value?: unknown }[] } } } };
    for (const item of copy.Body.stkCallback.CallbackMetadata.Item) if (item.Name in patch) item.Value = patch[item.Name];
    return copy;
  };

  it("a genuine callback is confirmed by STK query and transaction status, then processed", async () => {
    const p = await push("0712345678");
    const ev = await stkEvent(p.pspReference);
    const done = await verify(ev.id);
    expect(done).toMatchObject({ status: "processed", verdict: { outcome: "succeeded", amountMinor: "50000", confirmedBy: "stk_query+transaction_status" } });
    // Neither the callback nor Daraja's status result (DebitPartyName) is stored with the phone in clear.
    const status = await statusResultFor(ev.id);
    for (const id of [ev.id, status.id]) {
      const [row] = await t.sql`select t::text as row from psp_events t where id = ${id}`;
      expect(String(row!.row)).not.toContain("712345678");
    }
    expect(JSON.stringify(status.payload)).toContain("254******678 - S***");
  });

  it("a spoofed amount is rejected and moves nothing", async () => {
    const p = await push("0712345678");
    const real = await stkEvent(p.pspReference);
    const spoof = await forge(withItems(real.payload, { Amount: 5000 }));
    expect(await verify(spoof.id)).toMatchObject({ status: "rejected", verdict: { reason: "amount_mismatch" } });
  });

  it("a spoofed receipt is not confirmed by transaction status and is rejected", async () => {
    const p = await push("0712345678");
    const real = await stkEvent(p.pspReference);
    const spoof = await forge(withItems(real.payload, { MpesaReceiptNumber: "FAKE000000" }));
    expect(await verify(spoof.id)).toMatchObject({ status: "rejected", verdict: { reason: "receipt_not_confirmed", checks: { receipt: false } } });
    // The genuine callback for the same payment is unaffected by the spoof stored beside it.
    expect(await verify(real.id)).toMatchObject({ status: "processed", verdict: { outcome: "succeeded" } });
  });

  it("a forged success for a payment the customer cancelled is rejected (query says 1032)", async () => {
    const p = await push("254700001032");
    const real = await stkEvent(p.pspReference);
    const cb = structuredClone(real.payload) as { Body: { stkCallback: Record<string, unknown> } };
    Object.assign(cb.Body.stkCallback, { ResultCode: 0, ResultDesc: "ok", CallbackMetadata: { Item: [{ Name: "Amount", Value: 500 }, { Name: "MpesaReceiptNumber", Value: "SPOOF00001" }] } });
    expect(await verify((await forge(cb)).id)).toMatchObject({ status: "rejected", verdict: { reason: "result_code_mismatch" } });
    expect(await verify(real.id)).toMatchObject({ status: "processed", verdict: { outcome: "canceled", confirmedBy: "stk_query" } });
  });

  it("a callback for a CheckoutRequestID we never pushed is rejected", async () => {
    const body = { Body: { stkCallback: { MerchantRequestID: "1", CheckoutRequestID: "ws_CO_NOT_OURS", ResultCode: 0, ResultDesc: "ok", CallbackMetadata: { Item: [{ Name: "Amount", Value: 1 }] } } } };
    expect(await verify((await forge(body)).id)).toMatchObject({ status: "rejected", verdict: { reason: "unknown_checkout_request" } });
  });

  it("a wrong path token gets 404 and stores nothing; a malformed body gets 400", async () => {
    const before = (await t.db.select().from(pspEvents)).length;
    expect(await receiveMpesaCallback(t.db, "not-the-token", JSON.stringify({ Body: { stkCallback: { CheckoutRequestID: "x", ResultCode: 0 } } }))).toMatchObject({ status: 404 });
    expect(await receiveMpesaCallback(t.db, stkToken(), "{not json")).toMatchObject({ status: 400 });
    expect((await t.db.select().from(pspEvents)).length).toBe(before);
  });

  it("a duplicated Daraja callback is stored once", async () => {
    const p = await mpesa.createPayment({ amount: money(10000n, "KES"), idempotencyKey: key("dup"), reference: "dup", paymentMethod: { type: "mpesa_phone", phone: "0712345678" }, sandboxFault: "webhook_duplicate" });
    await waitFor(async () => ((await eventsFor(p.pspReference)).length ? true : undefined));
    await sandbox.webhooksIdle();
    expect(receiver.received.filter((x) => x.body.includes(p.pspReference))).toHaveLength(2);
    expect(await eventsFor(p.pspReference)).toHaveLength(1);
  });
});
