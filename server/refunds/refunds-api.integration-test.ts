import { and, count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as disputeRoute from "@/app/api/v1/disputes/[id]/route";
import * as disputesRoute from "@/app/api/v1/disputes/route";
import * as refundCancelRoute from "@/app/api/v1/refunds/[id]/cancel/route";
import * as refundRoute from "@/app/api/v1/refunds/[id]/route";
import * as refundsRoute from "@/app/api/v1/refunds/route";
import type { Db } from "@/db/client";
import { apiRequestLog, idempotencyKeys, paymentAttempts, paymentOrders, refunds, sellers } from "@/db/schema";
import { flushApiRequestLog } from "@/server/api-log/record";
import { createApiKey } from "@/server/api-keys/keys";
import { getDisputeRoute, listDisputesRoute } from "@/server/disputes/routes";
import { createDispute } from "@/server/disputes/state-machine";
import { HTTP_METHODS } from "@/server/http/route-fallbacks";
import { applyAttemptOutcome } from "@/server/payments/apply-outcome";
import { prepareCardPayment } from "@/server/payments/attempts";
import { buildOpenApiDocument, ZDispute, ZRefund } from "@/server/payments/openapi";
import { getConnector, type PspName } from "@/server/psp";
import type { Sandbox } from "@/sandbox";
import { paymentIntentOf, startTestSandbox, waitFor } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createMerchant, createTestCheckout } from "@/test/fixtures";
import { applyRefundOutcome } from "./apply-outcome";
import { sendRefund } from "./execution";
import { cancelRefundRoute, createRefundRoute, getRefundRoute, listRefundsRoute } from "./routes";

// The public refunds and disputes API (issue 12), through the exact route handlers on a real database, with
// payments paid for real in the PSP sandbox (real stripe SDK): POST /api/v1/refunds with its Idempotency-Key,
// amounts read exactly in the order's currency, the refundable amount named when exceeded, two keys racing on the
// last of an order, another merchant's ids, the Stripe-style lists; GET /api/v1/disputes on disputes recorded the
// way the PSP sync records them (createDispute).

let t: TestDatabase;
let sandbox: Sandbox;
let merchantId: string;
let otherMerchantId: string;
let secret: string;
let otherSecret: string;
let publishable: string;
let refs: string[];
let otherRefs: string[];

type Handler = (req: Request, ctx: { params: Promise<unknown> }) => Promise<Response>;
let postRefund: Handler;
let getRefund: Handler;
let listRefunds: Handler;
let cancel: Handler;
let getDispute: Handler;
let listDisputes: Handler;

const connectorFor = (db: Db, psp: PspName) => getConnector(db, psp, { apiBase: sandbox.url, timeoutMs: 5_000 });

beforeAll(async () => {
  t = await createTestDatabase();
  // Slow async settling: a refund on the "refund pending" card stays pending long enough to be canceled.
  sandbox = await startTestSandbox({ asyncSettleMs: 30_000 });
  merchantId = (await createMerchant(t.db, "Refund Shop")).id;
  otherMerchantId = (await createMerchant(t.db, "Other Shop")).id;
  secret = (await createApiKey(t.db, { merchantId, kind: "secret", name: "server" })).key;
  publishable = (await createApiKey(t.db, { merchantId, kind: "publishable", name: "browser" })).key;
  otherSecret = (await createApiKey(t.db, { merchantId: otherMerchantId, kind: "secret", name: "other" })).key;
  const refsOf = async (m: string) => (await t.db.select().from(sellers).where(eq(sellers.merchantId, m)).orderBy(sellers.reference)).map((s) => s.reference);
  refs = await refsOf(merchantId);
  otherRefs = await refsOf(otherMerchantId);
  postRefund = createRefundRoute(() => t.db) as Handler;
  getRefund = getRefundRoute(() => t.db) as Handler;
  listRefunds = listRefundsRoute(() => t.db) as Handler;
  cancel = cancelRefundRoute(() => t.db, { connectorFor }) as Handler;
  getDispute = getDisputeRoute(() => t.db) as Handler;
  listDisputes = listDisputesRoute(() => t.db) as Handler;
}, 60_000);
afterAll(async () => {
  await flushApiRequestLog(); // the request log is written after each answer: let it land before the database goes
  await sandbox?.stop();
  await t?.drop();
});

