import { count, eq } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as catchAll from "@/app/api/v1/[[...path]]/route";
import { checkouts, idempotencyKeys, paymentOrders, sellers } from "@/db/schema";
import { createApiKey } from "@/server/api-keys/keys";
import { ERROR_CODES } from "@/server/errors";
import { createPaymentRoute, getPaymentRoute } from "@/server/payments/routes";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createMerchant } from "@/test/fixtures";
import { HTTP_METHODS } from "./route-fallbacks";

// The REST abuse suite (issue 10): fuzzed bodies, headers and paths against the real /api/v1 handlers on a real
// Postgres. For every case: never a 5xx; the body is JSON; a 4xx is exactly the one error shape
// { error: { type, code, message, request_id, fields? } }; and a 4xx stores nothing (no checkout, no payment
// order, no idempotency record), except the refusals a handler stores under the key after taking it
// (request_rejected, duplicate_payment_order). Bounded runs; a failure prints fast-check's seed and path.

const RUNS = { bodies: 300, raw: 60, headers: 150, paths: 150, routes: 80 };
const STORED_4XX = new Set(["request_rejected", "duplicate_payment_order"]);
const REST_TYPES = new Set(["authentication_error", "permission_error", "rate_limit_error", "idempotency_error", "api_error", "invalid_request_error"]);

let t: TestDatabase;
let merchant: { id: string };
let secret: string;
let publishable: string;
let sellerRefs: string[];
let post: ReturnType<typeof createPaymentRoute>;
let get: ReturnType<typeof getPaymentRoute>;
let seq = 0;

beforeAll(async () => {
  t = await createTestDatabase();
  merchant = await createMerchant(t.db, "Abuse Merchant");
  secret = (await createApiKey(t.db, { merchantId: merchant.id, kind: "secret", name: "abuse" })).key;
  publishable = (await createApiKey(t.db, { merchantId: merchant.id, kind: "publishable", name: "abuse-pk" })).key;
  sellerRefs = (await t.db.select({ r: sellers.reference }).from(sellers).where(eq(sellers.merchantId, merchant.id))).map((s) => s.r);
  const limits = { perKey: 1_000_000, perIp: 1_000_000 };
  post = createPaymentRoute(() => t.db, { limits });
  get = getPaymentRoute(() => t.db, { limits });
});
afterAll(async () => t?.drop());

// ---------------------------------------------------------------------------------------------------------
// Arbitraries

