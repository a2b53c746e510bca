// Abuse suite for the PSP webhook routes (app/api/webhooks/stripe, app/api/webhooks/mpesa/[token]): the real
// route handlers, called with Web Requests against a real Postgres, fed bad input by hand and by fast-check.
// Whatever arrives: never a 5xx; every refusal has the one webhook error shape (server/webhooks/inbound-body.ts,
// docs/psp.md, "Inbound webhooks"); a refusal stores nothing (no psp_events row, no outbox row).
// DATABASE_URL is set before the first import of server/env.js (which reads it once).
import fc from "fast-check";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, pointRoutesAt, type TestDatabase } from "@/test/db";

const WEBHOOK_SECRET = "whsec_sandbox_paybridge_dev_secret";
const MPESA_KINDS = ["stk", "b2c_result", "b2c_timeout", "status_result", "status_timeout", "reversal_result", "reversal_timeout", "b2c_status", "b2c_balance"] as const;
type Kind = (typeof MPESA_KINDS)[number];

let t: TestDatabase;
let stripeRoute: typeof import("@/app/api/webhooks/stripe/route");
let mpesaRoute: typeof import("@/app/api/webhooks/mpesa/[token]/route");
let tokens: Record<Kind, string>;

beforeAll(async () => {
  t = await createTestDatabase();
  pointRoutesAt(t);
  stripeRoute = await import("@/app/api/webhooks/stripe/route");
  mpesaRoute = await import("@/app/api/webhooks/mpesa/[token]/route");
  const { mpesaCallbackToken } = await import("@/server/psp/daraja/callback-tokens");
  const { env } = await import("@/server/env.js");
  expect(env.STRIPE_WEBHOOK_SECRET).toBe(WEBHOOK_SECRET);
  tokens = Object.fromEntries(MPESA_KINDS.map((k) => [k, mpesaCallbackToken(env.MPESA_CALLBACK_SECRET, k)])) as Record<Kind, string>;
});
afterAll(async () => t?.drop());

// ---- driving the routes ----

interface Answer {
  status: number;
  body: unknown;
}

const sign = (payload: string) => Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = { notJson: text };
  }
  return { status: res.status, body };
}

async function postStripe(body: string, opts: { signature?: string | null; contentType?: string } = {}): Promise<Answer> {
  const signature = opts.signature === undefined ? sign(body) : opts.signature;
  const headers: Record<string, string> = { "content-type": opts.contentType ?? "application/json" };
  if (signature !== null) headers["stripe-signature"] = signature;
  return answer(await stripeRoute.POST(new Request("http://localhost/api/webhooks/stripe", { method: "POST", headers, body })));
}

async function postMpesa(kindOrToken: Kind | string, body: string, contentType = "application/json"): Promise<Answer> {
  const token = Object.hasOwn(tokens, kindOrToken) ? tokens[kindOrToken as Kind] : kindOrToken;
  const req = new Request(`http://localhost/api/webhooks/mpesa/${encodeURIComponent(token)}`, { method: "POST", headers: { "content-type": contentType }, body });
  return answer(await mpesaRoute.POST(req, { params: Promise.resolve({ token }) }));
}

/** Everything a webhook can leave behind: the event row and its hand-off to processing. */
async function stored(): Promise<{ events: number; outbox: number }> {
  const [r] = await t.sql<{ events: number; outbox: number }[]>`select (select count(*)::int from psp_events) as events, (select count(*)::int from outbox_events) as outbox`;
  return { events: r!.events, outbox: r!.outbox };
}

const ERROR_CODES = ["invalid_signature", "malformed_json", "invalid_payload", "payload_too_large", "not_found"];

/** The one shape of a webhook refusal; nothing else in the body. */
function expectRefusal(a: Answer, label = ""): { code: string; message: string; path?: string } {
  expect(a.status, `${label} ${JSON.stringify(a.body).slice(0, 300)}`).toBeGreaterThanOrEqual(400);
  expect(a.status, label).toBeLessThan(500);
  const body = a.body as { received: unknown; error: { code: string; message: string; path?: string } };
  expect(Object.keys(body).sort(), label).toEqual(["error", "received"]);
  expect(body.received).toBe(false);
  expect(ERROR_CODES, label).toContain(body.error.code);
  expect(typeof body.error.message).toBe("string");
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(Object.keys(body.error).every((k) => ["code", "message", "path"].includes(k)), label).toBe(true);
  if ("path" in body.error) expect(typeof body.error.path).toBe("string");
  return body.error;
}