/** A checkout paid by card in the sandbox, its outcome applied as the execution applies it. */
async function paidCheckout(opts: { merchant?: string; sellerRefs?: string[]; amounts?: string[]; currency?: "KES" | "USD" | "JPY"; card?: string } = {}) {
  const c = await createTestCheckout(t.db, { merchantId: opts.merchant ?? merchantId, sellerRefs: opts.sellerRefs ?? refs, amounts: opts.amounts ?? ["100.00"], currency: opts.currency });
  const stripe = connectorFor(t.db, "stripe");
  const session = await prepareCardPayment(t.db, stripe, c.checkout_id);
  const pi = paymentIntentOf(session.clientSecret);
  await stripe.confirmPayment({ pspReference: pi, paymentMethodToken: opts.card ?? "pm_card_visa", idempotencyKey: `confirm-${pi}` });
  const [attempt] = await t.db.select().from(paymentAttempts).where(eq(paymentAttempts.pspReference, pi));
  expect(await applyAttemptOutcome(t.db, attempt!.id, await stripe.getPaymentStatus({ pspReference: pi }))).toBe("succeeded");
  // The i-th amount's order (paid to sellerRefs[i]), by its place in the checkout.
  const orders = await t.db.select().from(paymentOrders).where(eq(paymentOrders.checkoutId, c.checkout_id)).orderBy(paymentOrders.position);
  return { checkoutId: c.checkout_id, orderIds: orders.map((o) => o.paymentOrderId), attemptId: attempt!.id, pi };
}

const auth = (key: string) => ({ authorization: `Bearer ${key}` });

function post(body: unknown, opts: { key?: string; idem?: string | null } = {}) {
  const headers: Record<string, string> = { "content-type": "application/json", ...auth(opts.key ?? secret) };
  if (opts.idem !== null) headers["idempotency-key"] = opts.idem ?? `idem-${Math.random()}`;
  return postRefund(new Request("http://localhost/api/v1/refunds", { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) }), { params: Promise.resolve({}) });
}
function get(handler: Handler, path: string, params: Record<string, string> = {}, key = secret) {
  return handler(new Request(`http://localhost${path}`, { headers: auth(key) }), { params: Promise.resolve(params) });
}
function cancelReq(id: string, opts: { key?: string; idem?: string; body?: string } = {}) {
  return cancel(
    new Request(`http://localhost/api/v1/refunds/${id}/cancel`, {
      method: "POST",
      headers: { "content-type": "application/json", ...auth(opts.key ?? secret), "idempotency-key": opts.idem ?? `cancel-${Math.random()}` },
      body: opts.body,
    }),
    { params: Promise.resolve({ id }) },
  );
}
async function errorOf(res: Response, status: number, code: string) {
  expect(res.status, await res.clone().text()).toBe(status);
  const json = (await res.json()) as { error: { code: string; message: string; request_id: string; fields?: { path: string; message: string }[]; refundable_amount?: string } };
  expect(json.error.code).toBe(code);
  expect(json.error.request_id).toBe(res.headers.get("request-id"));
  return json.error;
}
async function refundCount(orderInternalId?: string) {
  const [r] = await t.db.select({ n: count() }).from(refunds).where(orderInternalId ? eq(refunds.paymentOrderId, orderInternalId) : undefined);
  return r!.n;
}
async function orderRow(paymentOrderId: string, merchant = merchantId) {
  const [o] = await t.db.select().from(paymentOrders).where(and(eq(paymentOrders.merchantId, merchant), eq(paymentOrders.paymentOrderId, paymentOrderId)));
  return o!;
}

