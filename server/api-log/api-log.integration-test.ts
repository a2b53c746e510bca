import { count, eq, like } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiRequestLog, sellers } from "@/db/schema";
import { createApiKey } from "@/server/api-keys/keys";
import { sweepApiRequestLog } from "@/server/api-log/retention";
import { createPaymentRoute, getPaymentRoute } from "@/server/payments/routes";
import { waitFor } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { callerFor, createMerchant, createUser, trpcErrorCode } from "@/test/fixtures";
import { flushApiRequestLog, recordApiRequest } from "./record";

// The API request log through the real /api/v1 handler: one row per authenticated call, written after the
// response, with bodies redacted; read back through the tRPC router as the developers page does.

let t: TestDatabase;
let merchant: { id: string };
let other: { id: string };
let secret: string;
let otherSecret: string;
let viewer: string;
let otherAdmin: string;
let sellerRefs: string[];
let post: ReturnType<typeof createPaymentRoute>;
let get: ReturnType<typeof getPaymentRoute>;
let seq = 0;

// A Luhn-valid test card number, in two spellings, and an email that must never appear in clear.
const CARD = "4242424242424242";
const CARD_SPACED = "4242 4242 4242 4242";

beforeAll(async () => {
  t = await createTestDatabase();
  merchant = await createMerchant(t.db, "Log Merchant");
  other = await createMerchant(t.db, "Other Log Merchant");
  const admin = await createUser(t.db, { merchantId: merchant.id, role: "merchant_admin" });
  viewer = (await createUser(t.db, { merchantId: merchant.id, role: "merchant_viewer" })).id;
  otherAdmin = (await createUser(t.db, { merchantId: other.id, role: "merchant_admin" })).id;
  secret = (await createApiKey(t.db, { merchantId: merchant.id, kind: "secret", name: "server", actorUserId: admin.id })).key;
  otherSecret = (await createApiKey(t.db, { merchantId: other.id, kind: "secret", name: "other" })).key;
  sellerRefs = (await t.db.select({ r: sellers.reference }).from(sellers).where(eq(sellers.merchantId, merchant.id))).map((s) => s.r);
  post = createPaymentRoute(() => t.db);
  get = getPaymentRoute(() => t.db);
});
afterAll(async () => {
  await flushApiRequestLog();
  await t?.drop();
});

function body(overrides: Record<string, unknown> = {}) {
  seq += 1;
  return {
    buyer_info: { email: `logbuyer${seq}@example.test`, phone: "254712345678", name: "Jane Wanjiru", country: "KE" },
    return_url: "https://shop.example/return",
    payment_orders: [{ payment_order_id: `log_${seq}`, seller_account: sellerRefs[0], amount: "1250.00", currency: "KES" }],
    metadata: { note: `card ${CARD_SPACED}`, raw: CARD, leaked_key: secret },
    ...overrides,
  };
}

function postReq(payload: unknown, opts: { key?: string | null; idem?: string } = {}) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (opts.key !== null) headers.authorization = `Bearer ${opts.key ?? secret}`;
  headers["idempotency-key"] = opts.idem ?? `idem-${Math.random()}`;
  return post(new Request("http://localhost/api/v1/payments", { method: "POST", headers, body: JSON.stringify(payload) }), { params: Promise.resolve({}) });
}

async function logRowOf(requestId: string) {
  return waitFor(async () => (await t.db.select().from(apiRequestLog).where(eq(apiRequestLog.requestId, requestId)))[0], 20_000, 25);
}

