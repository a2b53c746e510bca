// The route handlers themselves, called with real Requests against the test database. DATABASE_URL is set
// before the first import of server/env.js (which reads it once), so the routes' getDb() uses the test db.
import type { IncomingHttpHeaders } from "node:http";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sandbox } from "@/sandbox/index";
import type { Receiver } from "@/sandbox/testing";
import { createTestDatabase, pointRoutesAt, type TestDatabase } from "@/test/db";

const WEBHOOK_SECRET = "whsec_sandbox_paybridge_dev_secret";
const MPESA_PREFIX = "/api/webhooks/mpesa/";
let t: TestDatabase;
let stripeRoute: typeof import("./stripe/route");
let mpesaRoute: typeof import("./mpesa/[token]/route");
let token: string;
let sandbox: Sandbox | undefined;
let receiver: Receiver | undefined;

beforeAll(async () => {
  t = await createTestDatabase();
  pointRoutesAt(t);
  stripeRoute = await import("./stripe/route");
  mpesaRoute = await import("./mpesa/[token]/route");
  const { mpesaCallbackToken } = await import("@/server/psp/daraja/callback-tokens");
  const { env } = await import("@/server/env.js");
  expect(env.STRIPE_WEBHOOK_SECRET).toBe(WEBHOOK_SECRET);
  token = mpesaCallbackToken(env.MPESA_CALLBACK_SECRET, "stk");
});
afterAll(async () => {
  await sandbox?.stop();
  await receiver?.stop();
  await t?.drop();
});

/** Forwards what the sandbox delivers to the route handlers themselves, as Next.js would. */
async function toRoutes(path: string, body: string, headers: IncomingHttpHeaders): Promise<{ status: number; body: unknown }> {
  const request = new Request(`http://localhost${path}`, { method: "POST", headers: { "stripe-signature": String(headers["stripe-signature"] ?? "") }, body });
  const res = path === "/api/webhooks/stripe" ? await stripeRoute.POST(request) : path.startsWith(MPESA_PREFIX) ? await mpesaRoute.POST(request, { params: Promise.resolve({ token: path.slice(MPESA_PREFIX.length) }) }) : Response.json({}, { status: 404 });
  return { status: res.status, body: await res.json() };
}

const count = async () => Number((await t.sql`select count(*)::int as n from psp_events`)[0]!.n);

describe("POST /api/webhooks/stripe", () => {
  const payload = JSON.stringify({ id: "evt_route_1", object: "event", type: "payment_intent.succeeded", created: 1, data: { object: { id: "pi_route", object: "payment_intent" } } });
  const post = (signature: string) => stripeRoute.POST(new Request("http://localhost/api/webhooks/stripe", { method: "POST", headers: { "stripe-signature": signature, "content-type": "application/json" }, body: payload }));

  it("400 for a bad signature, 200 for a good one, 200 again for the duplicate; one row", async () => {
    const bad = Stripe.webhooks.generateTestHeaderString({ payload, secret: "whsec_wrong" });
    expect((await post(bad)).status).toBe(400);
    expect(await count()).toBe(0);
    const good = Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
    const first = await post(good);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ received: true, duplicate: false });
    const dup = await post(good);
    expect(await dup.json()).toEqual({ received: true, duplicate: true });
    expect(await count()).toBe(1);
  });
});

describe("POST /api/webhooks/mpesa/[token]", () => {
  const body = JSON.stringify({ Body: { stkCallback: { MerchantRequestID: "m", CheckoutRequestID: "ws_CO_route", ResultCode: 1032, ResultDesc: "Request cancelled by user" } } });
  const post = (tok: string) => mpesaRoute.POST(new Request(`http://localhost/api/webhooks/mpesa/${tok}`, { method: "POST", body }), { params: Promise.resolve({ token: tok }) });

  it("404 and nothing stored for a wrong token; the Daraja ack for the right one", async () => {
    const before = await count();
    expect((await post("wrong-token")).status).toBe(404);
    expect(await count()).toBe(before);
    const ok = await post(token);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ResultCode: 0, ResultDesc: "Accepted" });
    expect(await count()).toBe(before + 1);
  });
});

