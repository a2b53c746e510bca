import { and, eq, inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Inngest, RetryAfterError, type InngestFunction } from "inngest";
import { serve } from "inngest/next";
import { engineAttempts, engineDedupeKeys, engineEvents, engineJobs, engineRuns } from "@/db/schema";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { serveOptions } from "../serve-options";
import { DEFAULT_CALL_TIMEOUT_MS, SYNC_TIMEOUT_MS } from "./engine";
import { startEngine, type EngineHandle } from "./index";
import { EventTooLargeError, MAX_EVENT_BYTES, MAX_FUNCTION_TIMEOUT_MS, MAX_STEP_OUTPUT_BYTES, MAX_STEPS_PER_RUN } from "./limits";
import { pollUntil, silentLogger, startTestApp, TEST_APP_URL, TEST_BACKOFF, TEST_EVENT_KEY, type TestApp } from "./testing";
import { inProcessTransport, type RouteHandlers, type Transport } from "./transport";

// Inngest's limits, event-id dedupe and lifecycle events, on the local engine, through real SDK functions served
// by the real serve(): each case is what Inngest's own source does (limits.ts names the constants).
// No fixed deadline a loaded machine can exceed: waits poll with ceilings of minutes.

const CEILING_MS = 240_000;
const TEST_TIMEOUT_MS = 600_000;
const APP = "lim";

let tdb: TestDatabase;
let app: TestApp;

const effects = new Map<string, unknown[]>();
function record(key: string, value: unknown = true): void {
  effects.set(key, [...(effects.get(key) ?? []), value]);
}
function seen(key: string): unknown[] {
  return effects.get(key) ?? [];
}

const runsOf = (fnId: string) => tdb.db.select().from(engineRuns).where(eq(engineRuns.functionId, `${APP}-${fnId}`));
async function waitForRuns(fnId: string, predicate: (rows: (typeof engineRuns.$inferSelect)[]) => boolean) {
  return pollUntil(
    async () => {
      const rows = await runsOf(fnId);
      return predicate(rows) ? rows : undefined;
    },
    { ceilingMs: CEILING_MS, why: async () => (await runsOf(fnId)).map((r) => ({ status: r.status, error: r.error })) },
  );
}
const ended = (n = 1) => (rows: (typeof engineRuns.$inferSelect)[]) => rows.length >= n && rows.every((r) => r.status !== "running");
async function waitingSteps(runId: string, status: string) {
  return pollUntil(async () => {
    const rows = await tdb.db.execute<{ n: number }>(sql`select count(*)::int as n from engine_steps where run_id = ${runId} and status = ${status}`);
    return (rows[0]?.n ?? 0) > 0 ? true : undefined;
  }, { ceilingMs: CEILING_MS });
}
/** POST /e/:key through the engine's own handler, as the SDK sends it. */
function postEvents(body: string, seed?: string): Promise<Response> {
  return app.handle.fetch(`http://engine.test/e/${TEST_EVENT_KEY}`, { method: "POST", headers: { "content-type": "application/json", ...(seed ? { "x-inngest-event-id-seed": seed } : {}) }, body });
}