/** Any answer of a webhook route: a 2xx in its accepted shape, or a refusal that stored nothing. */
async function expectSafe(psp: "stripe" | "mpesa", send: () => Promise<Answer>, label: string): Promise<Answer> {
  const before = await stored();
  const a = await send();
  expect(a.status, `${label}: ${JSON.stringify(a.body).slice(0, 300)}`).toBeLessThan(500);
  const after = await stored();
  if (a.status === 200) {
    if (psp === "stripe") expect(a.body).toEqual({ received: true, duplicate: expect.any(Boolean) });
    else expect(a.body).toEqual({ ResultCode: 0, ResultDesc: "Accepted" });
    expect(after.events - before.events).toBeLessThanOrEqual(1);
  } else {
    expectRefusal(a, label);
    expect(after, `${label}: a refusal stored something`).toEqual(before);
  }
  return a;
}

// ---- the bodies ----

const goodStripeEvent = (id: string, extra: Record<string, unknown> = {}) => ({ id, object: "event", type: "payment_intent.succeeded", created: 1_700_000_000, data: { object: { id: "pi_abuse", object: "payment_intent", status: "succeeded" } }, ...extra });
const goodStk = (checkoutRequestId: string) => ({ Body: { stkCallback: { MerchantRequestID: "29115-1", CheckoutRequestID: checkoutRequestId, ResultCode: 1032, ResultDesc: "Request cancelled by user", CallbackMetadata: { Item: [{ Name: "Amount", Value: 1 }, { Name: "Balance" }] } } } });
const goodResult = (conversationId: string) => ({ Result: { ResultType: 0, ResultCode: 0, ResultDesc: "ok", OriginatorConversationID: "o-1", ConversationID: conversationId, TransactionID: "T1", ResultParameters: { ResultParameter: [{ Key: "Amount", Value: 10 }] } } });

/** Nested `depth` levels deep, as text (JSON.stringify could not build it). */
const deepArray = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;

/** Strings Postgres refuses or would change, and other text that must be stored as it is. */
const NASTY = ["\u0000", "a\u0000b", "\ud800", "x\udfffy", "\udc00\ud800", "\u202e", "\ufeff", "😀", "é", "\u0001", "\\u0000", "'; drop table psp_events; --", "%00", "\n"];
/** Number literals JSON.parse cannot carry exactly, spliced into bodies as text. */
const HUGE_NUMBERS = ["1e400", "-1e400", "99999999999999999999", "9007199254740993", "1E+309", "123456789012345678901234567890"];

const unitArb = fc.oneof({ weight: 4, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) }, { weight: 1, arbitrary: fc.constantFrom(...NASTY) });
const stringArb = fc.string({ unit: unitArb, maxLength: 12 });
/** Any JSON value, with unicode, NUL and lone surrogates in strings and keys. */
const jsonArb = fc.jsonValue({ maxDepth: 4, stringUnit: unitArb });
/** A marker JSON.stringify keeps, replaced afterwards by a raw number literal. */
const HUGE_MARK = "\u0002huge:";
const hugeArb = fc.constantFrom(...HUGE_NUMBERS).map((n) => `${HUGE_MARK}${n}`);
const leafArb = fc.oneof(jsonArb, stringArb, hugeArb, fc.constant(null), fc.integer(), fc.double(), fc.boolean(), fc.constant([]), fc.constant({}));
/** Mostly the good value, sometimes anything: bodies near enough to valid that some are accepted. */
const mostly = <T,>(good: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: leafArb });
function toText(v: unknown): string {
  return JSON.stringify(v).replace(/"\\u0002huge:([^"]+)"/g, "$1");
}

const CONTENT_TYPES = ["application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/octet-stream", "", "application/json; charset=utf-16"];

// ---- the findings, by hand ----

