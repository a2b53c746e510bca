import { createHash } from "node:crypto";
import { count, eq } from "drizzle-orm";
import { serve } from "inngest/next";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as route from "@/app/api/inngest/route";
import type { Db } from "@/db/client";
import { checkouts, ledgerTransactions, paymentAttempts, paymentOrders, sellers } from "@/db/schema";
import { createInngestClient } from "@/inngest/client";
import { buildCallBody, canonicalJson, signBody } from "@/inngest/engine/protocol";
import { TEST_SIGNING_KEY } from "@/inngest/engine/test-keys";
import { functions as appFunctions } from "@/inngest/functions";
import { createPaymentFunctions } from "@/inngest/functions/payments";
import { serveOptions } from "@/inngest/serve-options";
import { startTestSandbox } from "@/sandbox/testing";
import type { Sandbox } from "@/sandbox";
import { prepareCardPayment } from "@/server/payments/attempts";
import { createCheckout } from "@/server/payments/create-checkout";
import { getConnector, type PspName } from "@/server/psp";
import { getWallet } from "@/server/wallet";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createMerchant } from "@/test/fixtures";

// The forged-payment exploit against /api/inngest: a caller who knows a checkout's attempt and PaymentIntent
// ids (any holder of the checkout link learns them from checkout.prepareCard) posts a run of
// execute-payment-attempt with made-up memoized step results saying the PSP answered "succeeded". It must
// be refused unless signed with the signing key, and even a correctly signed call with forged memos must
// never credit a seller: outcomes are applied only from a PSP read made in the applying step.

const APP = "http://app.test/api/inngest";
const sha1 = (s: string) => createHash("sha1").update(s).digest("hex");
const OTHER_KEY = `signkey-test-${"9".repeat(64)}`;

let t: TestDatabase;
let sandbox: Sandbox;
let sellerIds: string[];
let checkoutId: string;
let attemptId: string;
let paymentIntentId: string;
let total: bigint;
const connectorFor = (db: Db, psp: PspName) => getConnector(db, psp, { apiBase: sandbox.url });

/** What the served app sent out (its registration with Inngest), captured instead of sent. */
const sent: { url: string; body: string }[] = [];
const capture = (async (input: string | URL | Request, init?: RequestInit) => {
  sent.push({ url: String(input), body: String(init?.body ?? "") });
  return Response.json({ ok: true, modified: true });
}) as typeof fetch;

/** The app's payment functions on the test database, served exactly as the route serves them. */
function servedPayments() {
  const client = createInngestClient({ signingKey: TEST_SIGNING_KEY, eventKey: "test", devUrl: "http://engine.test", fetch: capture });
  return serve({ client, functions: createPaymentFunctions(client, { getDb: () => t.db, connectorFor, statusWaits: ["1s"] }), ...serveOptions(APP) });
}

type Handler = (req: Request) => Promise<Response>;
const asHandler = (h: unknown) => h as Handler;

function forgedBody(): string {
  const plan = { attemptId, method: "card", psp: "stripe", pspReference: paymentIntentId, status: "pending" };
  const paid = { psp: "stripe", pspReference: paymentIntentId, status: "succeeded", amountMinor: total.toString(), currency: "KES", fetchedAt: new Date().toISOString() };
  const steps = {
    [sha1("load-attempt")]: { type: "data" as const, data: plan },
    // The step ids of the code as the review found it, and of the code now: neither may be trusted.
    [sha1("check-status-0")]: { type: "data" as const, data: paid },
    [sha1("settle-0")]: { type: "data" as const, data: { pspReference: paymentIntentId, status: "succeeded", outcome: "succeeded" } },
  };
  return canonicalJson(
    buildCallBody({ runId: "01FORGEDRUN0000000000000000", event: { name: "payment/attempt.execute", data: { attemptId }, id: "forged", ts: Date.now() }, steps, stack: Object.keys(steps), attempt: 0, maxAttempts: 6 }),
  );
}

function call(handler: Handler, body: string, headers: Record<string, string> = {}, fnId = "paybridge-execute-payment-attempt") {
  return handler(new Request(`${APP}?fnId=${fnId}&stepId=step`, { method: "POST", body, headers: { "content-type": "application/json", ...headers } }));
}

async function nothingChanged() {
  const [c] = await t.db.select({ status: checkouts.status }).from(checkouts).where(eq(checkouts.id, checkoutId));
  expect(c?.status).toBe("open");
  const [a] = await t.db.select({ status: paymentAttempts.status }).from(paymentAttempts).where(eq(paymentAttempts.id, attemptId));
  expect(a?.status).toBe("pending");
  const orders = await t.db.select({ status: paymentOrders.status }).from(paymentOrders).where(eq(paymentOrders.checkoutId, checkoutId));
  expect(orders.map((o) => o.status)).toEqual(["NOT_STARTED", "NOT_STARTED"]);
  const [{ n }] = (await t.db.select({ n: count() }).from(ledgerTransactions)) as [{ n: number }];
  expect(n).toBe(0);
  for (const s of sellerIds) expect((await getWallet(t.db, s, "KES")).pending.amount).toBe(0n);
}