function defineFunctions(client: Inngest): InngestFunction.Any[] {
  const sleepLong = async ({ step }: { step: { sleep: (id: string, d: string) => Promise<void> } }) => {
    await step.sleep("long", "1h");
  };
  return [
    // Limits.
    client.createFunction({ id: "big-output", retries: 1, triggers: [{ event: "lim/big-output" }] }, async ({ event, step }) => {
      return step.run("big", () => {
        record(`big:${String(event.data.key)}`);
        return "x".repeat(event.data.chars as number);
      }).then((s: string) => s.length);
    }),
    client.createFunction(
      { id: "big-state", retries: 2, triggers: [{ event: "lim/big-state" }], onFailure: async ({ error }: { error: Error }) => record("big-state:failure", error.message) },
      async ({ step }) => {
        for (let i = 0; i < 9; i++) {
          await step.run(`s${i}`, () => {
            record(`big-state:s${i}`);
            return "y".repeat(4_000_000);
          });
        }
        return "done";
      },
    ),
    client.createFunction(
      { id: "many-steps", retries: 0, triggers: [{ event: "lim/many-steps" }], onFailure: async ({ error }: { error: Error }) => record("many-steps:failure", error.message) },
      async ({ event, step }) => {
        const n = event.data.n as number;
        if (event.data.parallel) return (await Promise.all(Array.from({ length: n }, (_, i) => step.run(`p${i}`, () => i)))).length;
        // In sequence the SDK runs (and checkpoints) the steps within one call; the sleep makes the engine call again.
        for (let i = 0; i < n; i++) await step.run(`s${i}`, () => i);
        await step.sleep("nap", "1s");
        return n;
      },
    ),
    client.createFunction({ id: "retry-soon", retries: 2, triggers: [{ event: "lim/retry-soon" }] }, async ({ step }) => {
      await step.run("soon", () => {
        record("retry-soon", Date.now());
        if (seen("retry-soon").length === 1) throw new RetryAfterError("come back now", 0);
        return "ok";
      });
    }),
    client.createFunction({ id: "retry-late", retries: 2, triggers: [{ event: "lim/retry-late" }] }, async ({ attempt }) => {
      if (attempt === 0) throw new RetryAfterError("come back in two days", "48h");
      return "late";
    }),
    // Default retries.
    client.createFunction({ id: "default-retries", triggers: [{ event: "lim/default-retries" }] }, async ({ step }) => {
      await step.run("always", () => {
        record("default-retries");
        throw new Error("still broken");
      });
    }),
    // Event id dedupe.
    client.createFunction({ id: "dd-a", triggers: [{ event: "dd/order" }] }, async ({ event }) => record(`dd-a:${String(event.id)}`)),
    client.createFunction({ id: "dd-b", triggers: [{ event: "dd/order" }] }, async ({ event }) => record(`dd-b:${String(event.id)}`)),
    client.createFunction({ id: "dd-c", triggers: [{ event: "dd/other" }] }, async ({ event }) => record(`dd-c:${String(event.id)}`)),
    client.createFunction({ id: "dd-approve-log", triggers: [{ event: "dd/approve" }] }, async ({ event }) => record(`dd-approve-log:${String(event.id)}`)),
    client.createFunction({ id: "dd-stop-log", triggers: [{ event: "dd/stop" }] }, async ({ event }) => record(`dd-stop-log:${String(event.id)}`)),
    client.createFunction({ id: "dd-waiter", triggers: [{ event: "dd/wait" }] }, async ({ event, step }) => {
      const got = await step.waitForEvent("approval", { event: "dd/approve", timeout: "10m", match: "data.key" });
      record(`dd-waiter:${String(event.data.key)}`, got ? got.id : null);
    }),
    client.createFunction({ id: "dd-cancellable", cancelOn: [{ event: "dd/stop", match: "data.key" }], triggers: [{ event: "dd/start" }] }, sleepLong),
    // inngest/function.cancelled.
    client.createFunction({ id: "cx-target", cancelOn: [{ event: "cx/stop", match: "data.key" }], triggers: [{ event: "cx/start" }] }, sleepLong),
    client.createFunction({ id: "cx-single", singleton: { key: "event.data.key", mode: "cancel" }, triggers: [{ event: "cx/single" }] }, sleepLong),
    client.createFunction({ id: "cx-listener", triggers: [{ event: "inngest/function.cancelled" }] }, async ({ event }) => record("cancelled", { id: event.id, data: event.data })),
    // A listener that is itself cancelled (a newer cancellation cancels it): no function.cancelled of its own.
    client.createFunction({ id: "cx-listener-single", singleton: { mode: "cancel" }, triggers: [{ event: "inngest/function.cancelled", if: "event.data.function_id == 'lim-cx-single'" }] }, sleepLong),
  ];
}

beforeAll(async () => {
  tdb = await createTestDatabase();
  // 999 sequential steps run (and checkpoint) within one call: on a loaded 2-core machine that call can take longer
  // than the harness's 10 s call timeout, which would fail the run for the wrong reason (TransportTimeoutError).
  app = await startTestApp({ db: tdb.db, clientId: APP, functions: defineFunctions, callTimeoutMs: 180_000 });
});
afterAll(async () => {
  await app?.stop();
  await tdb?.drop();
});