describe("Stripe: a correctly signed body that is not an event", () => {
  it.each([
    ["[]", "[]"],
    ["null", "null"],
    ["a number", "42"],
    ["a string", '"payment_intent.succeeded"'],
    ["true", "true"],
    ["a type only", '{"type":"payment_intent.succeeded"}'],
    ["no data.object", JSON.stringify({ id: "evt_x1", object: "event", type: "payment_intent.succeeded", created: 1 })],
    ["data.object not an object", JSON.stringify({ id: "evt_x2", object: "event", type: "payment_intent.succeeded", created: 1, data: { object: "pi_1" } })],
    ["an id that is no event id", JSON.stringify(goodStripeEvent("pi_123"))],
    ["an id of the wrong type", JSON.stringify(goodStripeEvent("evt_ok", { id: 12 }))],
    ["a thin v2 event", JSON.stringify({ id: "evt_x3", object: "v2.core.event", type: "v1.billing.meter.error_report_triggered", created: "2024-01-01" })],
    ["NUL in the id", JSON.stringify(goodStripeEvent("evt_a\u0000b"))],
    ["NUL in a nested string", JSON.stringify(goodStripeEvent("evt_nul1", { data: { object: { id: "pi_1", object: "payment_intent", description: "a\u0000b" } } }))],
    ["a lone surrogate", JSON.stringify(goodStripeEvent("evt_sur1", { data: { object: { id: "pi_1", object: "payment_intent", description: "x\ud800" } } }))],
    ["NUL in a key", JSON.stringify(goodStripeEvent("evt_nulk", { data: { object: { id: "pi_1", object: "payment_intent", "k\u0000": 1 } } }))],
    ["created 1e400", JSON.stringify(goodStripeEvent("evt_huge1")).replace("1700000000", "1e400")],
    ["an amount past 2^53", JSON.stringify(goodStripeEvent("evt_huge2", { data: { object: { id: "pi_1", object: "payment_intent", amount: 1 } } })).replace('"amount":1', '"amount":99999999999999999999')],
    ["nested 10 000 deep", `{"id":"evt_deep","object":"event","type":"a.b","created":1,"data":{"object":{"id":"pi_1","object":"x","deep":${deepArray(10_000)}}}}`],
    ["an array nested 10 000 deep", deepArray(10_000)],
  ])("%s: 400 invalid_payload naming the problem, nothing stored", async (_label, body) => {
    const before = await stored();
    const a = await postStripe(body);
    expect(a.status).toBe(400);
    const err = expectRefusal(a);
    expect(err.code).toBe("invalid_payload");
    expect(err.message).toMatch(/JSON object|Stripe event|NUL|surrogate|range|nested/);
    expect(await stored()).toEqual(before);
  });

  it("the refusal names the field: data.object, id, created", async () => {
    expect(expectRefusal(await postStripe(JSON.stringify({ id: "evt_x4", object: "event", type: "a.b", created: 1, data: { object: "x" } })))).toMatchObject({ path: "data.object" });
    expect(expectRefusal(await postStripe(JSON.stringify(goodStripeEvent("nope"))))).toMatchObject({ path: "id" });
    expect(expectRefusal(await postStripe(JSON.stringify(goodStripeEvent("evt_x5")).replace("1700000000", "1e400")))).toMatchObject({ path: "created", message: expect.stringMatching(/range/) });
  });

  it("the control: the same shapes, as an event, are stored once", async () => {
    const before = await stored();
    const body = JSON.stringify(goodStripeEvent("evt_abuse_control", { data: { object: { id: "pi_1", object: "payment_intent", description: "é 😀 \u202e" } } }));
    expect(await postStripe(body)).toEqual({ status: 200, body: { received: true, duplicate: false } });
    expect(await postStripe(body)).toEqual({ status: 200, body: { received: true, duplicate: true } });
    expect(await stored()).toEqual({ events: before.events + 1, outbox: before.outbox + 1 });
  });
});

