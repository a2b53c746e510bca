import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import * as catchAll from "@/app/api/v1/[[...path]]/route";
import * as openapiRoute from "@/app/api/v1/openapi.json/route";
import * as paymentRoute from "@/app/api/v1/payments/[payment_order_id]/route";
import * as paymentsRoute from "@/app/api/v1/payments/route";
import * as disputeRoute from "@/app/api/v1/disputes/[id]/route";
import * as disputesRoute from "@/app/api/v1/disputes/route";
import * as payoutRoute from "@/app/api/v1/payouts/[id]/route";
import * as payoutsRoute from "@/app/api/v1/payouts/route";
import * as refundCancelRoute from "@/app/api/v1/refunds/[id]/cancel/route";
import * as refundRoute from "@/app/api/v1/refunds/[id]/route";
import * as refundsRoute from "@/app/api/v1/refunds/route";
import { checkouts, idempotencyKeys, sellers } from "@/db/schema";
import { createApiKey } from "@/server/api-keys/keys";
import {
  beginIdempotentRequest,
  finishIdempotentRequest,
  IDEMPOTENCY_HEARTBEAT_MS,
  IDEMPOTENCY_LOCK_TIMEOUT_MS,
  requestFingerprint,
} from "@/server/idempotency/idempotency";
import { createPaymentRoute } from "@/server/payments/routes";
import { waitFor } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createMerchant } from "@/test/fixtures";
import { apiRoute } from "./api-route";
import { HTTP_METHODS } from "./route-fallbacks";

// The /api/v1 plumbing (issue 10): Content-Type, JSON depth, wrong methods and unknown paths answer in the
// one error shape; an Idempotency-Key's lock is a short lease a live request renews and a dead one loses.

let t: TestDatabase;
let merchant: { id: string };
let secret: string;
let sellerRef: string;
let post: ReturnType<typeof createPaymentRoute>;
let seq = 0;

beforeAll(async () => {
  t = await createTestDatabase();
  merchant = await createMerchant(t.db, "Plumbing Merchant");
  secret = (await createApiKey(t.db, { merchantId: merchant.id, kind: "secret", name: "server" })).key;
  [{ r: sellerRef }] = (await t.db.select({ r: sellers.reference }).from(sellers).where(eq(sellers.merchantId, merchant.id))) as [{ r: string }];
  post = createPaymentRoute(() => t.db);
});
afterAll(async () => t?.drop());

function payload() {
  seq += 1;
  return {
    buyer_info: { email: `b${seq}@example.test` },
    return_url: "https://shop.example/r",
    payment_orders: [{ payment_order_id: `pl_${seq}`, seller_account: sellerRef, amount: "10.00", currency: "KES" }],
  };
}
function postWith(headers: Record<string, string>, raw: string) {
  return post(new Request("http://localhost/api/v1/payments", { method: "POST", headers: { authorization: `Bearer ${secret}`, "idempotency-key": `k-${Math.random()}`, ...headers }, body: raw }), {
    params: Promise.resolve({}),
  });
}
async function checkoutCount() {
  const [r] = await t.db.select({ n: count() }).from(checkouts);
  return r!.n;
}
async function errorOf(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const json = await res.json();
  expect(json).toEqual({ error: { type: expect.any(String), code, message: expect.any(String), request_id: res.headers.get("request-id"), ...(json.error.fields ? { fields: expect.any(Array) } : {}) } });
  expect(json.error.request_id).toMatch(/^req_[0-9a-f]{32}$/);
  return json.error as { message: string; fields?: { path: string; message: string }[] };
}

