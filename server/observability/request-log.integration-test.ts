import { afterAll, beforeAll, expect, it } from "vitest";
import { createApiKey } from "@/server/api-keys/keys";
import { apiRoute } from "@/server/http/api-route";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createMerchant } from "@/test/fixtures";
import { captureLogLines } from "@/test/log-capture";
import { addLogContext, log, REDACT_CENSOR } from "./log";

// The /api/v1 wrapper puts its request id into the log context: a line the handler (or anything it calls)
// logs carries the same id as the response's request-id header, and an internal error's line does too.

let t: TestDatabase;
let secret: string;

beforeAll(async () => {
  log.level = "debug";
  t = await createTestDatabase();
  const merchant = await createMerchant(t.db, "Log Merchant");
  secret = (await createApiKey(t.db, { merchantId: merchant.id, kind: "secret", name: "server" })).key;
});
afterAll(async () => {
  log.level = "warn";
  await t?.drop();
});

const req = () => new Request("http://localhost/api/v1/probe", { headers: { authorization: `Bearer ${secret}` } });

it("a line logged while handling a request carries its request id and the ids added on the way; secrets are redacted", async () => {
  const route = apiRoute(() => t.db, { keyKinds: ["secret"] }, async (ctx) => {
    addLogContext({ checkoutId: "co_req_probe" });
    log.info({ headers: { authorization: ctx.req.headers.get("authorization") }, buyer_info: { email: "b@example.com" } }, "handler line");
    return { status: 200, body: { ok: true } };
  });
  let res!: Response;
  const lines = await captureLogLines(async () => {
    res = await route(req(), { params: Promise.resolve({}) });
  });
  expect(res.status).toBe(200);
  const requestId = res.headers.get("request-id");
  expect(requestId).toMatch(/^req_/);
  const line = lines.find((l) => l.msg === "handler line");
  expect(line).toMatchObject({ requestId, checkoutId: "co_req_probe", headers: { authorization: REDACT_CENSOR }, buyer_info: REDACT_CENSOR });
  expect(JSON.stringify(line)).not.toContain(secret);
});

it("an internal error is logged once, as JSON with the request id and the error", async () => {
  const route = apiRoute(() => t.db, { keyKinds: ["secret"] }, async () => {
    throw new Error("boom in handler");
  });
  let res!: Response;
  const lines = await captureLogLines(async () => {
    res = await route(req(), { params: Promise.resolve({}) });
  });
  expect(res.status).toBe(500);
  const errors = lines.filter((l) => l.msg === "api internal error");
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatchObject({ level: "error", requestId: res.headers.get("request-id"), err: { message: "boom in handler" } });
});
