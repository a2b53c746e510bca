import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createDb, type DbHandle } from "@/db/client";
import { closedPort } from "@/test/unreachable";
import { apiRoute } from "./api-route";
import { toAppError } from "./errors";

// Issue 10: while Postgres is down (restart, failover, a killed postmaster) the API answered 500 internal. The
// request is fine and a retry in a moment succeeds: 503 service_unavailable with Retry-After, in the one shape.

let gone: DbHandle;

beforeAll(async () => {
  gone = createDb(`postgres://postgres:postgres@127.0.0.1:${await closedPort()}/paybridge`, { max: 1 });
});
afterAll(async () => {
  await gone.close();
});

describe("the database is unreachable", () => {
  it("a /api/v1 request gets 503 service_unavailable with Retry-After, not 500", async () => {
    const route = apiRoute(() => gone.db, { keyKinds: ["secret"], input: z.object({}).optional() }, async () => ({ status: 200, body: {} }));
    const res = await route(new Request("http://localhost/api/v1/x", { headers: { authorization: `Bearer sk_test_${"a".repeat(32)}` } }), { params: Promise.resolve({}) });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("2");
    const body = (await res.json()) as { error: { type: string; code: string; request_id: string } };
    expect(body.error).toMatchObject({ type: "api_error", code: "service_unavailable" });
    expect(body.error.request_id).toBe(res.headers.get("request-id"));
  });

  it("recognises the driver's errors through Drizzle's wrapper, and nothing else", async () => {
    const err = await gone.db.execute("select 1").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(toAppError(err).code).toBe("service_unavailable");
    expect(toAppError(new Error("boom")).code).toBe("internal");
    expect(toAppError(Object.assign(new Error("syntax"), { code: "42601" })).code).toBe("internal");
  });
});