describe("Stripe: malformed JSON is not a signature failure", () => {
  it("signed malformed JSON: 400 malformed_json; unsigned or wrongly signed: 400 invalid_signature; nothing stored", async () => {
    const before = await stored();
    for (const body of ["{", '{"id":"evt_1",', "not json", "{'a':1}", '{"a":1}}', "\u0000", " "]) {
      expect(expectRefusal(await postStripe(body)).code, body).toBe("malformed_json");
      expect(expectRefusal(await postStripe(body, { signature: null })).code, body).toBe("invalid_signature");
      expect(expectRefusal(await postStripe(body, { signature: Stripe.webhooks.generateTestHeaderString({ payload: body, secret: "whsec_wrong" }) })).code, body).toBe("invalid_signature");
    }
    // A valid event under a bad signature is still a signature failure, not a body problem.
    const event = JSON.stringify(goodStripeEvent("evt_badsig"));
    for (const signature of [null, "", "garbage", "t=1,v1=00", Stripe.webhooks.generateTestHeaderString({ payload: event, secret: "whsec_wrong" }), Stripe.webhooks.generateTestHeaderString({ payload: event, secret: WEBHOOK_SECRET, timestamp: Math.floor(Date.now() / 1000) - 301 })]) {
      expect(expectRefusal(await postStripe(event, { signature })).code).toBe("invalid_signature");
    }
    expect(await stored()).toEqual(before);
  });

  it("an empty body is a signature failure (Stripe never signs one); a body past 1 MiB is 413", async () => {
    expect(expectRefusal(await postStripe("")).code).toBe("invalid_signature");
    const big = JSON.stringify(goodStripeEvent("evt_big", { pad: "x".repeat(1024 * 1024) }));
    const a = await postStripe(big);
    expect(a.status).toBe(413);
    expect(expectRefusal(a).code).toBe("payload_too_large");
  });
});

describe("M-Pesa: callbacks that are not callbacks", () => {
  const stk = (cb: Record<string, unknown>) => JSON.stringify({ Body: { stkCallback: { MerchantRequestID: "m", CheckoutRequestID: "ws_CO_abuse", ResultCode: 0, ...cb } } });
  it.each([
    ["stk", "[]"],
    ["stk", "null"],
    ["stk", "7"],
    ["stk", '"Body"'],
    ["stk", '{"Body":[]}'],
    ["stk", '{"Body":{"stkCallback":null}}'],
    ["stk", stk({ CheckoutRequestID: 12 })],
    ["stk", stk({ CheckoutRequestID: { $ne: 1 } })],
    ["stk", stk({ ResultCode: "zero" })],
    ["stk", stk({ ResultCode: [] })],
    ["stk", stk({ CallbackMetadata: { Item: {} } })],
    ["stk", stk({ CallbackMetadata: { Item: "x" } })],
    ["stk", stk({ CallbackMetadata: { Item: [{ Name: 1 }] } })],
    ["stk", stk({ CallbackMetadata: { Item: [{ Name: "Amount", Value: { a: 1 } }] } })],
    ["stk", stk({ CheckoutRequestID: "ws_CO_\u0000" })],
    ["stk", stk({ ResultDesc: "a\u0000b" })],
    ["stk", stk({ ResultDesc: "lone \udc00" })],
    ["stk", stk({ CallbackMetadata: { Item: [{ Name: "Amount", Value: 1 }] } }).replace('"Value":1', '"Value":1e400')],
    ["stk", stk({ CallbackMetadata: { Item: [{ Name: "Amount", Value: 1 }] } }).replace('"Value":1', '"Value":99999999999999999999')],
    ["stk", stk({ ResultCode: 0 }).replace('"ResultCode":0', '"ResultCode":1e400')],
    ["stk", `{"Body":{"stkCallback":{"CheckoutRequestID":"ws_CO_deep","ResultCode":0,"x":${deepObject(10_000)}}}}`],
    ["stk", deepArray(10_000)],
    ["b2c_result", '{"Result":[]}'],
    ["b2c_result", JSON.stringify({ Result: { ConversationID: 5, ResultCode: 0 } })],
    ["status_result", JSON.stringify({ Result: { ConversationID: "AG_1", ResultCode: 0, OriginatorConversationID: { a: 1 } } })],
    ["status_result", JSON.stringify({ Result: { ConversationID: "AG_1", ResultCode: 0, ResultParameters: { ResultParameter: "x" } } })],
    ["reversal_timeout", JSON.stringify({ Result: { ConversationID: "AG_\u0000", ResultCode: 0 } })],
  ])("%s %s: 400 invalid_payload, nothing stored", async (kind, body) => {
    const before = await stored();
    const a = await postMpesa(kind, body);
    expect(a.status, JSON.stringify(a.body)).toBe(400);
    expect(expectRefusal(a).code).toBe("invalid_payload");
    expect(await stored()).toEqual(before);
  });

  it("malformed JSON is malformed_json; an unknown token is 404 not_found before the body is read; nothing stored", async () => {
    const before = await stored();
    for (const body of ["{", "", "\u0000", "{'Body':1}"]) expect(expectRefusal(await postMpesa("stk", body)).code).toBe("malformed_json");
    for (const token of ["wrong", "", "\u00e9", tokens.stk.slice(0, -1), `${tokens.stk}x`]) {
      const a = await postMpesa(token, JSON.stringify(goodStk("ws_CO_wrongtoken")));
      expect(a.status).toBe(404);
      expect(expectRefusal(a).code).toBe("not_found");
    }
    expect(await stored()).toEqual(before);
  });

  it("the control: a genuine-looking callback of each kind gets Daraja's ack and is stored once", async () => {
    const before = await stored();
    for (const kind of MPESA_KINDS) {
      const body = JSON.stringify(kind === "stk" ? goodStk("ws_CO_control") : goodResult(`AG_control_${kind}`));
      expect(await postMpesa(kind, body)).toEqual({ status: 200, body: { ResultCode: 0, ResultDesc: "Accepted" } });
      expect(await postMpesa(kind, body)).toEqual({ status: 200, body: { ResultCode: 0, ResultDesc: "Accepted" } });
    }
    expect(await stored()).toEqual({ events: before.events + MPESA_KINDS.length, outbox: before.outbox + MPESA_KINDS.length });
  });
});