describe("POST /api/v1/refunds", () => {
  it("refunds part of an order, the amount read exactly in the order's currency; the same key replays the same bytes", async () => {
    const { orderIds, checkoutId } = await paidCheckout({ amounts: ["1250.50", "20.00"] });
    const body = { payment_order_id: orderIds[0], amount: "0.10", reason: "requested_by_customer", metadata: { ticket: "T-1" } };
    const res = await post(body, { idem: "refund-1" });
    expect(res.status).toBe(200);
    const text = await res.text();
    const refund = JSON.parse(text);
    expect(refund).toMatchObject({
      object: "refund",
      id: expect.stringMatching(/^rfd_/),
      payment_order_id: orderIds[0],
      checkout_id: checkoutId,
      seller_account: refs[0],
      amount: "0.10",
      currency: "KES",
      status: "pending",
      reason: "requested_by_customer",
      metadata: { ticket: "T-1" },
    });
    expect(refund).not.toHaveProperty("failure_reason");
    expect(ZRefund.strict().safeParse(refund).error).toBeUndefined(); // exactly the documented shape
    const [row] = await t.db.select().from(refunds).where(eq(refunds.id, refund.id));
    expect(row!.amount).toBe(10n); // "0.10" KES, exactly: 10 minor units
    expect(row!.origin).toBe("api");
    expect((await orderRow(orderIds[0]!)).amountRefunded).toBe(10n);

    const replay = await post(body, { idem: "refund-1" });
    expect(replay.status).toBe(200);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await replay.text()).toBe(text);
    expect(await refundCount(row!.paymentOrderId)).toBe(1);

    const reused = await errorOf(await post({ ...body, amount: "0.20" }, { idem: "refund-1" }), 422, "idempotency_key_reused");
    expect(reused.message).toBeTruthy();
    expect(await refundCount(row!.paymentOrderId)).toBe(1);

    // GET reads it back; the request was logged like every /api/v1 call.
    const read = await get(getRefund, `/api/v1/refunds/${refund.id}`, { id: refund.id });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ id: refund.id, amount: "0.10", payment_order_id: orderIds[0] });
    await waitFor(async () => {
      const rows = await t.db.select().from(apiRequestLog).where(and(eq(apiRequestLog.merchantId, merchantId), eq(apiRequestLog.idempotencyKey, "refund-1")));
      return rows.length >= 3 ? rows : undefined;
    });
  }, 60_000);

  it("without amount refunds everything left; a second refund is then refused naming 0.00 as refundable", async () => {
    const { orderIds } = await paidCheckout({ amounts: ["75.25"] });
    expect((await post({ payment_order_id: orderIds[0], amount: "25.25" })).status).toBe(200);
    const rest = await post({ payment_order_id: orderIds[0] });
    expect(rest.status).toBe(200);
    expect((await rest.json()).amount).toBe("50.00");
    expect((await orderRow(orderIds[0]!)).amountRefunded).toBe(7525n);
    const none = await errorOf(await post({ payment_order_id: orderIds[0], amount: "0.01" }), 400, "amount_exceeds_refundable");
    expect(none.refundable_amount).toBe("0.00");
  }, 60_000);

  it("an amount above what is left is a 400 amount_exceeds_refundable whose body names the refundable amount; nothing is written", async () => {
    const { orderIds } = await paidCheckout({ amounts: ["100.00"] });
    expect((await post({ payment_order_id: orderIds[0], amount: "60.00" })).status).toBe(200);
    const order = await orderRow(orderIds[0]!);
    const err = await errorOf(await post({ payment_order_id: orderIds[0], amount: "40.01" }), 400, "amount_exceeds_refundable");
    expect(err.refundable_amount).toBe("40.00");
    expect(err.message).toContain("40.00");
    expect(err.fields).toEqual([{ path: "amount", message: expect.stringContaining("40.00") }]);
    expect(await refundCount(order.id)).toBe(1);
    expect((await orderRow(orderIds[0]!)).amountRefunded).toBe(6000n);
    // Exactly what is left is fine.
    expect((await post({ payment_order_id: orderIds[0], amount: "40.00" })).status).toBe(200);
  }, 60_000);

  it("reads amounts in the order's currency: JPY has no decimals, USD two; too many is a 400 on amount", async () => {
    const jpy = await paidCheckout({ amounts: ["1250"], currency: "JPY" });
    const yen = await post({ payment_order_id: jpy.orderIds[0], amount: "1000" });
    expect(yen.status).toBe(200);
    expect((await yen.json()).amount).toBe("1000");
    const [row] = await t.db.select().from(refunds).where(eq(refunds.paymentOrderId, (await orderRow(jpy.orderIds[0]!)).id));
    expect(row!.amount).toBe(1000n);
    const decimals = await errorOf(await post({ payment_order_id: jpy.orderIds[0], amount: "1.5" }), 400, "request_rejected");
    expect(decimals.fields).toEqual([{ path: "amount", message: expect.stringMatching(/JPY allows no decimal places/) }]);

    const usd = await paidCheckout({ amounts: ["10.00"], currency: "USD" });
    const cents = await post({ payment_order_id: usd.orderIds[0], amount: "0.07" });
    expect((await cents.json()).amount).toBe("0.07");
    await errorOf(await post({ payment_order_id: usd.orderIds[0], amount: "0.001" }), 400, "request_rejected");
    expect((await orderRow(usd.orderIds[0]!)).amountRefunded).toBe(7n);
  }, 60_000);

  it("bad input is a 400 validation_failed naming each field, and writes nothing (not even the key)", async () => {
    const { orderIds } = await paidCheckout();
    const before = await refundCount();
    const cases: [unknown, string[]][] = [
      [{ payment_order_id: orderIds[0], amount: 12.5 }, ["amount"]],
      [{ payment_order_id: orderIds[0], amount: "12,50" }, ["amount"]],
      [{ payment_order_id: orderIds[0], amount: "-1.00" }, ["amount"]],
      [{ payment_order_id: orderIds[0], amount: "0.00" }, ["amount"]],
      [{ payment_order_id: orderIds[0], amount: "1e3" }, ["amount"]],
      [{ payment_order_id: orderIds[0], reason: "changed_mind" }, ["reason"]],
      [{ payment_order_id: orderIds[0], metadata: { k: 1 } }, ["metadata.k"]],
      [{ payment_order_id: orderIds[0], amout: "1.00" }, ["(body)"]],
      [{ payment_order_id: orderIds[0], metadata: JSON.parse('{"__proto__":"x"}') }, ["metadata"]],
      [{ payment_order_id: orderIds[0], metadata: { constructor: "x" } }, ["metadata"]],
      [{ amount: "1.00" }, ["payment_order_id"]],
      [{ payment_order_id: "has space" }, ["payment_order_id"]],
      [{ payment_order_id: "x".repeat(65) }, ["payment_order_id"]],
    ];
    for (const [body, paths] of cases) {
      const idem = `bad-${Math.random()}`;
      const err = await errorOf(await post(body, { idem }), 400, "validation_failed");
      expect(err.fields?.map((f) => f.path), JSON.stringify(body)).toEqual(paths);
      expect(await t.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, idem))).toEqual([]);
    }
    await errorOf(await post({ payment_order_id: orderIds[0] }, { idem: null }), 400, "validation_failed");
    await errorOf(await post("{nope"), 400, "validation_failed");
    // Hostile values: a clear 400, never a 5xx, and no refund.
    const hostile: unknown[] = [
      { payment_order_id: "nul\u0000id" },
      { payment_order_id: orderIds[0], amount: "9".repeat(40) },
      { payment_order_id: orderIds[0], amount: ["1.00"] },
      { payment_order_id: orderIds[0], metadata: { note: "a\u0000b" } },
    ];
    for (const body of hostile) {
      const res = await post(body, { idem: `hostile-${Math.random()}` });
      const text = await res.text();
      expect(res.status, `${JSON.stringify(body)} -> ${text}`).toBe(400);
      expect(["validation_failed", "request_rejected"], text).toContain((JSON.parse(text) as { error: { code: string } }).error.code);
    }
    expect(await refundCount()).toBe(before);
  }, 60_000);

  it("two requests with different keys racing for the last refundable amount: exactly one 200, the other 400 naming what is left", async () => {
    const { orderIds } = await paidCheckout({ amounts: ["50.00"] });
    expect((await post({ payment_order_id: orderIds[0], amount: "20.00" })).status).toBe(200);
    // Round 0: the 30.00 left after a partial refund; then whole orders of 30.00.
    for (let round = 0; round < 3; round++) {
      const ids = round === 0 ? orderIds : (await paidCheckout({ amounts: ["30.00"] })).orderIds;
      const last = "30.00";
      const responses = await Promise.all([post({ payment_order_id: ids[0], amount: last }, { idem: `race-a-${round}` }), post({ payment_order_id: ids[0], amount: last }, { idem: `race-b-${round}` })]);
      const statuses = responses.map((r) => r.status).sort();
      expect(statuses).toEqual([200, 400]);
      const loser = responses.find((r) => r.status === 400)!;
      expect((await errorOf(loser, 400, "amount_exceeds_refundable")).refundable_amount).toBe("0.00");
      const order = await orderRow(ids[0]!);
      expect(order.amountRefunded).toBe(order.amount);
    }
  }, 90_000);

  it("another merchant's payment order is a 404, with or without an amount; a publishable key is a 403; no key a 401", async () => {
    const theirs = await paidCheckout({ merchant: otherMerchantId, sellerRefs: otherRefs });
    await errorOf(await post({ payment_order_id: theirs.orderIds[0], amount: "1.00" }), 404, "not_found");
    await errorOf(await post({ payment_order_id: theirs.orderIds[0] }), 404, "not_found");
    await errorOf(await post({ payment_order_id: "no-such-order" }), 404, "not_found");
    expect((await orderRow(theirs.orderIds[0]!, otherMerchantId)).amountRefunded).toBe(0n);
    await errorOf(await post({ payment_order_id: theirs.orderIds[0] }, { key: publishable }), 403, "forbidden");
    const anon = await postRefund(new Request("http://localhost/api/v1/refunds", { method: "POST", headers: { "content-type": "application/json", "idempotency-key": "anon" }, body: "{}" }), { params: Promise.resolve({}) });
    await errorOf(anon, 401, "unauthenticated");
    // Their own key refunds it.
    expect((await post({ payment_order_id: theirs.orderIds[0], amount: "1.00" }, { key: otherSecret })).status).toBe(200);
  }, 60_000);

  it("an order whose payment has not succeeded is a 409 payment_not_refundable", async () => {
    const c = await createTestCheckout(t.db, { merchantId, sellerRefs: refs });
    await errorOf(await post({ payment_order_id: c.payment_orders[0]!.payment_order_id }), 409, "payment_not_refundable");
  });
});