beforeAll(async () => {
  t = await createTestDatabase();
  sandbox = await startTestSandbox();
  const merchantId = (await createMerchant(t.db, "Forgery Target")).id;
  const rows = await t.db.select().from(sellers).where(eq(sellers.merchantId, merchantId)).orderBy(sellers.reference);
  sellerIds = rows.map((r) => r.id);
  const res = await createCheckout(t.db, {
    merchantId,
    input: {
      buyer_info: { email: "victim@example.test" },
      return_url: "https://shop.example/r",
      payment_orders: rows.map((r, i) => ({ payment_order_id: `forge_${i}`, seller_account: r.reference, amount: "250.00", currency: "KES" as const })),
    },
  });
  checkoutId = res.body.checkout_id;
  // What checkout.prepareCard hands any holder of the link.
  const session = await prepareCardPayment(t.db, connectorFor(t.db, "stripe"), checkoutId);
  attemptId = session.attemptId;
  paymentIntentId = session.clientSecret.split("_secret_")[0]!;
  const [c] = await t.db.select({ total: checkouts.totalAmount }).from(checkouts).where(eq(checkouts.id, checkoutId));
  total = c!.total;
});
afterAll(async () => {
  await sandbox?.stop();
  await t?.drop();
});

describe("forged calls to /api/inngest are refused (401) and change nothing", () => {
  it("unsigned, signed with another key, expired, or with a signature of another body", async () => {
    const served = asHandler(servedPayments().POST);
    const body = forgedBody();
    const cases: Record<string, Record<string, string>> = {
      unsigned: {},
      "another key": { "x-inngest-signature": signBody(body, OTHER_KEY, Date.now()) },
      "expired (10 min old)": { "x-inngest-signature": signBody(body, TEST_SIGNING_KEY, Date.now() - 10 * 60_000) },
      "signature of another body": { "x-inngest-signature": signBody(canonicalJson({ hello: 1 }), TEST_SIGNING_KEY, Date.now()) },
      garbage: { "x-inngest-signature": "t=1&s=zz" },
    };
    for (const [name, headers] of Object.entries(cases)) {
      const res = await call(served, body, headers);
      expect(res.status, name).toBe(401);
    }
    await nothingChanged();
  });

  it("the app's real route refuses unsigned runs of every function, syncs and introspection", async () => {
    const body = forgedBody();
    const ids = appFunctions.map((f) => f.id("paybridge"));
    expect(ids).toContain("paybridge-execute-payment-attempt");
    for (const fnId of ids) {
      const res = await call(asHandler(route.POST), body, {}, fnId);
      expect(res.status, fnId).toBe(401);
      const wrong = await call(asHandler(route.POST), body, { "x-inngest-signature": signBody(body, OTHER_KEY, Date.now()) }, fnId);
      expect(wrong.status, fnId).toBe(401);
    }
    const syncBody = canonicalJson({ url: "https://attacker.example/api/inngest" });
    const inBand = await asHandler(route.PUT)(new Request(APP, { method: "PUT", body: syncBody, headers: { "content-type": "application/json", "x-inngest-sync-kind": "in_band" } }));
    expect(inBand.status).toBe(401);
    // Out of band, the SDK would register the app at the URL taken from the caller's Host header.
    const outOfBand = await asHandler(route.PUT)(new Request("http://attacker.example/api/inngest", { method: "PUT" }));
    expect(outOfBand.status).toBe(401);
    const introspect = await asHandler(route.GET)(new Request(APP, { method: "GET" }));
    expect(introspect.status).toBe(401);
    await nothingChanged();
  });
});

describe("a replayed signed sync cannot move the app", () => {
  it("the registered URL is pinned to APP_URL, whatever Host the replayer sends", async () => {
    const served = servedPayments();
    const body = canonicalJson({ url: APP });
    // A signed in-band sync captured off the wire, replayed without its sync-kind header to another host.
    const res = await asHandler(served.PUT)(new Request("http://attacker.example/api/inngest", { method: "PUT", body, headers: { "content-type": "application/json", "x-inngest-signature": signBody(body, TEST_SIGNING_KEY, Date.now()) } }));
    expect(res.status).toBe(200);
    const registration = sent.find((s) => s.url.endsWith("/fn/register"));
    expect(registration).toBeDefined();
    expect(registration!.body).not.toContain("attacker.example");
    expect(JSON.parse(registration!.body).url).toBe(APP);
  });
});

describe("defense in depth: a correctly signed call with forged memoized results credits nobody", () => {
  it("the outcome is read from the PSP in the applying step, not from the memo", async () => {
    const served = asHandler(servedPayments().POST);
    const body = forgedBody();
    const res = await call(served, body, { "x-inngest-signature": signBody(body, TEST_SIGNING_KEY, Date.now()) });
    // The SDK runs the next step for real: the PaymentIntent was never confirmed, so nothing is final.
    expect([200, 206]).toContain(res.status);
    await nothingChanged();
    const pi = sandbox.stripeObjects("payment_intent").find((p) => p.id === paymentIntentId);
    expect(pi?.status).not.toBe("succeeded");
  });
});