describe("Inngest's limits on the local engine", () => {
  it("a step output over 4 MB fails the attempt (retried, then the run fails); exactly 4 MB is stored", async () => {
    await app.client.send({ name: "lim/big-output", data: { key: "over", chars: MAX_STEP_OUTPUT_BYTES - 10 } });
    const [over] = await waitForRuns("big-output", ended());
    expect(over).toMatchObject({ status: "failed", error: { message: expect.stringContaining("step output size is greater than the limit") } });
    // retries: 1 -> attempts 0 and 1, each refused (the SDK may run the step more than once per attempt under load).
    const attempts = await tdb.db.select().from(engineAttempts).where(eq(engineAttempts.runId, over!.id));
    expect([...new Set(attempts.map((a) => a.attempt))].sort()).toEqual([0, 1]);
    expect(seen("big:over").length).toBeGreaterThanOrEqual(2);
    const stored = await tdb.db.execute<{ n: number }>(sql`select count(*)::int as n from engine_steps where run_id = ${over!.id} and status = 'completed'`);
    expect(stored[0]?.n).toBe(0);

    await app.client.send({ name: "lim/big-output", data: { key: "at", chars: MAX_STEP_OUTPUT_BYTES - 11 } });
    const runs = await waitForRuns("big-output", ended(2));
    expect(runs.find((r) => r.id !== over!.id)).toMatchObject({ status: "completed", output: MAX_STEP_OUTPUT_BYTES - 11 });
  }, TEST_TIMEOUT_MS);

  it("run state over 32 MB fails the run at once (no retry) and notifies onFailure", async () => {
    await app.client.send({ name: "lim/big-state", data: {} });
    const [run] = await waitForRuns("big-state", ended());
    expect(run).toMatchObject({ status: "failed", error: { name: "InngestErrStateOverflowed", message: "The function run exceeded the state size limit of 33554432 bytes." } });
    // Eight 4 MB outputs fit (32 000 088 bytes + the event); the ninth is refused on its first attempt: no retry.
    // (Under load the SDK may hand s8 back as a planned step and run it again in that call: not a retry.)
    for (let i = 0; i < 8; i++) expect(seen(`big-state:s${i}`)).toHaveLength(1);
    expect(seen("big-state:s8").length).toBeGreaterThanOrEqual(1);
    const attempts = await tdb.db.select().from(engineAttempts).where(eq(engineAttempts.runId, run!.id)).orderBy(engineAttempts.id);
    const refused = attempts.at(-1)!;
    expect(refused.outcome).toBe("StepRun"); // the answer carrying s8, refused: the run ended there
    // No retry of s8: every call that carried it was the run's same attempt (under load the SDK may report it twice).
    expect(new Set(attempts.filter((a) => a.stepId === refused.stepId).map((a) => a.attempt))).toEqual(new Set([refused.attempt]));
    await pollUntil(() => (seen("big-state:failure").length > 0 ? true : undefined), { ceilingMs: CEILING_MS });
    expect(seen("big-state:failure")[0]).toContain("state size limit");
  }, TEST_TIMEOUT_MS);

  it("a plan of more than 1,000 steps fails the run; 1,000 saved steps fail it before the next call", async () => {
    await app.client.send({ name: "lim/many-steps", data: { n: MAX_STEPS_PER_RUN + 1, parallel: true } });
    const [plan] = await waitForRuns("many-steps", ended());
    expect(plan).toMatchObject({ status: "failed", error: { name: "InngestErrFunctionOverflowed", message: "The function run exceeded the step limit of 1000 steps." } });

    // 999 step.run + the sleep = 1,000 saved steps: the call after the sleep is refused (runValidator.checkStepLimit).
    await app.client.send({ name: "lim/many-steps", data: { n: MAX_STEPS_PER_RUN - 1 } });
    const runs = await waitForRuns("many-steps", ended(2));
    const full = runs.find((r) => r.id !== plan!.id)!;
    expect(full).toMatchObject({ status: "failed", error: { name: "InngestErrFunctionOverflowed" } });
    const saved = await tdb.db.execute<{ n: number }>(sql`select count(*)::int as n from engine_steps where run_id = ${full.id} and result is not null`);
    expect(saved[0]?.n).toBe(MAX_STEPS_PER_RUN);
    await pollUntil(() => (seen("many-steps:failure").length >= 2 ? true : undefined), { ceilingMs: CEILING_MS });

    // 998 + the sleep = 999 saved steps: the run goes on and completes.
    await app.client.send({ name: "lim/many-steps", data: { n: MAX_STEPS_PER_RUN - 2 } });
    const all = await waitForRuns("many-steps", ended(3));
    expect(all.find((r) => r.id !== plan!.id && r.id !== full.id)).toMatchObject({ status: "completed", output: MAX_STEPS_PER_RUN - 2 });
  }, TEST_TIMEOUT_MS);

  it("clamps Retry-After to 1 s – 24 h (a step's RetryAfterError and a function's)", async () => {
    await app.client.send({ name: "lim/retry-soon", data: {} });
    const [soon] = await waitForRuns("retry-soon", ended());
    expect(soon?.status).toBe("completed");
    const [first, second] = seen("retry-soon") as number[];
    expect(second! - first!).toBeGreaterThanOrEqual(1000); // Retry-After: 0 -> 1 s (the test backoff is 20 ms)

    await app.client.send({ name: "lim/retry-late", data: {} });
    const job = await pollUntil(async () => {
      const [r] = await runsOf("retry-late");
      if (!r) return undefined;
      const jobs = await tdb.db.select().from(engineJobs).where(and(eq(engineJobs.runId, r.id), eq(engineJobs.attempt, 1)));
      return jobs[0];
    }, { ceilingMs: CEILING_MS });
    const inMs = job.runAt.getTime() - Date.now();
    expect(inMs).toBeLessThanOrEqual(24 * 3_600_000);
    expect(inMs).toBeGreaterThan(23 * 3_600_000);
  }, TEST_TIMEOUT_MS);

  it("refuses an event over 512 KB at intake (400 as Inngest's event API) and in Engine.sendEvents; exactly 512 KB is taken", async () => {
    const body = (n: number) => JSON.stringify([{ name: "lim/size", data: { blob: "z".repeat(n) } }]);
    const overhead = body(0).length - 2; // the array's brackets are not the event's
    const over = await postEvents(body(MAX_EVENT_BYTES - overhead + 1));
    expect(over.status).toBe(400);
    expect(await over.json()).toEqual({ ids: [], status: 400, error: `Event is over the max size: Max ${MAX_EVENT_BYTES} bytes / Size ${MAX_EVENT_BYTES + 1} bytes` });
    const at = await postEvents(body(MAX_EVENT_BYTES - overhead));
    expect(at.status).toBe(200);
    const stored = await tdb.db.select({ id: engineEvents.id }).from(engineEvents).where(eq(engineEvents.name, "lim/size"));
    expect(stored).toHaveLength(1);
    await expect(app.handle.engine.sendEvents([{ name: "lim/size", data: { blob: "z".repeat(MAX_EVENT_BYTES) } }])).rejects.toBeInstanceOf(EventTooLargeError);
    await expect(app.client.send({ name: "lim/size", data: { blob: "z".repeat(MAX_EVENT_BYTES) } })).rejects.toThrow(/Event is over the max size/);
    expect(await tdb.db.select({ id: engineEvents.id }).from(engineEvents).where(eq(engineEvents.name, "lim/size"))).toHaveLength(1);
  }, TEST_TIMEOUT_MS);

  it("defaults to Inngest's 4 retries (5 attempts) when a function sets none", async () => {
    await app.client.send({ name: "lim/default-retries", data: {} });
    const [run] = await waitForRuns("default-retries", ended());
    expect(run?.status).toBe("failed");
    expect(seen("default-retries")).toHaveLength(5);
  }, TEST_TIMEOUT_MS);
});

