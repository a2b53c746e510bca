// Abuse suite for /api/trpc (app/api/trpc/[trpc]/route.ts): every public procedure — the hosted checkout's
// checkout.get, prepareCard, submitCard, startMpesa — and a few signed-in ones, called through the real route
// handler with Web Requests against a real Postgres, with inputs by hand and by fast-check, in every HTTP shape
// tRPC takes (POST and batch POST for mutations, GET ?input= and batch GET for queries, raw bodies).
// Whatever arrives: never a 5xx; every error has the one tRPC error shape (docs/security.md, "Bad input on the PSP webhooks and /api/trpc"); a 4xx
// stores nothing (no checkout, order, attempt, PSP call or PSP event row appears, no merchant row changes).
// DATABASE_URL and AUTH_SECRET are set before the first import of server/env.js (which reads them once).
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessionCookie, TEST_AUTH_SECRET } from "@/server/auth/test-helpers";
import { createTestDatabase, pointRoutesAt, type TestDatabase } from "@/test/db";

const APP = "http://localhost:3000";
/** A same-origin browser page of ours, as Next hands its requests to the route. */
const BROWSER = { host: "localhost:3000", "x-forwarded-proto": "http", origin: APP, "sec-fetch-site": "same-origin" };

let t: TestDatabase;
let route: typeof import("@/app/api/trpc/[trpc]/route");
let checkoutId: string;
let cookie: string;
let merchantId: string;

beforeAll(async () => {
  t = await createTestDatabase();
  // The fuzz is one client: the checkout actions' per-IP limit must not turn its inputs into 429s.
  pointRoutesAt(t, { AUTH_SECRET: TEST_AUTH_SECRET, CHECKOUT_RATE_LIMIT_PER_IP: "1000000" });
  route = await import("@/app/api/trpc/[trpc]/route");
  const fixtures = await import("@/test/fixtures");
  const { createCheckout } = await import("@/server/payments/create-checkout");
  const m = await fixtures.createMerchant(t.db, "Abuse Traders");
  merchantId = m.id;
  const [seller] = await t.sql<{ reference: string }[]>`select reference from sellers where merchant_id = ${m.id} limit 1`;
  // Not whole shillings, so M-Pesa refuses it before any PSP call; the fuzz never prepares a card on it.
  const res = await createCheckout(t.db, {
    merchantId: m.id,
    input: { buyer_info: { email: "abuse@example.test" }, return_url: "https://shop.example/r", payment_orders: [{ payment_order_id: "abuse-1", seller_account: seller!.reference, amount: "350.50", currency: "KES" }] },
  });
  checkoutId = res.body.checkout_id;
  const admin = await fixtures.createUser(t.db, { merchantId: m.id, role: "merchant_admin" });
  cookie = await sessionCookie({ userId: admin.id, signedInAtMs: Date.now(), epoch: 0 });
});
afterAll(async () => t?.drop());

// ---- driving the route ----

interface Answer {
  status: number;
  body: unknown;
}

async function send(req: Request): Promise<Answer> {
  const res = await (req.method === "GET" ? route.GET(req) : route.POST(req));
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: { notJson: text } };
  }
}