const SPECIAL_STRINGS = ["", " ", "\u0000", "a\u0000b", "\ud800", "x\udfffy", "\ud83d", "𝄞", "é", "\u202e", "\ufeff", "<script>alert(1)</script>", "'; drop table checkouts;--", "%00", "../../etc/passwd", "null", "1e5", "-0", "NaN", "Infinity", "0x10"];
const specialChar = fc.constantFrom("\u0000", "\ud800", "\udc00", "\u202e", "\ufeff", "\n", "\\", '"', "<", "𝄞");
const weirdString = fc.oneof(
  fc.constantFrom(...SPECIAL_STRINGS),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.array(fc.oneof(specialChar, fc.string({ unit: "grapheme", maxLength: 3 })), { maxLength: 12 }).map((a) => a.join("")),
  fc.string({ maxLength: 3 }).map((s) => s.repeat(1000)),
);
const amountLike = fc.oneof(
  fc.bigInt({ min: -(10n ** 25n), max: 10n ** 25n }).map((b) => String(b)),
  fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 22n }), fc.nat({ max: 99999 })).map(([i, f]) => `${i}.${f}`),
  fc.constantFrom("50000000000000000.00", "92233720368547758.07", "92233720368547758.08", "999999.99", "1000000.00", "9".repeat(400), "0.00", "1.005"),
);
const deepValue = fc.constantFrom(0, 1).map(() => JSON.parse("[".repeat(200) + "]".repeat(200)) as unknown);
const hugeArray = fc.nat({ max: 20_000 }).map((n) => Array.from({ length: n }, (_, i) => i));
const fuzzValue: fc.Arbitrary<unknown> = fc.oneof(
  weirdString,
  amountLike,
  fc.double(),
  fc.integer(),
  fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 5e-324, 0, -1),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom("KES", "USD", "JPY", "usd", "XXX"),
  fc.constantFrom(...["seller-a", "seller-b"]).map((s) => sellerRefs.find((r) => r.startsWith(s)) ?? s),
  fc.anything({ maxDepth: 3 }),
  deepValue,
  hugeArray,
);
const MUTABLE_PATHS: (string | number)[][] = [
  [],
  ["buyer_info"],
  ["buyer_info", "email"],
  ["buyer_info", "name"],
  ["buyer_info", "phone"],
  ["buyer_info", "country"],
  ["buyer_info", "ip"],
  ["return_url"],
  ["payment_orders"],
  ["payment_orders", 0],
  ["payment_orders", 1],
  ["payment_orders", 0, "payment_order_id"],
  ["payment_orders", 0, "seller_account"],
  ["payment_orders", 0, "amount"],
  ["payment_orders", 1, "amount"],
  ["payment_orders", 0, "currency"],
  ["metadata"],
  ["payment_method_options"],
  ["payment_method_options", "mpesa"],
  ["payment_method_options", "mpesa", "require_buyer_phone"],
];
type Mutation = { path: (string | number)[]; op: "set" | "delete"; value: unknown };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ path: fc.constantFrom(...MUTABLE_PATHS), op: fc.constantFrom("set" as const, "delete" as const), value: fuzzValue }),
  // Extra keys anywhere, and metadata keys and values of any kind.
  fc.record({
    path: fc.tuple(fc.constantFrom<(string | number)[]>([], ["buyer_info"], ["payment_orders", 0], ["metadata"]), fc.oneof(weirdString, fc.constantFrom("__proto__", "constructor", "toString"))).map(([p, k]) => [...p, k]),
    op: fc.constant("set" as const),
    value: fuzzValue,
  }),
);

function validBody() {
  seq += 1;
  return {
    buyer_info: { email: `abuse${seq}@example.test`, country: "KE" },
    return_url: "https://shop.example/return",
    payment_orders: [
      { payment_order_id: `ab_${seq}_a`, seller_account: sellerRefs[0], amount: "12.50", currency: "KES" },
      { payment_order_id: `ab_${seq}_b`, seller_account: sellerRefs[1], amount: "1.00", currency: "KES" },
    ],
    metadata: { order: String(seq) },
  } as Record<string, unknown>;
}

function applyMutation(root: Record<string, unknown>, m: Mutation): unknown {
  if (m.path.length === 0) return m.op === "set" ? m.value : undefined;
  let node: unknown = root;
  for (const key of m.path.slice(0, -1)) {
    if (node === null || typeof node !== "object") return root;
    node = (node as Record<string | number, unknown>)[key];
  }
  if (node === null || typeof node !== "object") return root;
  const last = m.path[m.path.length - 1]!;
  if (m.op === "delete") delete (node as Record<string | number, unknown>)[last];
  else Object.defineProperty(node, last, { value: m.value, enumerable: true, writable: true, configurable: true });
  return root;
}

const RAW_BODIES = [
  "",
  "null",
  "[]",
  '"a string"',
  "42",
  "{",
  "{not json",
  '{"a":1,}',
  "\ufeff{}",
  "{}",
  '{"payment_orders":' + "[".repeat(10_000) + "]".repeat(10_000) + "}",
  "[".repeat(10_000) + "]".repeat(10_000),
  '{"x":"' + "a".repeat(300 * 1024) + '"}',
  '{"buyer_info":{"email":"a@b.co"},"payment_orders":[' + Array.from({ length: 30_000 }, () => "1").join(",") + "]}",
  '{"metadata":{"\\u0000":"\\u0000"}}',
  '{"return_url":"\\ud800"}',
  '{"__proto__":{"polluted":true}}',
];