describe("event id dedupe, per function for 24 h", () => {
  it("a second event with the same id starts no second run of a function that ran for it, but runs the others", async () => {
    await app.client.send({ name: "dd/order", id: "ord-1", data: {} });
    await app.client.send({ name: "dd/order", id: "ord-1", data: {} });
    await app.client.send({ name: "dd/other", id: "ord-1", data: {} });
    await waitForRuns("dd-c", ended());
    await waitForRuns("dd-a", ended());
    await waitForRuns("dd-b", ended());
    // The second dd/order was stored (it is an event) and started nothing.
    const orders = await tdb.db.select().from(engineEvents).where(eq(engineEvents.name, "dd/order"));
    expect(orders).toHaveLength(2);
    expect(await runsOf("dd-a")).toHaveLength(1);
    expect(await runsOf("dd-b")).toHaveLength(1);
    expect(await runsOf("dd-c")).toHaveLength(1);

    // Keyed per function for 24 h; pruned when expired (the cron loop), then the id starts a run again.
    const key = `event:${APP}-dd-a:ord-1`;
    const [row] = await tdb.db.select().from(engineDedupeKeys).where(eq(engineDedupeKeys.key, key));
    expect(Math.abs(row!.expiresAt.getTime() - Date.now() - 24 * 3_600_000)).toBeLessThan(10 * 60_000);
    await tdb.db.update(engineDedupeKeys).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(engineDedupeKeys.key, key));
    await pollUntil(async () => ((await tdb.db.select().from(engineDedupeKeys).where(eq(engineDedupeKeys.key, key))).length === 0 ? true : undefined), { ceilingMs: CEILING_MS });
    await app.client.send({ name: "dd/order", id: "ord-1", data: {} });
    await waitForRuns("dd-a", ended(2));
    expect(await runsOf("dd-b")).toHaveLength(1);
  }, TEST_TIMEOUT_MS);

  it("a duplicate still resumes a matching waitForEvent", async () => {
    await app.client.send({ name: "dd/approve", id: "appr-1", data: { key: "k1" } });
    await waitForRuns("dd-approve-log", ended());
    await app.client.send({ name: "dd/wait", data: { key: "k1" } });
    const [waiter] = await waitForRuns("dd-waiter", (rows) => rows.length === 1);
    await waitingSteps(waiter!.id, "waiting");
    await app.client.send({ name: "dd/approve", id: "appr-1", data: { key: "k1" } });
    await waitForRuns("dd-waiter", ended());
    expect(seen("dd-waiter:k1")).toEqual(["appr-1"]);
    expect(await runsOf("dd-approve-log")).toHaveLength(1);
  }, TEST_TIMEOUT_MS);

  it("a duplicate still applies cancelOn", async () => {
    await app.client.send({ name: "dd/stop", id: "stop-1", data: { key: "k2" } });
    await waitForRuns("dd-stop-log", ended());
    await app.client.send({ name: "dd/start", data: { key: "k2" } });
    const [run] = await waitForRuns("dd-cancellable", (rows) => rows.length === 1);
    await waitingSteps(run!.id, "sleeping");
    await app.client.send({ name: "dd/stop", id: "stop-1", data: { key: "k2" } });
    const [cancelled] = await waitForRuns("dd-cancellable", ended());
    expect(cancelled?.status).toBe("cancelled");
    expect(await runsOf("dd-stop-log")).toHaveLength(1);
  }, TEST_TIMEOUT_MS);

  it("the SDK's own resend of a send (same seed) is stored once and does nothing more", async () => {
    const seed = `${Date.now()},${Buffer.alloc(10, 9).toString("base64")}`;
    const payload = JSON.stringify([{ name: "dd/order", data: { resend: true } }]);
    const first = (await (await postEvents(payload, seed)).json()) as { ids: string[] };
    const second = (await (await postEvents(payload, seed)).json()) as { ids: string[] };
    expect(second.ids).toEqual(first.ids);
    const rows = await waitForRuns("dd-b", ended(2));
    expect(rows).toHaveLength(2);
    expect(await tdb.db.select().from(engineEvents).where(eq(engineEvents.id, first.ids[0]!))).toHaveLength(1);
  }, TEST_TIMEOUT_MS);
});