describe("request bodies", () => {
  it("answers 415 unsupported_media_type for a body that is not sent as application/json, storing nothing", async () => {
    const before = await checkoutCount();
    for (const ct of ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1", "application/jsonx", "multipart/form-data; boundary=x"]) {
      const err = await errorOf(await postWith({ "content-type": ct }, JSON.stringify(payload())), 415, "unsupported_media_type");
      expect(err.message).toMatch(/application\/json/);
    }
    // No Content-Type at all (fetch would add text/plain for a string body; a raw client may send none).
    const bare = new Request("http://localhost/api/v1/payments", { method: "POST", headers: { authorization: `Bearer ${secret}`, "idempotency-key": "bare" }, body: new TextEncoder().encode(JSON.stringify(payload())) });
    await errorOf(await post(bare, { params: Promise.resolve({}) }), 415, "unsupported_media_type");
    expect(await checkoutCount()).toBe(before);
    for (const ct of ["application/json", "application/json; charset=utf-8", "Application/JSON;charset=\"UTF-8\""]) {
      expect((await postWith({ "content-type": ct }, JSON.stringify(payload()))).status).toBe(201);
    }
  });

  it("refuses JSON nested deeper than the limit with a 400, not a stack overflow", async () => {
    const deep = "[".repeat(10_000) + "]".repeat(10_000);
    const raw = JSON.stringify(payload()).replace(/}$/, `,"extra":${deep}}`);
    const err = await errorOf(await postWith({ "content-type": "application/json" }, raw), 400, "validation_failed");
    expect(err.fields).toEqual([{ path: "(body)", message: expect.stringMatching(/nested deeper than 64 levels/) }]);
  });
});

describe("wrong methods and unknown routes", () => {
  type Mod = Partial<Record<(typeof HTTP_METHODS)[number], (req: Request, ctx: { params: Promise<unknown> }) => Promise<Response>>>;
  const routes: { path: string; mod: Mod; allowed: string[] }[] = [
    { path: "/api/v1/payments", mod: paymentsRoute as unknown as Mod, allowed: ["POST", "OPTIONS"] },
    { path: "/api/v1/payments/po_1", mod: paymentRoute as unknown as Mod, allowed: ["GET", "HEAD", "OPTIONS"] },
    { path: "/api/v1/openapi.json", mod: openapiRoute as unknown as Mod, allowed: ["GET", "HEAD", "OPTIONS"] },
    { path: "/api/v1/refunds", mod: refundsRoute as unknown as Mod, allowed: ["GET", "POST", "HEAD", "OPTIONS"] },
    { path: "/api/v1/refunds/re_1", mod: refundRoute as unknown as Mod, allowed: ["GET", "HEAD", "OPTIONS"] },
    { path: "/api/v1/refunds/re_1/cancel", mod: refundCancelRoute as unknown as Mod, allowed: ["POST", "OPTIONS"] },
    { path: "/api/v1/disputes", mod: disputesRoute as unknown as Mod, allowed: ["GET", "HEAD", "OPTIONS"] },
    { path: "/api/v1/disputes/dp_1", mod: disputeRoute as unknown as Mod, allowed: ["GET", "HEAD", "OPTIONS"] },
    { path: "/api/v1/payouts", mod: payoutsRoute as unknown as Mod, allowed: ["GET", "POST", "HEAD", "OPTIONS"] },
    { path: "/api/v1/payouts/pyo_1", mod: payoutRoute as unknown as Mod, allowed: ["GET", "HEAD", "OPTIONS"] },
  ];

  it("every route exports every method; a wrong one is a JSON 405 with Allow, OPTIONS a 204 with Allow", async () => {
    for (const { path, mod, allowed } of routes) {
      for (const method of HTTP_METHODS) {
        const handler = mod[method];
        expect(typeof handler, `${method} ${path}`).toBe("function");
        if (allowed.includes(method) && method !== "OPTIONS") continue;
        const res = await handler!(new Request(`http://localhost${path}`, { method }), { params: Promise.resolve({ payment_order_id: "po_1", id: "x_1" }) });
        expect(res.headers.get("allow"), `${method} ${path}`).toBe(allowed.join(", "));
        expect(res.headers.get("request-id")).toMatch(/^req_/);
        if (method === "OPTIONS") {
          expect(res.status).toBe(204);
          continue;
        }
        const err = await errorOf(res, 405, "method_not_allowed");
        expect(err.message).toBe(`${method} is not allowed on ${path}; allowed: ${allowed.join(", ")}`);
      }
    }
  });

  it("an unknown /api/v1 path is a JSON 404 not_found for every method", async () => {
    for (const path of ["/api/v1", "/api/v1/nope", "/api/v1/payments/a/b"]) {
      for (const method of HTTP_METHODS) {
        const handler = (catchAll as unknown as Mod)[method];
        expect(typeof handler, method).toBe("function");
        const err = await errorOf(await handler!(new Request(`http://localhost${path}`, { method }), { params: Promise.resolve({}) }), 404, "not_found");
        expect(err.message).toBe(`No such route: ${method} ${path}`);
      }
    }
  });
});