// ---- the fuzz ----

/** Runs per property: bounded so the file stays well under a minute. Raise SCALE for a soak (25 ran clean in ~90 s). */
const SCALE = 1;
const runs = (n: number) => ({ numRuns: n * SCALE });

const RUNS = runs(60);

describe("fuzz: Stripe", () => {
  it("any JSON value, signed or not, under any content type", async () => {
    await fc.assert(
      fc.asyncProperty(jsonArb, fc.boolean(), fc.constantFrom(...CONTENT_TYPES), async (value, signed, contentType) => {
        const body = JSON.stringify(value);
        await expectSafe("stripe", () => postStripe(body, { signature: signed ? undefined : null, contentType }), `stripe ${body.slice(0, 80)}`);
      }),
      RUNS,
    );
  });

  it("event-shaped bodies with fuzzed fields (strings with NUL and surrogates, huge numbers, wrong types)", async () => {
    const eventArb = fc.record(
      {
        id: mostly(fc.stringMatching(/^evt_[A-Za-z0-9]{8}$/)),
        object: mostly(fc.constant("event")),
        type: mostly(fc.constantFrom("payment_intent.succeeded", "charge.failed", "payout.paid")),
        created: mostly(fc.integer({ min: 0 })),
        data: mostly(fc.record({ object: mostly(fc.record({ id: mostly(fc.stringMatching(/^pi_[A-Za-z0-9]{8}$/)), object: mostly(fc.constant("payment_intent")), extra: leafArb }, { requiredKeys: ["object"] })) })),
        extra: leafArb,
      },
      { requiredKeys: ["id", "object", "type", "created", "data"] },
    );
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(eventArb, async (event) => {
        const a = await expectSafe("stripe", () => postStripe(toText(event)), `stripe event ${toText(event).slice(0, 120)}`);
        if (a.status === 200) accepted++;
      }),
      runs(120),
    );
    expect(accepted).toBeGreaterThan(0);
  });

  it("raw text: truncated events, arbitrary strings, deep nesting, signed and unsigned", async () => {
    const event = JSON.stringify(goodStripeEvent("evt_trunc"));
    const textArb = fc.oneof(
      fc.integer({ min: 0, max: event.length - 1 }).map((n) => event.slice(0, n)),
      fc.string({ unit: unitArb, maxLength: 40 }),
      fc.integer({ min: 1, max: 10_000 }).map(deepArray),
      fc.integer({ min: 1, max: 10_000 }).map(deepObject),
      fc.constantFrom(...HUGE_NUMBERS),
    );
    await fc.assert(
      fc.asyncProperty(textArb, fc.boolean(), async (body, signed) => {
        await expectSafe("stripe", () => postStripe(body, { signature: signed ? undefined : null }), `stripe text ${body.slice(0, 80)}`);
      }),
      RUNS,
    );
  });
});

