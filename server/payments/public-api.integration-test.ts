import { and, count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkouts, idempotencyKeys, paymentOrders, riskDecisions, riskRules } from "@/db/schema";
import { createApiKey, revokeApiKey } from "@/server/api-keys/keys";
import { env } from "@/server/env.js";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createMerchant, createUser } from "@/test/fixtures";
import { sellers } from "@/db/schema";
import { createPaymentRoute, getPaymentRoute } from "./routes";

let t: TestDatabase;
let merchant: { id: string };
let other: { id: string };
let secret: string;
let otherSecret: string;
let publishable: string;
let sellerRefs: string[];
let post: ReturnType<typeof createPaymentRoute>;
let get: ReturnType<typeof getPaymentRoute>;
let seq = 0;

beforeAll(async () => {
  t = await createTestDatabase();
  merchant = await createMerchant(t.db, "Api Merchant");
  other = await createMerchant(t.db, "Other Merchant");
  const admin = await createUser(t.db, { merchantId: merchant.id, role: "merchant_admin" });
  secret = (await createApiKey(t.db, { merchantId: merchant.id, kind: "secret", name: "server", actorUserId: admin.id })).key;
  publishable = (await createApiKey(t.db, { merchantId: merchant.id, kind: "publishable", name: "browser" })).key;
  otherSecret = (await createApiKey(t.db, { merchantId: other.id, kind: "secret", name: "other" })).key;
  sellerRefs = (await t.db.select({ r: sellers.reference }).from(sellers).where(eq(sellers.merchantId, merchant.id))).map((s) => s.r);
  post = createPaymentRoute(() => t.db);
  get = getPaymentRoute(() => t.db);
});
afterAll(async () => t?.drop());

function body(overrides: Record<string, unknown> = {}) {
  seq += 1;
  return {
    buyer_info: { email: `buyer${seq}@example.test`, country: "KE" },
    return_url: "https://shop.example/return",
    payment_orders: [
      { payment_order_id: `ord_${seq}_a`, seller_account: sellerRefs[0], amount: "1250.00", currency: "KES" },
      { payment_order_id: `ord_${seq}_b`, seller_account: sellerRefs[1], amount: "0.50", currency: "KES" },
    ],
    ...overrides,
  };
}

function postReq(payload: unknown, opts: { key?: string | null; idem?: string | null; raw?: string } = {}) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (opts.key !== null) headers.authorization = `Bearer ${opts.key ?? secret}`;
  if (opts.idem !== null) headers["idempotency-key"] = opts.idem ?? `idem-${Math.random()}`;
  return post(new Request("http://localhost/api/v1/payments", { method: "POST", headers, body: opts.raw ?? JSON.stringify(payload) }), { params: Promise.resolve({}) });
}
function getReq(id: string, key = secret) {
  return get(new Request(`http://localhost/api/v1/payments/${id}`, { headers: { authorization: `Bearer ${key}` } }), { params: Promise.resolve({ payment_order_id: id }) });
}
async function checkoutCount() {
  const [r] = await t.db.select({ n: count() }).from(checkouts).where(eq(checkouts.merchantId, merchant.id));
  return r!.n;
}

