// Stripe refund and dispute events end to end: the sandbox signs and delivers them (driven through the real SDK),
// receiveStripeWebhook stores them, processPspEvent concludes them with stripe-refund.ts / stripe-dispute.ts, and
// the dispatcher routes their effects to the refunds and disputes domains (wakeRefund, wakeDispute).
import { and, eq, inArray } from "drizzle-orm";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outboxEvents, pspEvents } from "@/db/schema";
import { env } from "@/server/env.js";
import { money } from "@/server/money";
import { createStripeConnector } from "@/server/psp";
import type { StripeConnector } from "@/server/psp/stripe/connector";
import type { Sandbox } from "@/sandbox/index";
import { type Receiver, startReceiver, startTestSandbox, waitFor } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { processPspEvent, processPspEventAndWake } from "../process-psp-event";
import { receiveStripeWebhook } from "../receive-stripe-webhook";
import { stripeDisputeEvents } from "./stripe-dispute";
import { stripeRefundEvents } from "./stripe-refund";

let sandbox: Sandbox;
let receiver: Receiver;
let t: TestDatabase;
let stripe: StripeConnector;
let sdk: Stripe;
let n = 0;
const key = (l: string) => `rd_${l}_${++n}_${Date.now()}`;

beforeAll(async () => {
  t = await createTestDatabase();
  receiver = await startReceiver(async (path, body, headers) => (path === "/stripe" ? receiveStripeWebhook(t.db, body, (headers["stripe-signature"] as string | undefined) ?? null) : { status: 404, body: {} }));
  sandbox = await startTestSandbox({ webhookTargets: { stripe: [`${receiver.url}/stripe`] } });
  stripe = createStripeConnector(t.db, { apiBase: sandbox.url, timeoutMs: 5_000 });
  sdk = new Stripe(env.STRIPE_SECRET_KEY, { host: "127.0.0.1", port: sandbox.port, protocol: "http", maxNetworkRetries: 0, timeout: 5_000 });
});
afterAll(async () => {
  await sandbox?.stop();
  await receiver?.stop();
  await t?.drop();
});

const pay = async (token: string) => {
  const k = key("pay");
  const r = await stripe.createPayment({ amount: money(2000n, "USD"), idempotencyKey: k, reference: k, paymentMethod: { type: "card_token", token } });
  expect(r.status).toBe("succeeded");
  return r.pspReference;
};

/** Stored events about one PSP object, once `types` have all arrived. */
async function storedFor(objectId: string, types: string[]) {
  return waitFor(
    async () => {
      const rows = await t.db.select().from(pspEvents).where(and(eq(pspEvents.psp, "stripe"), eq(pspEvents.objectId, objectId)));
      return types.every((ty) => rows.some((r) => r.eventType === ty)) ? rows : undefined;
    },
    25_000,
    50,
    async () => (await t.db.select({ type: pspEvents.eventType }).from(pspEvents).where(eq(pspEvents.objectId, objectId))).map((r) => r.type),
  );
}

describe("Stripe refund events", () => {
  it("refund.created / refund.updated / refund.failed / charge.refund.updated are processed with the refund's status; the effect names the refund and its PaymentIntent", async () => {
    const pi = await pay("pm_card_refundFail");
    const r = await stripe.refundPayment({ pspReference: pi, amount: money(900n, "USD"), idempotencyKey: key("re") });
    const rows = await storedFor(r.pspRefundId, ["refund.created", "refund.updated", "refund.failed", "charge.refund.updated"]);
    for (const row of rows) {
      const done = await processPspEvent(t.db, row.id);
      expect(done).toMatchObject({ status: "processed", verdict: { type: row.eventType, object: "refund", objectId: r.pspRefundId, amountMinor: "900", currency: "USD", paymentIntent: pi } });
      expect(await stripeRefundEvents.effects(t.db, done)).toEqual([{ type: "refund.updated", psp: "stripe", pspRefundId: r.pspRefundId, pspReference: pi }]);
    }
    const failed = (await Promise.all(rows.map((row) => processPspEvent(t.db, row.id)))).find((row) => row.eventType === "refund.failed")!;
    expect(failed.verdict).toMatchObject({ status: "failed", failureReason: "expired_or_canceled_card" });
    const created = rows.find((row) => row.eventType === "refund.created")!;
    expect((await processPspEvent(t.db, created.id)).verdict).toMatchObject({ status: "succeeded", failureReason: null });
  });

  it("the dispatcher routes the effect to the refunds domain (a refund that is not ours wakes nothing); charge.refunded stays a recorded event", async () => {
    const pi = await pay("pm_card_visa");
    const r = await stripe.refundPayment({ pspReference: pi, amount: money(300n, "USD"), idempotencyKey: key("re") });
    const [created] = await storedFor(r.pspRefundId, ["refund.created"]);
    const applied = await processPspEventAndWake(t.db, created!.id);
    expect(applied).toEqual({ status: "processed", effects: [{ type: "refund.updated", psp: "stripe", pspRefundId: r.pspRefundId, pspReference: pi }], pspReference: pi, woke: false });
    const charge = (await sdk.paymentIntents.retrieve(pi)).latest_charge as string;
    const [refunded] = await storedFor(charge, ["charge.refunded"]);
    expect(await processPspEventAndWake(t.db, refunded!.id)).toMatchObject({ status: "processed", effects: [], woke: false });
  });
});