/** Header values a real HTTP client could send (bytes 0x20–0xFF, tabs); Headers refuses CR, LF and NUL itself. */
const headerValue = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 300 });
const idemKey = fc.option(fc.oneof(headerValue, fc.constantFrom("", " ", "a".repeat(255), "a".repeat(256), Buffer.from("ключ").toString("latin1") /* UTF-8 bytes, as Node reads them */, "key\twith\ttab", "k e y", "x")), { nil: undefined });
const contentType = fc.option(
  fc.oneof(headerValue, fc.constantFrom("application/json", "text/plain", "application/json; charset=utf-8", "application/json; charset=latin1", "APPLICATION/JSON", "application/json;;;", "application/json; charset=", "application/*", "*/*", "multipart/form-data")),
  { nil: undefined },
);
const authorization = fc.option(
  fc.oneof(
    headerValue,
    fc.constantFrom("Bearer", "Bearer ", "bearer SECRET", "Basic dXNlcjpwYXNz", "Bearer SECRET SECRET", "Bearer SECRETx", "Bearer PUBLISHABLE", "Bearer sk_live_" + "A".repeat(32), "Bearer sk_test_" + "A".repeat(32), "Bearer  SECRET", "SECRET"),
  ),
  { nil: undefined },
);

// ---------------------------------------------------------------------------------------------------------
// The invariants

async function stored() {
  const [c] = await t.db.select({ n: count() }).from(checkouts).where(eq(checkouts.merchantId, merchant.id));
  const [o] = await t.db.select({ n: count() }).from(paymentOrders).where(eq(paymentOrders.merchantId, merchant.id));
  const [k] = await t.db.select({ n: count() }).from(idempotencyKeys).where(eq(idempotencyKeys.merchantId, merchant.id));
  return { checkouts: c!.n, orders: o!.n, idempotency: k!.n };
}

function expectErrorShape(json: unknown, res: Response) {
  expect(json).toBeTypeOf("object");
  const top = json as Record<string, unknown>;
  expect(Object.keys(top)).toEqual(["error"]);
  const e = top.error as Record<string, unknown>;
  for (const k of Object.keys(e)) expect(["type", "code", "message", "request_id", "fields"]).toContain(k);
  expect(REST_TYPES.has(e.type as string)).toBe(true);
  expect(Object.keys(ERROR_CODES)).toContain(e.code);
  expect(ERROR_CODES[e.code as keyof typeof ERROR_CODES].http).toBe(res.status);
  expect(e.message).toBeTypeOf("string");
  expect((e.message as string).length).toBeGreaterThan(0);
  expect(e.request_id).toMatch(/^req_[0-9a-f]{32}$/);
  if ("fields" in e) {
    const fields = e.fields as unknown[];
    expect(Array.isArray(fields)).toBe(true);
    expect(fields.length).toBeGreaterThan(0);
    const seen = new Set<string>();
    for (const f of fields as Record<string, unknown>[]) {
      expect(Object.keys(f).sort()).toEqual(["message", "path"]);
      expect(f.path).toBeTypeOf("string");
      expect(f.message).toBeTypeOf("string");
      const k = JSON.stringify([f.path, f.message]);
      expect(seen.has(k), `duplicate field ${k}`).toBe(false);
      seen.add(k);
    }
  }
}

/** Runs one request and checks every invariant; returns the status for statistics. */
async function check(send: () => Promise<Response>, opts: { method?: string } = {}): Promise<number> {
  const before = await stored();
  const res = await send();
  const text = await res.text();
  expect(res.status, text.slice(0, 500)).toBeLessThan(500);
  if (opts.method === "HEAD" || res.status === 204) return res.status;
  let json: unknown;
  expect(() => (json = JSON.parse(text)), text.slice(0, 200)).not.toThrow();
  if (res.status >= 400) {
    expectErrorShape(json, res);
    const code = (json as { error: { code: string } }).error.code;
    const after = await stored();
    expect({ checkouts: after.checkouts, orders: after.orders }).toEqual({ checkouts: before.checkouts, orders: before.orders });
    if (STORED_4XX.has(code)) expect(after.idempotency - before.idempotency).toBeLessThanOrEqual(1);
    else expect(after.idempotency, code).toBe(before.idempotency);
  }
  return res.status;
}