describe("GET /api/v1/refunds/{id}, GET /api/v1/refunds", () => {
  let orderA: string;
  let orderB: string;
  let created: string[] = [];

  beforeAll(async () => {
    const { orderIds } = await paidCheckout({ amounts: ["100.00", "100.00"] });
    [orderA, orderB] = orderIds as [string, string];
    created = [];
    // 5 on A, 2 on B, oldest first.
    for (const [order, amount] of [[orderA, "1.00"], [orderB, "2.00"], [orderA, "3.00"], [orderA, "4.00"], [orderB, "5.00"], [orderA, "6.00"], [orderA, "7.00"]] as const) {
      const res = await post({ payment_order_id: order, amount });
      expect(res.status).toBe(200);
      created.push((await res.json()).id);
    }
    // One of A's succeeded (as the PSP's answer would make it).
    await t.db.transaction((tx) => applyRefundOutcome(tx, created[2]!, { status: "succeeded", pspRefundId: `re_test_${created[2]}` }, "test_psp_answer"));
  }, 90_000);

  const list = async (query: string, key = secret) => {
    const res = await get(listRefunds, `/api/v1/refunds${query}`, {}, key);
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as { object: string; data: { id: string; amount: string; status: string; payment_order_id: string }[]; has_more: boolean; url: string };
  };

  it("pages by payment order, newest first, with limit and starting_after, in Stripe's list shape", async () => {
    const aIds = [created[6], created[5], created[3], created[2], created[0]];
    const first = await list(`?payment_order_id=${orderA}&limit=2`);
    expect(first).toMatchObject({ object: "list", has_more: true, url: "/api/v1/refunds" });
    expect(first.data.map((r) => r.id)).toEqual(aIds.slice(0, 2));
    const second = await list(`?payment_order_id=${orderA}&limit=2&starting_after=${first.data[1]!.id}`);
    expect(second.data.map((r) => r.id)).toEqual(aIds.slice(2, 4));
    expect(second.has_more).toBe(true);
    const third = await list(`?payment_order_id=${orderA}&limit=2&starting_after=${second.data[1]!.id}`);
    expect(third.data.map((r) => r.id)).toEqual(aIds.slice(4));
    expect(third.has_more).toBe(false);
    const b = await list(`?payment_order_id=${orderB}`);
    expect(b.data.map((r) => r.amount)).toEqual(["5.00", "2.00"]);
    expect(b.has_more).toBe(false);
  });

  it("filters by status, combined with the order; the default page holds 10", async () => {
    const done = await list(`?status=succeeded&payment_order_id=${orderA}`);
    expect(done.data.map((r) => r.id)).toEqual([created[2]]);
    const pending = await list(`?status=pending&payment_order_id=${orderA}`);
    expect(pending.data.map((r) => r.id)).toEqual([created[6], created[5], created[3], created[0]]);
    expect((await list("")).data.length).toBeLessThanOrEqual(10);
  });

  it("never lists another merchant's refunds, and their id is not a page start", async () => {
    const theirs = await list(`?payment_order_id=${orderA}`, otherSecret);
    expect(theirs.data).toEqual([]);
    for (const r of (await list("?limit=100", otherSecret)).data) expect(created).not.toContain(r.id);
    const err = await errorOf(await get(listRefunds, `/api/v1/refunds?starting_after=${created[0]}`, {}, otherSecret), 400, "validation_failed");
    expect(err.fields).toEqual([{ path: "starting_after", message: expect.any(String) }]);
  });

  it("bad list parameters are 400s naming them: unknown, repeated, limit out of range, status, id grammar", async () => {
    const cases: [string, string][] = [
      ["?limit=0", "limit"],
      ["?limit=101", "limit"],
      ["?limit=ten", "limit"],
      ["?status=done", "status"],
      ["?starting_after=re_123", "starting_after"],
      ["?paymnet_order_id=x", "paymnet_order_id"],
      ["?status=pending&status=failed", "status"],
    ];
    for (const [query, path] of cases) {
      const err = await errorOf(await get(listRefunds, `/api/v1/refunds${query}`), 400, "validation_failed");
      expect(err.fields?.map((f) => f.path), query).toEqual([path]);
    }
  });

  it("GET by id: another merchant's refund is a 404; a malformed id a 400", async () => {
    const id = created[1]!;
    expect((await get(getRefund, `/api/v1/refunds/${id}`, { id })).status).toBe(200);
    await errorOf(await get(getRefund, `/api/v1/refunds/${id}`, { id }, otherSecret), 404, "not_found");
    await errorOf(await get(getRefund, "/api/v1/refunds/rfd_01JZZZZZZZZZZZZZZZZZZZZZZZ", { id: "rfd_01JZZZZZZZZZZZZZZZZZZZZZZZ" }), 404, "not_found");
    const bad = await errorOf(await get(getRefund, "/api/v1/refunds/nope", { id: "nope" }), 400, "validation_failed");
    expect(bad.fields?.map((f) => f.path)).toEqual(["id"]);
  });

  it("POST /api/v1/refunds/{id}/cancel: another merchant's is a 404; a succeeded one, or one not yet at the PSP, is a 409", async () => {
    await errorOf(await cancelReq(created[0]!, { key: otherSecret }), 404, "not_found");
    await errorOf(await cancelReq(created[2]!), 409, "refund_not_cancelable");
    await errorOf(await cancelReq(created[0]!), 409, "refund_not_cancelable");
    await errorOf(await cancelReq(created[0]!, { body: JSON.stringify({ amount: "1.00" }) }), 400, "validation_failed");
    await errorOf(await cancelReq("bad"), 400, "validation_failed");
  });
});