describe("Stripe dispute events", () => {
  it("created, funds_withdrawn, updated, funds_reinstated, closed: processed, each effect enqueues dispute/psp.updated once (replays add nothing)", async () => {
    const pi = await pay("pm_card_createDispute");
    const dp = await waitFor(async () => (await sdk.disputes.list({ payment_intent: pi })).data[0]);
    await stripe.submitDisputeEvidence({ pspDisputeId: dp.id, evidence: { uncategorizedText: "winning_evidence" }, idempotencyKey: key("ev") });
    const types = ["charge.dispute.created", "charge.dispute.funds_withdrawn", "charge.dispute.updated", "charge.dispute.funds_reinstated", "charge.dispute.closed"];
    const rows = await storedFor(dp.id, types);
    for (const row of rows) {
      const applied = await processPspEventAndWake(t.db, row.id);
      expect(applied).toEqual({ status: "processed", effects: [{ type: "dispute.updated", psp: "stripe", pspDisputeId: dp.id, pspReference: pi }], pspReference: pi, woke: true });
      const concluded = await processPspEvent(t.db, row.id);
      expect(concluded.verdict).toMatchObject({ type: row.eventType, object: "dispute", objectId: dp.id, amountMinor: "2000", currency: "USD", reason: "fraudulent", paymentIntent: pi, charge: dp.charge });
      expect(await stripeDisputeEvents.effects(t.db, concluded)).toHaveLength(1);
      // A replayed step re-applies the same effect: the outbox id derives from the stored event, so nothing new.
      await processPspEventAndWake(t.db, row.id);
    }
    const outbox = await t.db.select().from(outboxEvents).where(inArray(outboxEvents.id, rows.map((r) => `dispute-psp-updated:${r.id}`)));
    expect(outbox).toHaveLength(rows.length);
    expect(outbox.every((o) => o.name === "dispute/psp.updated" && (o.data as { pspDisputeId?: string }).pspDisputeId === dp.id)).toBe(true);
    const statuses = Object.fromEntries((await Promise.all(rows.map((r) => processPspEvent(t.db, r.id)))).map((r) => [r.eventType, (r.verdict as { pspStatus: string }).pspStatus]));
    expect(statuses["charge.dispute.closed"]).toBe("won");
  });

  it("an inquiry's created event (no withdrawal) is processed the same way", async () => {
    const pi = await pay("pm_card_createDisputeInquiry");
    const dp = await waitFor(async () => (await sdk.disputes.list({ payment_intent: pi })).data[0]);
    const [created] = await storedFor(dp.id, ["charge.dispute.created"]);
    const concluded = await processPspEvent(t.db, created!.id);
    expect(concluded).toMatchObject({ status: "processed", verdict: { pspStatus: "warning_needs_response", paymentIntent: pi } });
    expect(await stripeDisputeEvents.effects(t.db, concluded)).toEqual([{ type: "dispute.updated", psp: "stripe", pspDisputeId: dp.id, pspReference: pi }]);
  });
});