const url = (path: string, query = "") => `${APP}/api/trpc/${path}${query}`;
function postRaw(path: string, body: string, opts: { contentType?: string; query?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return send(new Request(url(path, opts.query), { method: "POST", headers: { ...BROWSER, "content-type": opts.contentType ?? "application/json", ...opts.headers }, body }));
}
function getRaw(path: string, query: string, headers: Record<string, string> = {}): Promise<Answer> {
  return send(new Request(url(path, query), { headers: { ...BROWSER, ...headers } }));
}

/** The client's wire form of one input: superjson's {json}, or any value when `wire` is true. */
const envelope = (input: unknown, wire = false) => (wire ? input : { json: input });

type Shape = "post" | "batch-post" | "get" | "batch-get";
/** One call in one HTTP shape (a GET of a mutation is tRPC's 405, also worth sending). */
function call(path: string, shape: Shape, input: unknown, opts: { wire?: boolean; headers?: Record<string, string> } = {}): Promise<Answer> {
  const one = envelope(input, opts.wire);
  const batched = { 0: one };
  if (shape === "post") return postRaw(path, JSON.stringify(one) ?? "", { headers: opts.headers });
  if (shape === "batch-post") return postRaw(path, JSON.stringify(batched), { query: "?batch=1", headers: opts.headers });
  const query = shape === "batch-get" ? `?batch=1&input=${encodeURIComponent(JSON.stringify(batched))}` : `?input=${encodeURIComponent(JSON.stringify(one) ?? "")}`;
  return getRaw(path, query, opts.headers);
}

const TRPC_CODES = ["PARSE_ERROR", "BAD_REQUEST", "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "METHOD_NOT_SUPPORTED", "CONFLICT", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE", "UNPROCESSABLE_CONTENT", "TOO_MANY_REQUESTS"];

interface ErrorJson {
  message: string;
  code: number;
  data: { code: string; httpStatus: number; path?: string; appCode: string; zodError: { formErrors: string[]; fieldErrors: Record<string, string[]> } | null; stack?: unknown };
}

/** The one shape of a tRPC error (superjson-wrapped), returned unwrapped. */
function expectErrorShape(item: unknown, status: number, label: string): ErrorJson {
  const env = item as { error?: { json?: ErrorJson; meta?: unknown } };
  expect(env.error, `${label}: ${JSON.stringify(item).slice(0, 300)}`).toBeDefined();
  expect(Object.keys(env).sort(), label).toEqual(["error"]);
  const e = env.error!.json!;
  expect(Object.keys(e).sort(), label).toEqual(["code", "data", "message"]);
  expect(typeof e.message, label).toBe("string");
  expect(e.message.length, label).toBeGreaterThan(0);
  expect(typeof e.code, label).toBe("number");
  expect(TRPC_CODES, `${label}: ${e.data.code} ${e.message}`).toContain(e.data.code);
  expect(e.data.httpStatus, label).toBe(status);
  expect(typeof e.data.appCode, `${label}: appCode of ${e.data.code}`).toBe("string");
  expect(e.data.zodError === null || typeof e.data.zodError === "object", label).toBe(true);
  expect(e.data.stack ?? null, label).toBeNull();
  // Nothing of our internals: no stack text, no JS error names, no SQL.
  expect(e.message, label).not.toMatch(/at .*\.(ts|js):\d+|TypeError|RangeError|Cannot read|call stack|postgres|select |insert /i);
  return e;
}

/** Every row a buyer action could leave behind, and the merchant row a signed-in one could change. */
async function footprint(): Promise<string> {
  const [r] = await t.sql`select (select count(*)::int from checkouts) as checkouts, (select count(*)::int from payment_orders) as orders, (select count(*)::int from payment_attempts) as attempts,
    (select count(*)::int from psp_attempts) as psp_attempts, (select count(*)::int from psp_events) as psp_events, (select count(*)::int from audit_log) as audit, (select name from merchants where id = ${merchantId}) as merchant_name`;
  return JSON.stringify(r);
}

/** Any answer: never a 5xx; an error in the one shape; a 4xx changes nothing. */
async function expectSafe(label: string, run: () => Promise<Answer>): Promise<Answer> {
  const before = await footprint();
  const a = await run();
  expect(a.status, `${label}: ${JSON.stringify(a.body).slice(0, 400)}`).toBeLessThan(500);
  const items = Array.isArray(a.body) ? a.body : [a.body];
  for (const item of items) {
    if ((item as { error?: unknown }).error !== undefined) expectErrorShape(item, Array.isArray(a.body) ? (item as { error: { json: ErrorJson } }).error.json.data.httpStatus : a.status, label);
    else expect((item as { result?: unknown }).result, `${label}: neither result nor error: ${JSON.stringify(item).slice(0, 200)}`).toBeDefined();
  }
  if (a.status >= 400) expect(await footprint(), `${label}: a ${a.status} changed something`).toBe(before);
  return a;
}

// ---- inputs ----

const NASTY = ["\u0000", "chk_\u0000", "\ud800", "\udfff", "x\udc00y", "\u202e", "\ufeff", "😀", "é", "' or 1=1 --", "%00", "__proto__", "constructor"];
const unitArb = fc.oneof({ weight: 4, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) }, { weight: 1, arbitrary: fc.constantFrom(...NASTY) });
const nastyString = fc.oneof(fc.string({ unit: unitArb, maxLength: 30 }), fc.constantFrom(...NASTY), fc.integer({ min: 101, max: 200_000 }).map((n) => "9".repeat(n)));
const checkoutIdArb = fc.oneof(
  fc.stringMatching(/^chk_[0-9A-Z]{26}$/),
  nastyString,
  fc.constantFrom("chk_", `${"chk_"}${"A".repeat(26)}\u0000`, "chk_01AAAAAAAAAAAAAAAAAAAAAAA\ud800"),
);
const wrongType = fc.oneof(fc.jsonValue({ maxDepth: 3, stringUnit: unitArb }), fc.constantFrom(1e308, -0, Number.MAX_SAFE_INTEGER + 2));
const fieldArb = (good: fc.Arbitrary<unknown>) => fc.oneof({ weight: 2, arbitrary: good }, { weight: 2, arbitrary: nastyString }, { weight: 1, arbitrary: wrongType });
const inputArb = (fields: Record<string, fc.Arbitrary<unknown>>) =>
  fc.oneof({ weight: 4, arbitrary: fc.record({ ...fields, extra: wrongType }, { requiredKeys: [] }) }, { weight: 1, arbitrary: wrongType }, { weight: 1, arbitrary: fc.constant(undefined) });