describe("POST /api/v1/payments", () => {
  it("creates a checkout with one order per seller, amounts exact", async () => {
    const res = await postReq(body());
    expect(res.status).toBe(201);
    const json = await res.json();
    expect(json.checkout_url).toMatch(new RegExp(`/pay/${json.checkout_id}$`));
    expect(json.total_amount).toBe("1250.50");
    expect(json.payment_orders.map((o: { amount: string; status: string }) => [o.amount, o.status]).sort()).toEqual([
      ["0.50", "NOT_STARTED"],
      ["1250.00", "NOT_STARTED"],
    ]);
    const rows = await t.db.select({ amount: paymentOrders.amount }).from(paymentOrders).where(eq(paymentOrders.checkoutId, json.checkout_id));
    expect(rows.map((r) => r.amount).sort((a, b) => (a < b ? -1 : 1))).toEqual([50n, 125000n]);
    const [c] = await t.db.select().from(checkouts).where(eq(checkouts.id, json.checkout_id));
    expect(c!.buyerInfoEncrypted).not.toContain("example.test");
  });

  it("50 parallel POSTs with the same Idempotency-Key create one checkout", async () => {
    const before = await checkoutCount();
    const payload = body();
    const responses = await Promise.all(Array.from({ length: 50 }, () => postReq(payload, { idem: "same-key-50" })));
    const statuses = responses.map((r) => r.status);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    expect(statuses).toContain(201);
    expect(await checkoutCount()).toBe(before + 1);
    const ids = new Set(await Promise.all(responses.filter((r) => r.status === 201).map(async (r) => (await r.json()).checkout_id)));
    expect(ids.size).toBe(1);
    const replay = await postReq(payload, { idem: "same-key-50" });
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect((await replay.json()).checkout_id).toBe([...ids][0]);
    expect(await checkoutCount()).toBe(before + 1);
  });

  it("answers 422 when a key is reused with a different body", async () => {
    expect((await postReq(body(), { idem: "reuse-key" })).status).toBe(201);
    const res = await postReq(body(), { idem: "reuse-key" });
    expect(res.status).toBe(422);
    expect((await res.json()).error.code).toBe("idempotency_key_reused");
  });

  it("answers 409 while the first request holds the key, and resumes after a crash", async () => {
    const payload = body();
    // A request that crashed after taking the key: its lock is fresh, so a retry is told to wait...
    await t.db.insert(idempotencyKeys).values({
      merchantId: merchant.id,
      key: "crashed-key",
      method: "POST",
      path: "/api/v1/payments",
      requestHash: (await import("@/server/idempotency/idempotency")).requestFingerprint("POST", "/api/v1/payments", payload),
      lockedAt: new Date(),
      expiresAt: new Date(Date.now() + 3600_000),
    });
    const busy = await postReq(payload, { idem: "crashed-key" });
    expect(busy.status).toBe(409);
    expect((await busy.json()).error.code).toBe("idempotency_key_in_use");
    // ...and once the lock is stale, the retry resumes from the recovery point and completes once.
    await t.db.update(idempotencyKeys).set({ lockedAt: new Date(Date.now() - 120_000) }).where(eq(idempotencyKeys.key, "crashed-key"));
    const before = await checkoutCount();
    const resumed = await postReq(payload, { idem: "crashed-key" });
    expect(resumed.status).toBe(201);
    expect(await checkoutCount()).toBe(before + 1);
    expect((await postReq(payload, { idem: "crashed-key" })).headers.get("idempotent-replayed")).toBe("true");
  });

  it("rejects bad input with 400 and a field-level list, storing nothing", async () => {
    const before = await checkoutCount();
    const bad = body({
      payment_orders: [
        { payment_order_id: "x1", seller_account: sellerRefs[0], amount: "1.005", currency: "USD" },
        { payment_order_id: "x2", seller_account: sellerRefs[1], amount: 1.5, currency: "USD" },
      ],
    });
    const res = await postReq(bad, { idem: "bad-input" });
    expect(res.status).toBe(400);
    const json = await res.json();
    expect(json.error.code).toBe("validation_failed");
    const paths = json.error.fields.map((f: { path: string }) => f.path);
    expect(paths).toEqual(expect.arrayContaining(["payment_orders[0].amount", "payment_orders[1].amount"]));
    expect(JSON.stringify(json.error.fields)).toMatch(/at most 2 decimal places/);
    expect(await checkoutCount()).toBe(before);
    const [idem] = await t.db.select({ n: count() }).from(idempotencyKeys).where(eq(idempotencyKeys.key, "bad-input"));
    expect(idem!.n).toBe(0);
    // Fixing the body and retrying with the same key works: invalid requests do not burn the key.
    expect((await postReq(body(), { idem: "bad-input" })).status).toBe(201);
  });

  it("rejects unknown sellers, mixed currencies, malformed JSON and a missing Idempotency-Key", async () => {
    const unknownSeller = await postReq(body({ payment_orders: [{ payment_order_id: "u1", seller_account: "nope", amount: "1.00", currency: "KES" }] }));
    expect(unknownSeller.status).toBe(400);
    expect((await unknownSeller.json()).error.fields[0].path).toBe("payment_orders[0].seller_account");
    const mixed = await postReq(
      body({
        payment_orders: [
          { payment_order_id: "m1", seller_account: sellerRefs[0], amount: "1.00", currency: "KES" },
          { payment_order_id: "m2", seller_account: sellerRefs[1], amount: "1.00", currency: "USD" },
        ],
      }),
    );
    expect(mixed.status).toBe(400);
    expect((await postReq(null, { raw: "{not json" })).status).toBe(400);
    const noKey = await postReq(body(), { idem: null });
    expect(noKey.status).toBe(400);
    expect((await noKey.json()).error.message).toMatch(/Idempotency-Key/);
  });

  it("answers 400, not 500, for text Postgres cannot store (a NUL character), storing nothing", async () => {
    const before = await checkoutCount();
    for (const payload of [
      body({ payment_orders: [{ payment_order_id: `nul${seq}`, seller_account: "sel\u0000x", amount: "1.00", currency: "KES" }] }),
      body({ metadata: { note: "a\u0000b" } }),
    ]) {
      const nul = await postReq(payload);
      expect(nul.status).toBe(400);
      expect((await nul.json()).error).toMatchObject({ code: "validation_failed", message: expect.stringMatching(/NUL/) });
    }
    expect((await getReq("po\u0000x")).status).toBe(400);
    expect(await checkoutCount()).toBe(before);
  });

  it("answers 409 for a payment_order_id that already exists", async () => {
    const first = body();
    expect((await postReq(first)).status).toBe(201);
    const again = await postReq({ ...body(), payment_orders: first.payment_orders });
    expect(again.status).toBe(409);
  });

  it("refuses missing, malformed, revoked and publishable keys", async () => {
    expect((await postReq(body(), { key: null })).status).toBe(401);
    expect((await postReq(body(), { key: "sk_test_nope" })).status).toBe(401);
    expect((await postReq(body(), { key: publishable })).status).toBe(403);
    const temp = await createApiKey(t.db, { merchantId: merchant.id, kind: "secret", name: "temp" });
    expect((await postReq(body(), { key: temp.key })).status).toBe(201);
    await revokeApiKey(t.db, { merchantId: merchant.id, keyId: temp.id });
    expect((await postReq(body(), { key: temp.key })).status).toBe(401);
  });

  it("rate-limits per key with 429 and Retry-After", async () => {
    const key = await createApiKey(t.db, { merchantId: merchant.id, kind: "secret", name: "limited" });
    const limited = getPaymentRoute(() => t.db, { limits: { perKey: 2 } });
    const call = () => limited(new Request("http://localhost/api/v1/payments/none", { headers: { authorization: `Bearer ${key.key}` } }), { params: Promise.resolve({ payment_order_id: "none" }) });
    expect((await call()).status).toBe(404);
    expect((await call()).status).toBe(404);
    const res = await call();
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});

describe("GET /api/v1/payments/{payment_order_id}", () => {
  it("returns status and history, and 404 for another merchant's order", async () => {
    const payload = body();
    expect((await postReq(payload)).status).toBe(201);
    const id = payload.payment_orders[0]!.payment_order_id;
    const res = await getReq(id);
    expect(res.status).toBe(200);
    const json = await res.json();
    expect(json).toMatchObject({ payment_order_id: id, amount: "1250.00", currency: "KES", status: "NOT_STARTED" });
    expect(json.history).toEqual([expect.objectContaining({ from: null, to: "NOT_STARTED", reason: "created" })]);
    expect((await getReq(id, otherSecret)).status).toBe(404);
  });
});

describe("risk", () => {
  it("blocks by amount limit: orders FAILED, no checkout URL, decision recorded", async () => {
    await t.db.insert(riskRules).values({ merchantId: merchant.id, kind: "amount_limit", action: "block", params: { currency: "KES", max_amount: "100000.00" } });
    const res = await postReq(body({ payment_orders: [{ payment_order_id: `big_${seq}`, seller_account: sellerRefs[0], amount: "100000.01", currency: "KES" }] }));
    expect(res.status).toBe(201);
    const json = await res.json();
    expect(json.status).toBe("blocked");
    expect(json.checkout_url).toBeNull();
    expect(json.payment_orders[0].status).toBe("FAILED");
    expect(json.payment_orders[0].failure.code).toBe("risk_blocked");
    const [d] = await t.db.select().from(riskDecisions).where(and(eq(riskDecisions.checkoutId, json.checkout_id)));
    expect(d!.outcome).toBe("block");
    expect(d!.reasons[0]!.reason).toMatch(/exceeds 100000.00 KES/);
  });

  it("holds for review by buyer-email velocity", async () => {
    await t.db.insert(riskRules).values({ merchantId: merchant.id, kind: "velocity", action: "review", params: { dimension: "email", window_s: 3600, max_count: 2 } });
    const email = "fast@example.test";
    const outcomes: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await postReq(body({ buyer_info: { email, country: "KE" } }));
      outcomes.push((await res.json()).status);
    }
    expect(outcomes).toEqual(["open", "open", "review"]);
  });

  it("fails closed on a country allow-list when the buyer's country is not given", async () => {
    const m2 = await createMerchant(t.db, "Allowlist Shop");
    const key = (await createApiKey(t.db, { merchantId: m2.id, kind: "secret", name: "k" })).key;
    const [s2] = await t.db.select({ r: sellers.reference }).from(sellers).where(eq(sellers.merchantId, m2.id));
    await t.db.insert(riskRules).values({ merchantId: m2.id, kind: "country", action: "review", params: { allowed: ["KE", "UG"] } });
    const payload = (country?: string) => ({
      buyer_info: { email: `c${seq++}@example.test`, ...(country ? { country } : {}) },
      return_url: "https://shop.example/r",
      payment_orders: [{ payment_order_id: `al_${seq++}`, seller_account: s2!.r, amount: "5.00", currency: "KES" }],
    });
    expect((await (await postReq(payload("KE"), { key })).json()).status).toBe("open");
    expect((await (await postReq(payload("TZ"), { key })).json()).status).toBe("review");
    const unknown = await (await postReq(payload(), { key })).json();
    expect(unknown.status).toBe("review");
    expect(unknown.risk.reasons[0]).toMatch(/country unknown/);
  });

  it("ignores another merchant's rules", async () => {
    await t.db.insert(riskRules).values({ merchantId: other.id, kind: "country", action: "block", params: { blocked: ["KE"] } });
    const res = await postReq(body());
    expect((await res.json()).status).toBe("open");
  });
});

// Issue 10: bad input is a 4xx naming the field, in the one error shape, and stores nothing.
describe("bad input (issue 10)", () => {
  const usd = (id: string, amount: string, seller = 0) => ({ payment_order_id: `${id}_${seq}`, seller_account: sellerRefs[seller], amount, currency: "USD" });
  async function rejected(res: Response, code = "validation_failed") {
    expect(res.status).toBe(400);
    const json = await res.json();
    expect(json.error).toMatchObject({ type: "invalid_request_error", code, request_id: expect.stringMatching(/^req_/) });
    return json.error as { message: string; fields: { path: string; message: string }[] };
  }

  it("refuses a checkout above the PSP maximum with 400 amount_too_large naming the field, even when its total overflows bigint", async () => {
    const before = await checkoutCount();
    // Each order fits a bigint; their total (10^19 minor units) does not.
    const overflow = await rejected(await postReq(body({ payment_orders: [usd("of1", "50000000000000000.00"), usd("of2", "50000000000000000.00", 1)] })), "amount_too_large");
    expect(overflow.fields).toEqual([
      { path: "payment_orders[0].amount", message: "must be at most 999,999.99 USD, the most one payment can take" },
      { path: "payment_orders[1].amount", message: "must be at most 999,999.99 USD, the most one payment can take" },
    ]);
    const biggest = await rejected(await postReq(body({ payment_orders: [usd("big", "92233720368547758.07")] })), "amount_too_large");
    expect(biggest.fields.map((f) => f.path)).toEqual(["payment_orders[0].amount"]);
    // Orders within the maximum that together exceed it: the total is what one payment charges.
    const total = await rejected(await postReq(body({ payment_orders: [usd("t1", "600000.00"), usd("t2", "400000.00", 1)] })), "amount_too_large");
    expect(total.fields).toEqual([{ path: "payment_orders", message: expect.stringMatching(/more than 999,999\.99 USD.*split the checkout/) }]);
    const jpy = await rejected(await postReq(body({ payment_orders: [{ ...usd("jpy", "100000000"), currency: "JPY" }] })), "amount_too_large");
    expect(jpy.fields[0]!.message).toMatch(/at most 99,999,999 JPY/);
    // Another problem beside it: the request is plainly invalid.
    const mixed = await rejected(await postReq(body({ buyer_info: { email: "nope" }, payment_orders: [usd("mx", "1000000.00")] })));
    expect(mixed.fields.map((f) => f.path).sort()).toEqual(["buyer_info.email", "payment_orders[0].amount"]);
    expect(await checkoutCount()).toBe(before);
    // The maximum itself is fine.
    expect((await postReq(body({ payment_orders: [usd("max1", "500000.00"), usd("max2", "499999.99", 1)] }))).status).toBe(201);
  });

  it("refuses NUL and unpaired surrogates field by field, before the database (metadata, seller_account, names, the GET path)", async () => {
    const before = await checkoutCount();
    const seller = await rejected(await postReq(body({ payment_orders: [{ payment_order_id: `n_${seq}`, seller_account: "sel\u0000x", amount: "1.00", currency: "KES" }] })));
    expect(seller.fields).toEqual([{ path: "payment_orders[0].seller_account", message: expect.stringMatching(/NUL/) }]);
    const value = await rejected(await postReq(body({ metadata: { note: "a\u0000b" } })));
    expect(value.fields).toEqual([{ path: "metadata.note", message: expect.stringMatching(/NUL/) }]);
    const key = await rejected(await postReq(body({ metadata: { "k\u0000": "v" } })));
    expect(key.fields).toEqual([{ path: "metadata", message: expect.stringMatching(/NUL/) }]);
    for (const reserved of ["__proto__", "constructor", "prototype"]) {
      const r = await rejected(await postReq(body({ metadata: JSON.parse(`{"${reserved}":"v","ok":"1"}`) })));
      expect(r.fields).toEqual([{ path: "metadata", message: `the key "${reserved}" is reserved; use another name` }]);
    }
    const surrogate = await rejected(await postReq(body({ buyer_info: { email: "s@example.test", name: "x\ud800y" } })));
    expect(surrogate.fields).toEqual([{ path: "buyer_info.name", message: expect.stringMatching(/surrogate/) }]);
    for (const id of ["po\u0000x", "a/b", "x".repeat(65)]) {
      const get = await rejected(await getReq(id));
      expect(get.fields).toEqual([{ path: "payment_order_id", message: expect.stringMatching(/1–64 characters/) }]);
    }
    expect(await checkoutCount()).toBe(before);
  });

  it("buyer_info.ip must be an IPv4 or IPv6 address", async () => {
    for (const ip of ["<script>", "999.1.1.1", "1.2.3.4 ", "localhost"]) {
      const err = await rejected(await postReq(body({ buyer_info: { email: `ip${seq}@example.test`, ip } })));
      expect(err.fields).toEqual([{ path: "buyer_info.ip", message: expect.stringMatching(/IPv4 or IPv6/) }]);
    }
    for (const ip of ["203.0.113.7", "2001:db8::1"]) expect((await postReq(body({ buyer_info: { email: `ip${seq}@example.test`, ip } }))).status).toBe(201);
  });

  it("live-mode keys must send an https return_url; test-mode keys may use http (local development)", async () => {
    expect((await postReq(body({ return_url: "http://localhost:3000/thanks" }))).status).toBe(201);
    const mode = env.PSP_MODE;
    env.PSP_MODE = "live";
    try {
      const live = (await createApiKey(t.db, { merchantId: merchant.id, kind: "secret", name: "live" })).key;
      expect(live).toMatch(/^sk_live_/);
      const err = await rejected(await postReq(body({ return_url: "http://shop.example/thanks" }), { key: live }));
      expect(err.fields).toEqual([{ path: "return_url", message: expect.stringMatching(/https/) }]);
      expect((await postReq(body({ return_url: "https://shop.example/thanks" }), { key: live })).status).toBe(201);
    } finally {
      env.PSP_MODE = mode;
    }
  });

  it("lists each field problem once", async () => {
    for (const amount of ["1e5", "", "-0"]) {
      const err = await rejected(await postReq(body({ payment_orders: [{ payment_order_id: `d_${seq}`, seller_account: sellerRefs[0], amount, currency: "KES" }] })));
      expect(err.fields).toHaveLength(1);
      expect(err.fields[0]!.path).toBe("payment_orders[0].amount");
    }
  });

  it("a refusal stored under the Idempotency-Key is request_rejected; one that is not stored is validation_failed", async () => {
    const payload = body({ payment_orders: [{ payment_order_id: `rr_${seq}`, seller_account: "no-such-seller", amount: "1.00", currency: "KES" }] });
    const first = await postReq(payload, { idem: `rejected-${seq}` });
    const stored = await rejected(first.clone(), "request_rejected");
    expect(stored.fields).toEqual([{ path: "payment_orders[0].seller_account", message: 'no seller with seller_account "no-such-seller"' }]);
    const replay = await postReq(payload, { idem: `rejected-${seq}` });
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await replay.text()).toBe(await first.text());
    const [row] = await t.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, `rejected-${seq}`));
    expect(row).toMatchObject({ recoveryPoint: "finished", responseStatus: 400 });
  });

  it("replays the first answer byte for byte", async () => {
    const payload = body({ metadata: { zeta: "1", a: "2", middle_key: "3" } });
    const first = await postReq(payload, { idem: `bytes-${seq}` });
    expect(first.status).toBe(201);
    const firstText = await first.text();
    const replay = await postReq(payload, { idem: `bytes-${seq}` });
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.status).toBe(201);
    expect(replay.headers.get("content-type")).toBe(first.headers.get("content-type"));
    expect(Buffer.from(await replay.arrayBuffer()).equals(Buffer.from(firstText))).toBe(true);
  });
});