describe("api_request_log", () => {
  it("a POST /api/v1/payments writes one row: idempotency key, checkout id, latency, bodies redacted", async () => {
    const idem = `idem-log-${Date.now()}`;
    const payload = body();
    const res = await postReq(payload, { idem });
    expect(res.status).toBe(201);
    const json = (await res.json()) as { checkout_id: string };
    const requestId = res.headers.get("request-id")!;
    const row = await logRowOf(requestId);
    expect(row).toMatchObject({
      merchantId: merchant.id,
      mode: "test",
      method: "POST",
      path: "/api/v1/payments",
      status: 201,
      idempotencyKey: idem,
      checkoutId: json.checkout_id,
      errorCode: null,
    });
    expect(row.latencyMs).toBeGreaterThanOrEqual(0);
    const stored = JSON.stringify([row.requestBody, row.responseBody]);
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(secret.slice(8)); // not even the random part
    expect(stored).not.toContain(CARD);
    expect(stored).not.toContain(CARD_SPACED);
    expect(stored).not.toContain(payload.buyer_info.email);
    expect(stored).not.toContain("254712345678");
    expect(stored).not.toContain("Wanjiru");
    // What is not secret survives, so the log is still useful.
    const req = row.requestBody as { payment_orders: { payment_order_id: string; amount: string }[]; buyer_info: { email: string; country: string } };
    expect(req.payment_orders[0]).toMatchObject({ payment_order_id: payload.payment_orders[0]!.payment_order_id, amount: "1250.00" });
    expect(req.buyer_info.country).toBe("KE");
    expect(req.buyer_info.email).toMatch(/^l\*\*\*@example\.test$/);
    expect((row.responseBody as { checkout_id: string }).checkout_id).toBe(json.checkout_id);

    // The same key and body again: an idempotent replay, logged as its own call with the same checkout.
    const again = await postReq(payload, { idem });
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    const replayRow = await logRowOf(again.headers.get("request-id")!);
    expect(replayRow).toMatchObject({ status: 201, idempotencyKey: idem, checkoutId: json.checkout_id });
    expect(JSON.stringify(replayRow.requestBody)).not.toContain(CARD);
  });

  it("a refused request (400) is logged with its error code", async () => {
    const idem = `idem-bad-${Date.now()}`;
    const res = await postReq(body({ payment_orders: [] }), { idem });
    expect(res.status).toBe(400);
    const row = await logRowOf(res.headers.get("request-id")!);
    expect(row).toMatchObject({ status: 400, errorCode: "validation_failed", idempotencyKey: idem, checkoutId: null });
    expect(JSON.stringify(row.requestBody)).not.toContain(secret);
    expect((row.responseBody as { error: { code: string } }).error.code).toBe("validation_failed");
  });

  it("a GET of a payment order is logged with the order's checkout", async () => {
    const payload = body();
    const created = (await (await postReq(payload)).json()) as { checkout_id: string };
    const id = payload.payment_orders[0]!.payment_order_id;
    const res = await get(new Request(`http://localhost/api/v1/payments/${id}`, { headers: { authorization: `Bearer ${secret}` } }), { params: Promise.resolve({ payment_order_id: id }) });
    expect(res.status).toBe(200);
    const row = await logRowOf(res.headers.get("request-id")!);
    expect(row).toMatchObject({ method: "GET", path: `/api/v1/payments/${id}`, status: 200, checkoutId: created.checkout_id, idempotencyKey: null, requestBody: null });
  });

  it("an unauthenticated request is not logged (no merchant to log it for)", async () => {
    const res = await postReq(body(), { key: null });
    expect(res.status).toBe(401);
    await flushApiRequestLog();
    const [n] = await t.db.select({ n: count() }).from(apiRequestLog).where(eq(apiRequestLog.requestId, res.headers.get("request-id")!));
    expect(n!.n).toBe(0);
  });

  it("a failed log write is logged, not thrown, and writes nothing", async () => {
    expect(() =>
      recordApiRequest(t.db, {
        merchantId: "mer_does_not_exist",
        apiKeyId: "key_nope",
        mode: "test",
        method: "POST",
        path: "/api/v1/payments",
        status: 201,
        idempotencyKey: null,
        requestId: "req_failed_log_write",
        latencyMs: 1,
        errorCode: null,
        requestBody: {},
        responseBody: {},
      }),
    ).not.toThrow();
    await flushApiRequestLog();
    const [n] = await t.db.select({ n: count() }).from(apiRequestLog).where(eq(apiRequestLog.requestId, "req_failed_log_write"));
    expect(n!.n).toBe(0);
  });

  it("rows queued together go in together, and one row the database refuses loses only itself", async () => {
    // A merchant of its own, so these rows stay out of the other tests' lists.
    const batchMerchant = await createMerchant(t.db, "Batch Log Merchant");
    const good = (await createApiKey(t.db, { merchantId: batchMerchant.id, kind: "secret", name: "batch" })).id;
    const entry = (requestId: string, merchantId: string) => ({
      merchantId,
      apiKeyId: good,
      mode: "test" as const,
      method: "GET",
      path: "/api/v1/payments/x",
      status: 404,
      idempotencyKey: null,
      requestId,
      latencyMs: 1,
      errorCode: "not_found",
      requestBody: undefined,
      responseBody: {},
    });
    // 120 rows at once: more than one batch (API_LOG_BATCH_MAX) and more than the write concurrency.
    for (let i = 0; i < 120; i++) recordApiRequest(t.db, entry(`req_batch_${i}`, i === 57 ? "mer_does_not_exist" : batchMerchant.id));
    await flushApiRequestLog();
    const rows = await t.db.select({ requestId: apiRequestLog.requestId }).from(apiRequestLog).where(like(apiRequestLog.requestId, "req_batch_%"));
    expect(rows).toHaveLength(119);
    expect(rows.map((r) => r.requestId)).not.toContain("req_batch_57");
  });

  it("the router filters by status class, method, path and idempotency key, and pages with a cursor", async () => {
    const idem = `idem-filter-${Date.now()}`;
    await postReq(body(), { idem });
    for (let i = 0; i < 3; i++) await postReq(body());
    await flushApiRequestLog();
    const caller = callerFor(t.db, viewer);
    const byKey = await caller.apiLog.list({ idempotencyKey: idem });
    expect(byKey.items.map((r) => r.idempotencyKey)).toEqual([idem]);
    const fourxx = await caller.apiLog.list({ status: "4xx" });
    expect(fourxx.items.length).toBeGreaterThan(0);
    expect(fourxx.items.every((r) => r.status >= 400 && r.status < 500)).toBe(true);
    const gets = await caller.apiLog.list({ method: "GET" });
    expect(gets.items.length).toBeGreaterThan(0);
    expect(gets.items.every((r) => r.method === "GET")).toBe(true);
    expect((await caller.apiLog.list({ path: "/api/v1/payments/" })).items.every((r) => r.path.startsWith("/api/v1/payments/"))).toBe(true);
    expect((await caller.apiLog.list({ path: "/api/v1/nothing" })).items).toEqual([]);

    const all = await caller.apiLog.list({ limit: 100 });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await caller.apiLog.list({ limit: 2, cursor });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((r) => r.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(all.items.map((r) => r.id));
    expect(new Set(seen).size).toBe(seen.length);
    // The list has no bodies; get has them.
    expect(all.items[0]).not.toHaveProperty("requestBody");
    const one = await caller.apiLog.get({ id: all.items[0]!.id });
    expect(one).toHaveProperty("responseBody");
  });

  it("another merchant cannot read the log: not in its list, not_found by id, a foreign cursor matches nothing", async () => {
    const res = await postReq(body());
    const row = await logRowOf(res.headers.get("request-id")!);
    // The other merchant's own call, so its list is not empty.
    await postReq(body({ payment_orders: [] }), { key: otherSecret });
    await flushApiRequestLog();
    const otherCaller = callerFor(t.db, otherAdmin);
    const list = await otherCaller.apiLog.list({ limit: 100 });
    expect(list.items.length).toBeGreaterThan(0);
    expect(list.items.some((r) => r.id === row.id)).toBe(false);
    expect(await trpcErrorCode(otherCaller.apiLog.get({ id: row.id }))).toBe("NOT_FOUND");
    expect((await otherCaller.apiLog.list({ cursor: row.id })).items).toEqual([]);
    // Asking for the other merchant's scope explicitly is refused too.
    expect(await trpcErrorCode(callerFor(t.db, otherAdmin, merchant.id).apiLog.list({}))).toBe("NOT_FOUND");
    expect(await trpcErrorCode(callerFor(t.db, null).apiLog.list({}))).toBe("UNAUTHORIZED");
  });

  it("rows older than 30 days are swept, newer ones kept", async () => {
    const base = { merchantId: merchant.id, mode: "test", method: "GET", path: "/api/v1/payments/x", status: 200, latencyMs: 1 };
    await t.db.insert(apiRequestLog).values([
      { ...base, requestId: "req_old", createdAt: new Date(Date.now() - 31 * 86_400_000) },
      { ...base, requestId: "req_recent", createdAt: new Date(Date.now() - 29 * 86_400_000) },
    ]);
    expect(await sweepApiRequestLog(t.db, { batchRows: 1, batchesMax: 10 })).toBe(1);
    const left = (await t.db.select({ r: apiRequestLog.requestId }).from(apiRequestLog)).map((r) => r.r);
    expect(left).toContain("req_recent");
    expect(left).not.toContain("req_old");
  });
});