const realOrFuzzedCheckout = () => fc.oneof(fc.constant(checkoutId), checkoutIdArb);
const SHAPES = { query: ["post", "batch-post", "get", "batch-get"] as const, mutation: ["post", "batch-post", "get"] as const };

// ---- by hand ----

describe("public procedures: text Postgres cannot store is a field-level 400", () => {
  it.each([
    ["checkout.submitCard", { checkoutId: "__real__", paymentIntentId: "pi_\u0000" }, "paymentIntentId"],
    ["checkout.submitCard", { checkoutId: "__real__", paymentIntentId: "pi_\ud800" }, "paymentIntentId"],
    ["checkout.startMpesa", { checkoutId: "__real__", phone: "0712\udc00345678" }, "phone"],
    ["checkout.startMpesa", { checkoutId: "__real__", phone: "0712345678\u0000" }, "phone"],
  ])("%s %j: BAD_REQUEST validation_failed naming %s, nothing stored", async (path, input, field) => {
    const withId = { ...input, checkoutId: checkoutId };
    const a = await expectSafe(path, () => call(path, "post", withId));
    expect(a.status).toBe(400);
    const e = expectErrorShape(a.body, 400, path);
    expect(e.data).toMatchObject({ code: "BAD_REQUEST", appCode: "validation_failed" });
    expect(e.data.zodError?.fieldErrors[field]?.[0]).toMatch(/NUL|surrogate/);
  });

  it("a signed-in procedure too: a lone surrogate in a merchant name is refused, not stored as U+FFFD", async () => {
    const before = await footprint();
    const a = await call("merchant.update", "post", { name: "Abuse \ud800 Traders" }, { headers: { cookie } });
    expect(a.status).toBe(400);
    expect(expectErrorShape(a.body, 400, "merchant.update").data.zodError?.fieldErrors.name?.[0]).toMatch(/surrogate/);
    expect(await footprint()).toBe(before);
  });
});

