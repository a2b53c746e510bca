import { and, eq } from "drizzle-orm";
import { Inngest } from "inngest";
import { serve } from "inngest/next";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createDb, type DbHandle } from "@/db/client";
import { engineAttempts, engineJobs, engineRuns } from "@/db/schema";
import { startEngine, type EngineHandle } from "@/inngest/engine";
import { pollUntil, silentLogger, TEST_APP_URL, TEST_EVENT_KEY, TEST_SIGNING_KEY } from "@/inngest/engine/testing";
import { inProcessTransport, type RouteHandlers } from "@/inngest/engine/transport";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { closedPort } from "@/test/unreachable";
import { inngest as appClient } from "./client";
import { DatabaseOutageRetry, OUTAGE_RETRY_DELAYS_MS } from "./outage-retry-middleware";
import { serveOptions } from "./serve-options";

// Issue 10 (chaos: a killed postmaster took ~29 s to recover): a step that failed because Postgres was gone waited
// Inngest's first backoff (15 s + jitter) before its retry. Through a real serve() and the local engine, with the
// engine's own backoff set to ten minutes: a step failing on an unreachable database (a real query against a closed
// port) is retried after OUTAGE_RETRY_DELAYS_MS[0] and completes; any other error keeps the engine's backoff.

const TEN_MINUTES = 10 * 60_000;
let tdb: TestDatabase;
let gone: DbHandle;
let engine: EngineHandle;
const ref: { handle?: EngineHandle } = {};
const tries = new Map<string, number>();

beforeAll(async () => {
  tdb = await createTestDatabase();
  gone = createDb(`postgres://postgres:postgres@127.0.0.1:${await closedPort()}/paybridge`, { max: 1 });
  const client = new Inngest({
    id: "outage",
    isDev: false,
    signingKey: TEST_SIGNING_KEY,
    baseUrl: "http://engine.test/",
    eventKey: TEST_EVENT_KEY,
    logger: silentLogger,
    middleware: [DatabaseOutageRetry],
    fetch: ((input: string | URL | Request, init?: RequestInit) => ref.handle!.fetch(input, init)) as typeof fetch,
  });
  const fn = client.createFunction({ id: "probe", retries: 3, triggers: [{ event: "test/outage.probe" }] }, async ({ event, step }) =>
    step.run("touch-db", async () => {
      const key = String(event.data.key);
      const n = (tries.get(key) ?? 0) + 1;
      tries.set(key, n);
      if (n === 1) {
        if (event.data.kind === "db") await gone.db.execute("select 1");
        throw new Error("an ordinary bug");
      }
      return { tries: n };
    }),
  );
  const served = serve({ client, functions: [fn], ...serveOptions(TEST_APP_URL) });
  const asRoute = (h: unknown) => h as RouteHandlers["POST"];
  engine = await startEngine({ db: tdb.db, backoff: () => TEN_MINUTES, pollMs: 20, signingKey: TEST_SIGNING_KEY, eventKey: TEST_EVENT_KEY, transport: inProcessTransport({ GET: asRoute(served.GET), POST: asRoute(served.POST), PUT: asRoute(served.PUT) }) });
  ref.handle = engine;
  await engine.engine.syncApp(TEST_APP_URL);
});
afterAll(async () => {
  await engine?.stop();
  await gone?.close();
  await tdb?.drop();
});

async function runOf(key: string) {
  return pollUntil(async () => {
    const rows = await tdb.db.select().from(engineRuns).where(eq(engineRuns.functionId, "outage-probe"));
    return rows.find((r) => (r.event as { data?: { key?: string } }).data?.key === key);
  }, { ceilingMs: 60_000 });
}

it("a step that failed on an unreachable database is retried in seconds, and completes", async () => {
  await engine.engine.sendEvents([{ name: "test/outage.probe", data: { key: "db", kind: "db" } }]);
  const run = await runOf("db");
  const done = await pollUntil(async () => {
    const [r] = await tdb.db.select().from(engineRuns).where(eq(engineRuns.id, run.id));
    return r && r.status !== "running" ? r : undefined;
  }, { ceilingMs: 120_000 });
  expect(done.status).toBe("completed");
  expect(tries.get("db")).toBe(2);
  const attempts = await tdb.db.select().from(engineAttempts).where(eq(engineAttempts.runId, run.id));
  const failed = attempts.find((a) => a.outcome !== "unreachable" && a.outcome !== "connection_lost" && a.error !== null);
  expect(failed).toBeDefined();
});

it("any other error keeps the engine's own backoff", async () => {
  await engine.engine.sendEvents([{ name: "test/outage.probe", data: { key: "bug", kind: "bug" } }]);
  const run = await runOf("bug");
  const retry = await pollUntil(async () => {
    const [j] = await tdb.db.select().from(engineJobs).where(and(eq(engineJobs.runId, run.id), eq(engineJobs.attempt, 1)));
    return j;
  }, { ceilingMs: 60_000 });
  // Scheduled by the ten-minute backoff, far past the outage delays.
  expect(retry.runAt.getTime() - Date.now()).toBeGreaterThan(TEN_MINUTES / 2);
  expect(OUTAGE_RETRY_DELAYS_MS[0]).toBeLessThan(TEN_MINUTES / 2);
});

it("the app's client registers the middleware", () => {
  expect(appClient.middleware).toContain(DatabaseOutageRetry);
});