describe("inngest/function.cancelled", () => {
  it("is ingested for a run cancelled by cancelOn or a singleton, with Inngest's data shape; listeners' own cancels do not cascade", async () => {
    await app.client.send({ name: "cx/start", data: { key: "c1" } });
    const [target] = await waitForRuns("cx-target", (rows) => rows.length === 1);
    await waitingSteps(target!.id, "sleeping");
    await app.client.send({ name: "cx/stop", data: { key: "c1" } });
    await waitForRuns("cx-target", ended());

    await app.client.send({ name: "cx/single", data: { key: "s" } });
    const [firstSingle] = await waitForRuns("cx-single", (rows) => rows.length === 1);
    await waitingSteps(firstSingle!.id, "sleeping");
    await app.client.send({ name: "cx/single", data: { key: "s" } });
    const singles = await waitForRuns("cx-single", (rows) => rows.length === 2 && rows.some((r) => r.status === "cancelled"));
    expect(singles.find((r) => r.status === "cancelled")?.id).toBe(firstSingle!.id);

    const cancelled = () => (seen("cancelled") as { id: string; data: Record<string, unknown> }[]).filter((c) => String(c.data.function_id).startsWith(`${APP}-cx-`));
    await pollUntil(() => (cancelled().length >= 2 ? true : undefined), { ceilingMs: CEILING_MS });
    const byTarget = cancelled().find((c) => c.data.function_id === `${APP}-cx-target`)!;
    expect(byTarget.id).toBe(target!.id);
    expect(byTarget.data).toMatchObject({
      function_id: `${APP}-cx-target`,
      run_id: target!.id,
      event: { name: "cx/start", data: { key: "c1" } },
      events: [{ name: "cx/start", data: { key: "c1" } }],
      _inngest: { status: "Cancelled" },
    });
    expect(byTarget.data).not.toHaveProperty("error");
    expect(cancelled().find((c) => c.data.function_id === `${APP}-cx-single`)).toMatchObject({ id: firstSingle!.id, data: { run_id: firstSingle!.id } });

    // A second singleton cancel starts a second cx-listener-single run, which cancels the first one: a run started by
    // a lifecycle event ends without a function.cancelled of its own.
    await app.client.send({ name: "cx/single", data: { key: "s" } });
    const listeners = await waitForRuns("cx-listener-single", (rows) => rows.length === 2 && rows.some((r) => r.status === "cancelled"));
    expect(listeners).toHaveLength(2);
    const events = await tdb.db.select().from(engineEvents).where(eq(engineEvents.name, "inngest/function.cancelled"));
    const fnIds = events.map((e) => (e.payload.data as { function_id: string }).function_id);
    expect(fnIds).not.toContain(`${APP}-cx-listener-single`);
    expect(fnIds.filter((f) => f === `${APP}-cx-single`)).toHaveLength(2);
  }, TEST_TIMEOUT_MS);
});