describe("unreadable input: 400 in the one shape, with an app code and no internals", () => {
  it.each([
    ["malformed JSON", () => postRaw("checkout.prepareCard", "{")],
    ["an empty body", () => postRaw("checkout.prepareCard", "")],
    ["null", () => postRaw("checkout.prepareCard", "null")],
    ["superjson meta naming an unknown class", () => postRaw("checkout.prepareCard", JSON.stringify({ json: { checkoutId: "x" }, meta: { values: { checkoutId: ["class", "Nope"] } } }))],
    ["superjson meta with a bad bigint", () => postRaw("checkout.prepareCard", JSON.stringify({ json: { checkoutId: "x" }, meta: { values: { checkoutId: ["bigint"] } } }))],
    ["superjson referential paths into nothing", () => postRaw("checkout.prepareCard", JSON.stringify({ json: { checkoutId: "x" }, meta: { referentialEqualities: { "a.b": ["c.d"] } } }))],
    ["superjson __proto__ path", () => postRaw("checkout.prepareCard", JSON.stringify({ json: { checkoutId: "x" }, meta: { values: { "__proto__.x": ["Date"] } } }))],
    ["superjson references making the input cyclic", () => postRaw("checkout.prepareCard", JSON.stringify({ json: { checkoutId: "x", a: { b: 1 } }, meta: { referentialEqualities: { a: ["a.self", "a.b"] } } }))],
    ["input nested 10 000 deep", () => postRaw("checkout.prepareCard", `{"json":${"[".repeat(10_000)}${"]".repeat(10_000)}}`)],
    ["a GET ?input= that is no JSON", () => getRaw("checkout.get", "?input=%7B")],
    ["a GET ?input= of invalid percent-encoding", () => getRaw("checkout.get", "?input=%E0%A4%A")],
    ["a GET ?input= nested 10 000 deep", () => getRaw("checkout.get", `?input=${encodeURIComponent(`{"json":${"[".repeat(10_000)}${"]".repeat(10_000)}}`)}`)],
    ["a batch that is not an object", () => postRaw("checkout.prepareCard", "[1]", { query: "?batch=1" })],
  ])("%s", async (label, run) => {
    const a = await expectSafe(label, run);
    expect(a.status).toBe(400);
    const e = expectErrorShape(Array.isArray(a.body) ? a.body[0] : a.body, 400, label);
    expect(e.data.appCode).toBe("validation_failed");
  });

  it("tRPC's own refusals carry an app code too: 404 unknown procedure, 405 wrong method, 415 wrong content type", async () => {
    expect(expectErrorShape((await getRaw("checkout.nope", "")).body, 404, "404").data.appCode).toBe("not_found");
    expect(expectErrorShape((await getRaw("checkout.prepareCard", `?input=${encodeURIComponent("{}")}`)).body, 405, "405").data.appCode).toBe("method_not_allowed");
    expect(expectErrorShape((await postRaw("checkout.prepareCard", "x", { contentType: "text/plain" })).body, 415, "415").data.appCode).toBe("unsupported_media_type");
  });

  it("a schema refusal's message names the field, not a JSON dump of zod issues", async () => {
    const e = expectErrorShape((await call("checkout.get", "get", { checkoutId: "chk_nope" })).body, 400, "get");
    expect(e.message).toBe("Invalid input: checkoutId: not a checkout id");
    expect(e.data.zodError?.fieldErrors.checkoutId).toEqual(["not a checkout id"]);
  });
});

// ---- the fuzz ----

/** Runs per property: bounded so the file stays well under a minute. Raise SCALE for a soak (25 ran clean in ~90 s). */
const SCALE = 1;
const runs = (n: number) => ({ numRuns: n * SCALE });