describe("fuzz: M-Pesa", () => {
  const kindArb = fc.constantFrom(...MPESA_KINDS);
  it("any JSON value to any callback kind, under any content type", async () => {
    await fc.assert(
      fc.asyncProperty(kindArb, jsonArb, fc.constantFrom(...CONTENT_TYPES), async (kind, value, contentType) => {
        await expectSafe("mpesa", () => postMpesa(kind, JSON.stringify(value), contentType), `mpesa ${kind} ${JSON.stringify(value).slice(0, 80)}`);
      }),
      RUNS,
    );
  });

  it("callback-shaped bodies with fuzzed fields", async () => {
    const itemArb = mostly(fc.record({ Name: mostly(fc.constantFrom("Amount", "MpesaReceiptNumber", "PhoneNumber")), Value: mostly(fc.oneof(fc.integer(), fc.string())) }, { requiredKeys: ["Name"] }));
    const stkArb = fc.record({
      Body: mostly(
        fc.record({
          stkCallback: mostly(
            fc.record(
              {
                MerchantRequestID: mostly(fc.constant("m-1")),
                CheckoutRequestID: mostly(fc.stringMatching(/^ws_CO_[0-9]{6}$/)),
                ResultCode: mostly(fc.constantFrom(0, 1032, "0")),
                ResultDesc: mostly(fc.constant("ok")),
                CallbackMetadata: mostly(fc.record({ Item: mostly(fc.array(itemArb, { maxLength: 4 })) })),
              },
              { requiredKeys: ["CheckoutRequestID", "ResultCode"] },
            ),
          ),
        }),
      ),
    });
    const paramArb = mostly(fc.record({ Key: mostly(fc.constant("Amount")), Value: mostly(fc.oneof(fc.integer(), fc.string())) }, { requiredKeys: ["Key"] }));
    const resultArb = fc.record({
      Result: mostly(
        fc.record(
          {
            ResultCode: mostly(fc.constantFrom(0, 2001, "0")),
            ConversationID: mostly(fc.stringMatching(/^AG_[0-9]{6}$/)),
            OriginatorConversationID: mostly(fc.constant("o-1")),
            TransactionID: mostly(fc.constant("T1")),
            ResultParameters: mostly(fc.record({ ResultParameter: fc.oneof(paramArb, fc.array(paramArb, { maxLength: 3 })) })),
          },
          { requiredKeys: ["ResultCode", "ConversationID"] },
        ),
      ),
    });
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(kindArb, stkArb, resultArb, async (kind, stkBody, resultBody) => {
        const body = toText(kind === "stk" ? stkBody : resultBody);
        const a = await expectSafe("mpesa", () => postMpesa(kind, body), `mpesa ${kind} ${body.slice(0, 120)}`);
        if (a.status === 200) accepted++;
      }),
      runs(120),
    );
    expect(accepted).toBeGreaterThan(0);
  });

  it("raw text and deep nesting; any token", async () => {
    const textArb = fc.oneof(fc.string({ unit: unitArb, maxLength: 40 }), fc.integer({ min: 1, max: 10_000 }).map(deepArray), fc.integer({ min: 1, max: 10_000 }).map(deepObject), fc.constantFrom(...HUGE_NUMBERS, ""));
    await fc.assert(
      fc.asyncProperty(fc.oneof(kindArb, fc.string({ maxLength: 70 })), textArb, async (kindOrToken, body) => {
        await expectSafe("mpesa", () => postMpesa(kindOrToken, body), `mpesa text ${body.slice(0, 80)}`);
      }),
      RUNS,
    );
  });
});