describe("calls as Inngest's driver makes them", () => {
  it("a 2xx without X-Inngest-SDK is a failed attempt, not a completion, with no signing key; calls may take 2 h", async () => {
    // No keys anywhere (the SDK in dev mode, the engine unsigned): only the SDK header tells a proxy's page apart.
    const own = await createTestDatabase();
    const ref: { handle?: EngineHandle } = {};
    const client = new Inngest({
      id: "nosdk",
      isDev: true,
      baseUrl: "http://engine.test/",
      logger: silentLogger,
      fetch: ((input: string | URL | Request, init?: RequestInit) => ref.handle!.fetch(input, init)) as typeof fetch,
    });
    const fn = client.createFunction({ id: "echo", retries: 3, triggers: [{ event: "nosdk/echo" }] }, async ({ step }) => step.run("real", () => "from the SDK"));
    const served = serve({ client, functions: [fn], ...serveOptions(TEST_APP_URL) });
    const asRoute = (h: unknown) => h as RouteHandlers["POST"];
    const real = inProcessTransport({ GET: asRoute(served.GET), POST: asRoute(served.POST), PUT: asRoute(served.PUT) });
    let proxyPages = 2;
    const timeouts: { method: string; timeoutMs: number }[] = [];
    const transport: Transport = {
      async send(req) {
        timeouts.push({ method: req.method, timeoutMs: req.timeoutMs });
        if (req.method === "POST" && proxyPages > 0) {
          proxyPages--;
          return { status: 200, headers: new Headers({ "content-type": "text/html" }), body: "<html>Service temporarily unavailable</html>" };
        }
        return real.send(req);
      },
    };
    ref.handle = await startEngine({ db: own.db, transport, backoff: TEST_BACKOFF, pollMs: 20 });
    try {
      await ref.handle.engine.syncApp(TEST_APP_URL);
      await client.send({ name: "nosdk/echo", data: {} });
      const run = await pollUntil(async () => {
        const [r] = await own.db.select().from(engineRuns).where(eq(engineRuns.functionId, "nosdk-echo"));
        return r && r.status !== "running" ? r : undefined;
      }, { ceilingMs: CEILING_MS });
      expect(run).toMatchObject({ status: "completed", output: "from the SDK" });
      const attempts = await own.db.select().from(engineAttempts).where(inArray(engineAttempts.runId, [run.id])).orderBy(engineAttempts.id);
      expect(attempts.slice(0, 2).map((a) => [a.outcome, a.statusCode, (a.error as { name?: string } | null)?.name])).toEqual([
        ["error", 200, "not_sdk"],
        ["error", 200, "not_sdk"],
      ]);
      // Inngest's function timeout for calls (consts.MaxFunctionTimeout); the in-band sync keeps its own minute.
      expect(DEFAULT_CALL_TIMEOUT_MS).toBe(MAX_FUNCTION_TIMEOUT_MS);
      expect(new Set(timeouts.filter((t) => t.method === "POST").map((t) => t.timeoutMs))).toEqual(new Set([2 * 3_600_000]));
      expect(timeouts.find((t) => t.method === "PUT")?.timeoutMs).toBe(SYNC_TIMEOUT_MS);
    } finally {
      await ref.handle.stop();
      await own.drop();
    }
  }, TEST_TIMEOUT_MS);
});