describe("personal data in stored PSP events (through the routes)", () => {
  const PHONE = "254712345678";
  const NATIONAL = "712345678";
  /** Every column of every psp_events row, as Postgres prints it. */
  const storedText = async () => (await t.sql`select t::text as row from psp_events t`).map((r) => String(r.row)).join("\n");

  it("an M-Pesa payment: no phone in clear in any stored row, and verification still succeeds", async () => {
    const { startReceiver, startTestSandbox, waitFor } = await import("@/sandbox/testing");
    const { createDarajaConnector } = await import("@/server/psp");
    const { processPspEvent } = await import("@/server/webhooks/process-psp-event");
    const { decryptField } = await import("@/server/crypto/field");
    const { money } = await import("@/server/money");
    receiver = await startReceiver(toRoutes);
    sandbox = await startTestSandbox({ webhookTargets: { stripe: [`${receiver.url}/api/webhooks/stripe`] } });
    const mpesa = createDarajaConnector(t.db, { apiBase: sandbox.url, appUrl: receiver.url, timeoutMs: 2_000 });
    const deps = { daraja: () => mpesa };

    const push = await mpesa.createPayment({ amount: money(50000n, "KES"), idempotencyKey: "route-pii-1", reference: "route-pii-1", paymentMethod: { type: "mpesa_phone", phone: "0712 345 678" } });
    const events = () => t.sql<{ id: string; event_type: string; raw_body: string; payload: Record<string, unknown> }[]>`select id, event_type, raw_body, payload from psp_events where object_id = ${push.pspReference} or object_id like 'verify_%'`;
    const stk = await waitFor(async () => (await events()).find((e) => e.event_type === "stk.callback"));
    // The callback as Daraja sent it carries the phone; the route answered Daraja's ack.
    const delivered = receiver.received.find((r) => r.body.includes(push.pspReference))!;
    expect(delivered).toMatchObject({ status: 200 });
    expect(delivered.body).toContain(PHONE);

    expect((await processPspEvent(t.db, stk.id, deps)).status).toBe("received");
    const status = await waitFor(async () => (await events()).find((e) => e.event_type === "status.result"));
    await processPspEvent(t.db, status.id, deps);
    const done = await processPspEvent(t.db, stk.id, deps);
    expect(done).toMatchObject({ status: "processed", verdict: { outcome: "succeeded", amountMinor: "50000", currency: "KES", confirmedBy: "stk_query+transaction_status" } });

    const text = await storedText();
    expect(text).not.toContain(NATIONAL);
    expect(JSON.stringify(stk.payload)).toContain("254******678");
    expect(JSON.stringify(status.payload)).toContain("254******678 - S***");
    // The exact bytes are kept, encrypted: they decrypt to what Daraja delivered.
    expect(decryptField(stk.raw_body)).toBe(delivered.body);
  });

  it("a Stripe event with billing details: no name, email, phone or address in clear; same verdict", async () => {
    const { processPspEvent } = await import("@/server/webhooks/process-psp-event");
    const person = { name: "Amina Wanjiru", email: "amina.route@example.com", phone: `+${PHONE}`, address: { city: "Nairobi", country: "KE", line1: "12 Moi Avenue", line2: null, postal_code: "00100", state: null } };
    const charge = { id: "ch_route_pii", object: "charge", billing_details: person, receipt_email: person.email };
    const pi = { id: "pi_route_pii", object: "payment_intent", amount: 2500, currency: "usd", status: "succeeded", latest_charge: charge, receipt_email: person.email, shipping: { ...person, carrier: null }, last_payment_error: null };
    const payload = JSON.stringify({ id: "evt_route_pii", object: "event", type: "payment_intent.succeeded", created: 1, data: { object: pi } });
    const res = await stripeRoute.POST(new Request("http://localhost/api/webhooks/stripe", { method: "POST", headers: { "stripe-signature": Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET }) }, body: payload }));
    expect(res.status).toBe(200);
    const [row] = await t.sql<{ id: string }[]>`select id from psp_events where event_id = 'evt_route_pii'`;
    const text = await storedText();
    for (const clear of [PHONE, NATIONAL, "Amina", "Wanjiru", person.email, "Moi Avenue", "00100"]) expect(text).not.toContain(clear);
    expect(await processPspEvent(t.db, row!.id)).toMatchObject({ status: "processed", verdict: { objectId: "pi_route_pii", status: "succeeded", amountMinor: "2500", currency: "USD" } });
  });
});