describe("Idempotency-Key lock lease", () => {
  const ZBody = z.object({ n: z.number() });
  /** An idempotent route whose handler waits for `gate` before storing its answer: a slow, live request. */
  function slowRoute(gate: Promise<void>) {
    return apiRoute<Record<string, never>, z.infer<typeof ZBody>>(() => t.db, { keyKinds: ["secret"], idempotent: true, input: ZBody }, async (ctx) => {
      await gate;
      const response = { status: 201, body: { done: ctx.input.n, z: 1, a: 2 } };
      await t.db.transaction((tx) => finishIdempotentRequest(tx, ctx.idempotency!, response));
      return response;
    });
  }
  function call(route: ReturnType<typeof slowRoute>, key: string, n: number) {
    const req = new Request("http://localhost/api/v1/slow", {
      method: "POST",
      headers: { authorization: `Bearer ${secret}`, "idempotency-key": key, "content-type": "application/json" },
      body: JSON.stringify({ n }),
    });
    return route(req, { params: Promise.resolve({}) });
  }
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it("a dead request's key is taken over within the lease; a live request that renews its lock keeps it past the lease", { timeout: 90_000 }, async () => {
    expect(IDEMPOTENCY_LOCK_TIMEOUT_MS).toBeLessThanOrEqual(10_000);
    const open = slowRoute(Promise.resolve());

    const dead = async () => {
      // A request that took the key and then died (no heartbeat): nothing renews its lock.
      const began = await beginIdempotentRequest(t.db, { merchantId: merchant.id, key: "dead", method: "POST", path: "/api/v1/slow", requestHash: requestFingerprint("POST", "/api/v1/slow", { n: 1 }) });
      expect(began.kind).toBe("proceed");
      const start = Date.now();
      const first = await call(open, "dead", 1);
      expect(first.status).toBe(409); // still within its lease
      // Before this fix the lock held 60 s; poll with a ceiling well under that.
      const res = await waitFor(async () => {
        const r = await call(open, "dead", 1);
        return r.status === 409 ? undefined : r;
      }, 45_000, 250);
      expect(res.status).toBe(201);
      expect(Date.now() - start).toBeGreaterThanOrEqual(IDEMPOTENCY_LOCK_TIMEOUT_MS - 1_000);
    };

    const live = async () => {
      let release!: () => void;
      const slow = slowRoute(new Promise<void>((r) => (release = r)));
      const inFlight = call(slow, "live", 2);
      await waitFor(async () => (await t.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, "live")))[0]);
      const start = Date.now();
      // Past the lease, with beats to spare: the renewed lock still holds.
      while (Date.now() - start < IDEMPOTENCY_LOCK_TIMEOUT_MS + 2 * IDEMPOTENCY_HEARTBEAT_MS) await sleep(250);
      await errorOf(await call(open, "live", 2), 409, "idempotency_key_in_use");
      const [row] = await t.db.select({ lockedAt: idempotencyKeys.lockedAt }).from(idempotencyKeys).where(eq(idempotencyKeys.key, "live"));
      expect(row!.lockedAt!.getTime()).toBeGreaterThan(start);
      release();
      const done = await inFlight;
      expect(done.status).toBe(201);
      const text = await done.text();
      const replay = await call(open, "live", 2);
      expect(replay.headers.get("idempotent-replayed")).toBe("true");
      expect(await replay.text()).toBe(text);
      // The heartbeat stopped with the request: the finished record's lock stays released.
      await sleep(2 * IDEMPOTENCY_HEARTBEAT_MS);
      const [after] = await t.db.select({ lockedAt: idempotencyKeys.lockedAt, recoveryPoint: idempotencyKeys.recoveryPoint }).from(idempotencyKeys).where(eq(idempotencyKeys.key, "live"));
      expect(after).toEqual({ lockedAt: null, recoveryPoint: "finished" });
    };

    await Promise.all([dead(), live()]);
  });
});
