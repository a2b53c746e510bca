// The route handlers themselves, called with real Requests against the test database. DATABASE_URL is set
// before the first import of server/env.js (which reads it once), so the routes' getDb() uses the test db.
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@/test/db";

const WEBHOOK_SECRET = "whsec_sandbox_paybridge_dev_secret";
let t: TestDatabase;
let stripeRoute: typeof import("./stripe/route");
let mpesaRoute: typeof import("./mpesa/[token]/route");
let token: string;

beforeAll(async () => {
  t = await createTestDatabase();
  // eslint-disable-next-line no-restricted-properties -- the route reads env once; point it at this test's database first
  process.env.DATABASE_URL = t.url;
  stripeRoute = await import("./stripe/route");
  mpesaRoute = await import("./mpesa/[token]/route");
  const { mpesaCallbackToken } = await import("@/server/psp/daraja/callback-tokens");
  const { env } = await import("@/server/env.js");
  expect(env.STRIPE_WEBHOOK_SECRET).toBe(WEBHOOK_SECRET);
  token = mpesaCallbackToken(env.MPESA_CALLBACK_SECRET, "stk");
});
afterAll(async () => {
  await t?.drop();
});

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