describe("POST /api/v1/refunds/{id}/cancel at the PSP", () => {
  it("cancels a refund still pending at Stripe: 200 canceled, the money back on the order; the key replays", async () => {
    const { orderIds } = await paidCheckout({ amounts: ["80.00"], card: "pm_card_refundPending" });
    const created = await post({ payment_order_id: orderIds[0], amount: "30.00" });
    const { id } = (await created.json()) as { id: string };
    // What the execution does first: send it to the PSP (the card keeps it pending).
    await sendRefund(t.db, connectorFor, id);
    expect((await t.db.select().from(refunds).where(eq(refunds.id, id)))[0]!.status).toBe("pending");
    const res = await cancelReq(id, { idem: `cancel-${id}` });
    expect(res.status, await res.clone().text()).toBe(200);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ id, status: "canceled", failure_reason: expect.any(String) });
    expect(ZRefund.strict().safeParse(JSON.parse(text)).error).toBeUndefined();
    expect((await orderRow(orderIds[0]!)).amountRefunded).toBe(0n);
    const replay = await cancelReq(id, { idem: `cancel-${id}` });
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await replay.text()).toBe(text);
    await errorOf(await cancelReq(id), 409, "refund_not_cancelable");
  }, 60_000);
});

describe("GET /api/v1/disputes, GET /api/v1/disputes/{id}", () => {
  const ids: string[] = [];
  let theirId: string;

  beforeAll(async () => {
    // Disputes as the PSP sync records them (createDispute: the one insert of a dispute).
    const record = async (merchant: string, sellerRefs: string[], n: number, status: "needs_response" | "warning_needs_response" | "won") => {
      const paid = await paidCheckout({ merchant, sellerRefs, amounts: ["60.00", "40.00"] });
      const orders = await t.db.select().from(paymentOrders).where(eq(paymentOrders.checkoutId, paid.checkoutId)).orderBy(paymentOrders.position);
      const { dispute } = await t.db.transaction((tx) =>
        createDispute(tx, {
          merchantId: merchant,
          checkoutId: paid.checkoutId,
          attemptId: paid.attemptId,
          psp: "stripe",
          pspDisputeId: `dp_test_${paid.pi}_${n}`,
          pspPaymentReference: paid.pi,
          amount: 10000n,
          currency: "KES",
          reason: "fraudulent",
          status,
          isInquiry: status.startsWith("warning_"),
          evidenceDueBy: new Date(Date.now() + 7 * 86_400_000),
          allocation: orders.map((o) => ({ paymentOrderId: o.id, sellerId: o.sellerId, amount: o.amount.toString(), fee: "0" })),
        }),
      );
      return { dispute, orders };
    };
    for (const [n, status] of [[1, "needs_response"], [2, "warning_needs_response"], [3, "needs_response"]] as const) ids.push((await record(merchantId, refs, n, status)).dispute.id);
    theirId = (await record(otherMerchantId, otherRefs, 4, "needs_response")).dispute.id;
  }, 90_000);

  const list = async (query: string, key = secret) => {
    const res = await get(listDisputes, `/api/v1/disputes${query}`, {}, key);
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as { object: string; data: { id: string; status: string }[]; has_more: boolean; url: string };
  };

  it("reads one dispute with its allocation over the checkout's orders; another merchant's is a 404", async () => {
    const res = await get(getDispute, `/api/v1/disputes/${ids[0]}`, { id: ids[0]! });
    expect(res.status).toBe(200);
    const d = await res.json();
    expect(ZDispute.strict().safeParse(d).error).toBeUndefined();
    expect(d).toMatchObject({ object: "dispute", id: ids[0], amount: "100.00", fee: "0.00", currency: "KES", status: "needs_response", is_inquiry: false, respondable: true, evidence_due_by: expect.any(String) });
    expect(d.payment_orders.map((o: { amount: string; seller_account: string }) => [o.amount, o.seller_account])).toEqual([
      ["60.00", refs[0]],
      ["40.00", refs[1]],
    ]);
    await errorOf(await get(getDispute, `/api/v1/disputes/${theirId}`, { id: theirId }), 404, "not_found");
    await errorOf(await get(getDispute, "/api/v1/disputes/dp_123", { id: "dp_123" }), 400, "validation_failed");
  });

  it("lists newest first, paged with starting_after, filtered by status; never another merchant's", async () => {
    const newestFirst = [...ids].reverse();
    const all = await list("?limit=100");
    expect(all.data.map((d) => d.id)).toEqual(newestFirst);
    expect(all).toMatchObject({ object: "list", has_more: false, url: "/api/v1/disputes" });
    const first = await list("?limit=2");
    expect(first.data.map((d) => d.id)).toEqual(newestFirst.slice(0, 2));
    expect(first.has_more).toBe(true);
    const next = await list(`?limit=2&starting_after=${first.data[1]!.id}`);
    expect(next.data.map((d) => d.id)).toEqual(newestFirst.slice(2));
    expect(next.has_more).toBe(false);
    expect((await list("?status=warning_needs_response")).data.map((d) => d.id)).toEqual([ids[1]]);
    expect((await list("?limit=100", otherSecret)).data.map((d) => d.id)).toEqual([theirId]);
    const err = await errorOf(await get(listDisputes, `/api/v1/disputes?starting_after=${theirId}`), 400, "validation_failed");
    expect(err.fields?.map((f) => f.path)).toEqual(["starting_after"]);
    await errorOf(await get(listDisputes, "/api/v1/disputes?status=open"), 400, "validation_failed");
  });
});