describe("fuzz: every public procedure, every HTTP shape", () => {
  it("checkout.get (query): POST, batch POST, GET ?input=, batch GET", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...SHAPES.query), inputArb({ checkoutId: fieldArb(realOrFuzzedCheckout()) }), async (shape, input) => {
        await expectSafe(`checkout.get ${shape} ${JSON.stringify(input)?.slice(0, 120)}`, () => call("checkout.get", shape, input));
      }),
      runs(80),
    );
  });

  it("checkout.prepareCard, submitCard, startMpesa (mutations)", async () => {
    const mutations = fc.oneof(
      // Never the real checkout for prepareCard: with a valid id it asks Stripe for a PaymentIntent (not bad input).
      fc.record({ path: fc.constant("checkout.prepareCard"), input: inputArb({ checkoutId: fieldArb(checkoutIdArb) }) }),
      fc.record({ path: fc.constant("checkout.submitCard"), input: inputArb({ checkoutId: fieldArb(realOrFuzzedCheckout()), paymentIntentId: fieldArb(fc.stringMatching(/^pi_[A-Za-z0-9]{24}$/)) }) }),
      fc.record({ path: fc.constant("checkout.startMpesa"), input: inputArb({ checkoutId: fieldArb(realOrFuzzedCheckout()), phone: fieldArb(fc.constantFrom("0712345678", "+254712345678", "254712345678", "0712 345 678")) }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...SHAPES.mutation), mutations, async (shape, { path, input }) => {
        await expectSafe(`${path} ${shape} ${JSON.stringify(input)?.slice(0, 120)}`, () => call(path, shape, input));
      }),
      runs(150),
    );
  });

  it("raw wire bodies and queries: any JSON as the envelope, bad superjson meta, any content type", async () => {
    const paths = fc.constantFrom("checkout.get", "checkout.prepareCard", "checkout.submitCard", "checkout.startMpesa", "checkout.get,checkout.get", "checkout.prepareCard,checkout.startMpesa", "checkout", "", "checkout.get,nope");
    const metaArb = fc.oneof(wrongType, fc.record({ values: fc.oneof(wrongType, fc.dictionary(fc.constantFrom("checkoutId", "a.b", "__proto__", "0"), fc.oneof(wrongType, fc.constantFrom(["bigint"], ["Date"], ["set"], ["map"], ["regexp"], ["class", "X"], ["custom", "Y"], ["symbol", "Z"], ["number"])))) }, { requiredKeys: [] }));
    const bodyArb = fc.oneof(
      fc.jsonValue({ maxDepth: 4, stringUnit: unitArb }).map((v) => JSON.stringify(v)),
      fc.record({ json: wrongType, meta: metaArb }).map((v) => JSON.stringify(v)),
      fc.record({ 0: fc.record({ json: wrongType, meta: metaArb }), 1: wrongType }).map((v) => JSON.stringify(v)),
      fc.string({ unit: unitArb, maxLength: 40 }),
      fc.integer({ min: 1, max: 10_000 }).map((n) => `{"json":${"[".repeat(n)}${"]".repeat(n)}}`),
    );
    const contentType = fc.constantFrom("application/json", "text/plain", "multipart/form-data; boundary=x", "application/octet-stream", "application/x-www-form-urlencoded", "", "application/json; charset=latin1");
    await fc.assert(
      fc.asyncProperty(paths, fc.constantFrom("POST", "GET"), fc.boolean(), bodyArb, contentType, async (path, method, batch, body, ct) => {
        const label = `${method} ${path} batch=${batch} ${ct} ${body.slice(0, 100)}`;
        if (method === "GET") await expectSafe(label, () => getRaw(path, `?${batch ? "batch=1&" : ""}input=${encodeURIComponent(body.replace(/[\ud800-\udfff]/g, "?"))}`));
        else await expectSafe(label, () => postRaw(path, body, { contentType: ct, query: batch ? "?batch=1" : "" }));
      }),
      runs(120),
    );
  });

  it.each(["constructor", "__proto__", "prototype"])("an input key named %s with bad text is a 400 naming it, not a 500 (superjson refuses such keys)", async (key) => {
    const input = JSON.parse(`{"${key}":["\\u0000"]}`);
    for (const [path, headers] of [["merchant.update", { cookie }], ["checkout.prepareCard", {}]] as const) {
      const a = await expectSafe(`${path} ${key}`, () => call(path, "post", input, { headers }));
      expect(a.status).toBe(400);
      const e = expectErrorShape(a.body, 400, key);
      expect(e.data.appCode).toBe("validation_failed");
      const flat = e.data.zodError as { formErrors: string[]; fieldErrors: Record<string, string[]> };
      expect(Object.keys(flat.fieldErrors)).not.toContain(key);
      // __proto__ never reaches the check: the input reader drops it, and the input is refused for what is left.
      if (key === "__proto__") continue;
      expect(e.message).toContain(key);
      expect(flat.formErrors.join(" ")).toContain(`${key}:`);
    }
  });

  it("signed-in procedures with fuzzed inputs (merchant.update, payments.list, payments.get)", async () => {
    const calls = fc.oneof(
      fc.record({ path: fc.constant("merchant.update"), kind: fc.constant("mutation" as const), input: inputArb({ name: fieldArb(fc.constantFrom("Abuse Traders", "  ", "x".repeat(121))) }) }),
      fc.record({ path: fc.constant("payments.list"), kind: fc.constant("query" as const), input: inputArb({ status: fieldArb(fc.constantFrom("SUCCESS", "FAILED")), cursor: nastyString, limit: fieldArb(fc.integer({ min: -5, max: 500 })) }) }),
      fc.record({ path: fc.constant("payments.get"), kind: fc.constant("query" as const), input: inputArb({ paymentOrderId: fieldArb(fc.constant("abuse-1")) }) }),
    );
    await fc.assert(
      fc.asyncProperty(calls, fc.constantFrom("post", "get", "batch-get"), async ({ path, kind, input }, shape) => {
        // A name the fuzz happens to make valid is a 200 that renames the merchant: put it back.
        const a = await expectSafe(`${path} ${JSON.stringify(input)?.slice(0, 120)}`, () => call(path, kind === "mutation" ? "post" : shape, input, { headers: { cookie } }));
        if (path === "merchant.update" && a.status === 200) await t.sql`update merchants set name = 'Abuse Traders' where id = ${merchantId}`;
      }),
      runs(80),
    );
  });
});
