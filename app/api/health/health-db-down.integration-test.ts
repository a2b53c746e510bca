import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, expect, it } from "vitest";
import { pointRoutesAt } from "@/test/db";
import { blackHole, closedPort } from "@/test/unreachable";

// /api/health when Postgres does not answer: a 503 naming the parts that are down, within about a second —
// not after postgres.js's 10 s connect timeout. The database is a black hole (connections accepted, never
// answered: what a hung or killed postmaster looks like to the pool); the engine and the sandbox hang too.

let hole: Awaited<ReturnType<typeof blackHole>>;
let GET: () => Promise<Response>;
/** Generous for a busy machine; the checks' own deadlines are 800 ms. Before them this took 10 s. */
const CEILING_MS = 3000;

beforeAll(async () => {
  hole = await blackHole();
  pointRoutesAt({ url: `postgres://paybridge:secret-password@127.0.0.1:${hole.port}/paybridge` }, {
    INNGEST_DEV: `http://127.0.0.1:${hole.port}`,
    PSP_MODE: "sandbox",
    SANDBOX_URL: `http://127.0.0.1:${hole.port}`,
  });
  ({ GET } = await import("./route"));
});
afterAll(async () => hole?.close());

it("answers 503 within the ceiling with the database, engine and sandbox down and the dispatcher unknown", async () => {
  const started = performance.now();
  const res = await GET();
  const elapsed = performance.now() - started;
  const text = await res.text();
  expect(elapsed).toBeLessThan(CEILING_MS);
  expect(res.status).toBe(503);
  const body = JSON.parse(text);
  expect(body).toMatchObject({ ok: false, status: "down", error: "database unreachable" });
  expect(body.parts.database).toMatchObject({ state: "down", reason: "timeout" });
  expect(body.parts.engine).toMatchObject({ state: "down", reason: "timeout" });
  expect(body.parts.psp).toMatchObject({ state: "down", reason: "timeout" });
  expect(body.parts.dispatcher).toMatchObject({ state: "unknown", reason: "database unreachable" });
  expect(body.down.sort()).toEqual(["database", "engine", "psp"]);
  expect(text).not.toMatch(/secret-password|postgres:|127\.0\.0\.1/);
});

it("a second call while the first connections still hang answers as fast", async () => {
  const started = performance.now();
  const res = await GET();
  expect(performance.now() - started).toBeLessThan(CEILING_MS);
  expect(res.status).toBe(503);
});

it("a refused connection (nothing listening) is down at once too", async () => {
  const { checkHealth } = await import("@/server/observability/health");
  const { createObservabilitySql } = await import("@/server/observability/db");
  const port = await closedPort();
  const sql = createObservabilitySql(`postgres://x:y@127.0.0.1:${port}/db`);
  try {
    const started = performance.now();
    const { httpStatus, report } = await checkHealth({ pingDatabase: () => sql`select 1`, sql, engine: { kind: "inngest" }, psp: { mode: "live" } });
    expect(performance.now() - started).toBeLessThan(CEILING_MS);
    expect(httpStatus).toBe(503);
    expect(report.parts.database).toMatchObject({ state: "down", reason: "unreachable" });
    expect(report.parts.engine).toMatchObject({ state: "not_checked", kind: "inngest" });
    expect(report.parts.psp).toMatchObject({ state: "not_checked", mode: "live" });
  } finally {
    await sql.end({ timeout: 1 });
  }
});