describe("the routes and the OpenAPI document", () => {
  type Mod = Partial<Record<(typeof HTTP_METHODS)[number], Handler>>;
  const routes: { path: string; mod: Mod; allowed: string[] }[] = [
    { path: "/api/v1/refunds", mod: refundsRoute as unknown as Mod, allowed: ["GET", "POST", "HEAD", "OPTIONS"] },
    { path: "/api/v1/refunds/rfd_1", mod: refundRoute as unknown as Mod, allowed: ["GET", "HEAD", "OPTIONS"] },
    { path: "/api/v1/refunds/rfd_1/cancel", mod: refundCancelRoute as unknown as Mod, allowed: ["POST", "OPTIONS"] },
    { path: "/api/v1/disputes", mod: disputesRoute as unknown as Mod, allowed: ["GET", "HEAD", "OPTIONS"] },
    { path: "/api/v1/disputes/dsp_1", mod: disputeRoute as unknown as Mod, allowed: ["GET", "HEAD", "OPTIONS"] },
  ];

  it("every route exports every method; a wrong one is a JSON 405 with Allow", async () => {
    for (const { path, mod, allowed } of routes) {
      for (const method of HTTP_METHODS) {
        const handler = mod[method];
        expect(typeof handler, `${method} ${path}`).toBe("function");
        if (allowed.includes(method)) continue;
        const res = await handler!(new Request(`http://localhost${path}`, { method }), { params: Promise.resolve({ id: "x" }) });
        expect(res.status, `${method} ${path}`).toBe(405);
        expect(res.headers.get("allow")).toBe(allowed.join(", "));
      }
    }
  });

  it("describes the refund and dispute endpoints, their schemas and error codes", () => {
    const doc = buildOpenApiDocument("http://localhost");
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/api/v1/refunds", "/api/v1/refunds/{id}", "/api/v1/refunds/{id}/cancel", "/api/v1/disputes", "/api/v1/disputes/{id}"]));
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(["CreateRefundRequest", "Refund", "RefundList", "Dispute", "DisputeList"]));
    const text = JSON.stringify(doc);
    for (const code of ["amount_exceeds_refundable", "refundable_amount", "seller_balance_insufficient", "payment_not_refundable", "charge_disputed", "refund_not_cancelable", "starting_after"]) expect(text).toContain(code);
    const create = doc.components.schemas.CreateRefundRequest as { properties: Record<string, unknown>; required: string[]; additionalProperties: boolean };
    expect(Object.keys(create.properties).sort()).toEqual(["amount", "metadata", "payment_order_id", "reason"]);
    expect(create.required).toEqual(["payment_order_id"]);
    expect(create.additionalProperties).toBe(false);
    const listParams = doc.paths["/api/v1/refunds"].get.parameters.map((p: { name: string }) => p.name).sort();
    expect(listParams).toEqual(["limit", "payment_order_id", "starting_after", "status"]);
  });
});