function postRaw(raw: string | undefined, headers: Record<string, string | undefined>) {
  const h = new Headers();
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) h.set(k, v);
  return post(new Request("http://localhost/api/v1/payments", { method: "POST", headers: h, body: raw === undefined ? undefined : new TextEncoder().encode(raw) }), { params: Promise.resolve({}) });
}
const okHeaders = () => ({ authorization: `Bearer ${secret}`, "content-type": "application/json", "idempotency-key": `abuse-${seq}-${Math.random()}` });

// ---------------------------------------------------------------------------------------------------------

describe("REST abuse (fast-check)", () => {
  it("POST /api/v1/payments with fuzzed bodies", { timeout: 120_000 }, async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        let body: unknown = validBody();
        for (const m of mutations) body = body && typeof body === "object" ? applyMutation(body as Record<string, unknown>, m) : body;
        const raw = JSON.stringify(body);
        const status = await check(() => postRaw(raw, okHeaders()));
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }),
      { numRuns: RUNS.bodies },
    );
    // The fuzzing reached past validation sometimes and was refused other times.
    expect([...statuses.keys()].some((s) => s >= 400)).toBe(true);
  });

  it("POST /api/v1/payments with hostile raw bodies (invalid JSON, deep nesting, huge arrays, over the size limit)", { timeout: 120_000 }, async () => {
    for (const raw of RAW_BODIES) await check(() => postRaw(raw, okHeaders()));
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ unit: "binary", maxLength: 200 }), fc.json({ maxDepth: 4 })), async (raw) => {
        await check(() => postRaw(raw, okHeaders()));
      }),
      { numRuns: RUNS.raw },
    );
  });

  it("POST /api/v1/payments with odd Idempotency-Key, Content-Type and Authorization headers", { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(idemKey, contentType, authorization, fc.boolean(), async (idem, ct, auth, mutate) => {
        const body = validBody();
        if (mutate) (body.payment_orders as { amount: string }[])[0]!.amount = "abc";
        const a = auth?.replaceAll("SECRET", secret).replaceAll("PUBLISHABLE", publishable);
        await check(() => postRaw(JSON.stringify(body), { authorization: a, "content-type": ct, "idempotency-key": idem }));
      }),
      { numRuns: RUNS.headers },
    );
  });

  it("GET /api/v1/payments/{id} with fuzzed ids and Authorization", { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(weirdString, fc.constantFrom("ab_1_a", "none", "a".repeat(64), "a".repeat(65), "..", "a/b")), authorization, async (id, auth) => {
        const headers = new Headers();
        const a = (auth ?? "Bearer SECRET").replaceAll("SECRET", secret).replaceAll("PUBLISHABLE", publishable);
        headers.set("authorization", a);
        await check(() => get(new Request("http://localhost/api/v1/payments/fuzz", { headers }), { params: Promise.resolve({ payment_order_id: id }) }));
      }),
      { numRuns: RUNS.paths },
    );
  });

  it("unknown /api/v1 paths, every method", { timeout: 60_000 }, async () => {
    type Mod = Record<string, (req: Request) => Promise<Response>>;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...HTTP_METHODS), fc.array(weirdString, { minLength: 1, maxLength: 4 }), async (method, segments) => {
        const path = segments.map((s) => s.replace(/[\ud800-\udfff]/g, "?")).join("/");
        const url = new URL(`http://localhost/api/v1/${path}`);
        const status = await check(() => (catchAll as unknown as Mod)[method]!(new Request(url, { method })), { method });
        if (method !== "HEAD") expect(status).toBe(404);
      }),
      { numRuns: RUNS.routes },
    );
  });
});
