import { eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Inngest, type InngestFunction } from "inngest";
import { serve } from "inngest/next";
import { findFreePort } from "@/db/embedded";
import { engineAttempts, engineDeadLetters, engineJobs, engineRuns, engineSteps } from "@/db/schema";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { startEngine, type EngineHandle } from "./index";
import { pollUntil, serveHandlersOverHttp, silentLogger, startTestApp, TEST_BACKOFF, TEST_SIGNING_KEY } from "./testing";
import type { RouteHandlers } from "./transport";

// What a restart costs: a call that never reached the app (its port closed while it restarts) must not
// consume a retry, and the engine pauses claiming that app's calls until it answers again; a timeout after
// the request was sent still counts; a call that outlives its lease keeps it by heartbeat and runs once.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A real serve() over HTTP on a fixed port that can be closed and reopened (the app restarting). */
async function restartableApp(make: (client: Inngest) => InngestFunction.Any[]) {
  let engineUrl = "";
  const client = new Inngest({
    id: "res",
    isDev: false,
    signingKey: TEST_SIGNING_KEY,
    baseUrl: "http://placeholder/",
    eventKey: "k1",
    logger: silentLogger,
    fetch: ((input: string | URL | Request, init?: RequestInit) => fetch(String(input).replace("http://placeholder", engineUrl), init)) as typeof fetch,
  });
  const served = serve({ client, functions: make(client), enableUnauthedSync: false });
  const asRoute = (h: unknown) => h as RouteHandlers["POST"];
  const handlers: RouteHandlers = { GET: asRoute(served.GET), POST: asRoute(served.POST), PUT: asRoute(served.PUT) };
  const port = await findFreePort(18_420);
  let http: Awaited<ReturnType<typeof serveHandlersOverHttp>> | undefined = await serveHandlersOverHttp(handlers, port);
  return {
    client,
    appUrl: http.appUrl,
    setEngineUrl: (url: string) => (engineUrl = url),
    close: async () => {
      await http?.close();
      http = undefined;
    },
    open: async () => {
      http = await serveHandlersOverHttp(handlers, port);
    },
  };
}

describe("engine resilience", () => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase();
  });
  afterAll(async () => {
    await tdb?.drop();
  });

  it("an app whose port is closed for a while costs no retries: same attempt, claims paused, then completes", async () => {
    const RUNS = 5;
    const executed: string[] = [];
    const app = await restartableApp((client) => [
      // retries: 1 — before the fix the first refused call used the retry and the second filed a dead letter.
      client.createFunction({ id: "order", retries: 1, triggers: [{ event: "res/order" }] }, async ({ event, step }) => {
        const charged = await step.run("charge", () => {
          executed.push(`charge:${String(event.data.n)}`);
          return { n: event.data.n };
        });
        return step.run("settle", () => ({ settled: charged.n }));
      }),
    ]);
    const logs: string[] = [];
    let handle: EngineHandle | undefined;
    try {
      handle = await startEngine({ db: tdb.db, port: 0, eventKey: "k1", signingKey: TEST_SIGNING_KEY, backoff: TEST_BACKOFF, pollMs: 20, appUrl: app.appUrl, log: (m) => logs.push(m) });
      app.setEngineUrl(handle.url!);
      await pollUntil(() => handle!.engine.registry.get("res-order"));

      await app.close(); // the app goes away (restart): connections are refused
      await app.client.send(Array.from({ length: RUNS }, (_, n) => ({ name: "res/order", data: { n } })));
      // The calls are refused (whatever the engine makes of that); the port stays closed a while longer.
      await pollUntil(async () => ((await tdb.db.select({ id: engineAttempts.id }).from(engineAttempts)).length > 0 ? true : undefined));
      await sleep(1500); // closed for a while: the refused jobs come due again and must stay queued behind the gate
      const gateWasClosed = handle.engine.gate.closedOrigins();
      const refusedWhileClosed = await tdb.db.select().from(engineAttempts).where(eq(engineAttempts.outcome, "unreachable"));
      await app.open();

      const runs = await pollUntil(
        async () => {
          const rows = await tdb.db.select().from(engineRuns).where(eq(engineRuns.functionId, "res-order"));
          if (rows.some((r) => r.status === "failed")) throw new Error(`a run failed: ${JSON.stringify(rows.map((r) => r.error))}`);
          return rows.length === RUNS && rows.every((r) => r.status === "completed") ? rows : undefined;
        },
        { why: () => logs.slice(-5) },
      );
      expect(runs.map((r) => (r.output as { settled: number }).settled).sort()).toEqual([0, 1, 2, 3, 4]);
      const attempts = await tdb.db.select().from(engineAttempts).where(inArray(engineAttempts.runId, runs.map((r) => r.id)));
      // No retry consumed: every call, refused or answered, was attempt 0; nothing dead-lettered.
      expect(new Set(attempts.map((a) => a.attempt))).toEqual(new Set([0]));
      expect(await tdb.db.select().from(engineDeadLetters)).toEqual([]);
      const refused = attempts.filter((a) => a.outcome === "unreachable");
      expect(refused.every((a) => a.statusCode === null && (a.error as { code?: string }).code === "ECONNREFUSED")).toBe(true);
      // The gate: while the port was closed the engine probed instead of re-claiming every due job.
      expect(gateWasClosed).toEqual([new URL(app.appUrl).origin]);
      expect(refusedWhileClosed.length).toBeGreaterThan(0);
      expect(refusedWhileClosed.length).toBeLessThanOrEqual(RUNS * 2);
      expect(logs.some((l) => l.includes("is unreachable"))).toBe(true);
      expect(logs.some((l) => l.includes("answers again"))).toBe(true);
      expect(logs.filter((l) => l.includes("claiming jobs failed"))).toEqual([]); // the gated claim query is valid SQL
      expect(executed.sort()).toEqual(["charge:0", "charge:1", "charge:2", "charge:3", "charge:4"]);
      console.log(`[resilience] ${refused.length} refused call(s) while the app was down, all at attempt 0; ${attempts.length} call(s) in all`);
    } finally {
      await handle?.stop();
      await app.close();
    }
  }, 300_000);

  it("a timeout after the request was sent still counts as an attempt", async () => {
    const own = await createTestDatabase();
    let calls = 0;
    const app = await restartableApp((client) => [
      client.createFunction({ id: "slow", retries: 2, triggers: [{ event: "res/slow" }] }, async ({ step }) =>
        step.run("slow-once", async () => {
          calls += 1;
          if (calls === 1) await sleep(4000); // the first call outlasts the engine's call timeout
          return "done";
        }),
      ),
    ]);
    let handle: EngineHandle | undefined;
    try {
      handle = await startEngine({ db: own.db, port: 0, eventKey: "k1", signingKey: TEST_SIGNING_KEY, backoff: TEST_BACKOFF, pollMs: 20, callTimeoutMs: 1500, appUrl: app.appUrl });
      app.setEngineUrl(handle.url!);
      await pollUntil(() => handle!.engine.registry.get("res-slow"));
      await app.client.send({ name: "res/slow", data: {} });
      const [run] = await pollUntil(async () => {
        const rows = await own.db.select().from(engineRuns).where(eq(engineRuns.functionId, "res-slow"));
        return rows.length === 1 && rows[0]!.status !== "running" ? rows : undefined;
      });
      expect(run?.status).toBe("completed");
      const attempts = await own.db.select().from(engineAttempts).where(eq(engineAttempts.runId, run!.id)).orderBy(engineAttempts.id);
      // The SDK runs the lone step inside the first (discovery) call: that call timed out and used attempt 0. The
      // retry (attempt 1, answered step by step: the SDK checkpoints only at attempt 0) ran it; the next discovery
      // found it memoized. The timed-out call's late checkpoint carried a lease token that was gone: refused (409).
      expect(attempts.map((a) => [a.attempt, a.outcome])).toEqual([[0, "error"], [1, "StepRun"], [0, "RunComplete"]]);
      expect((attempts[0]?.error as { name?: string }).name).toBe("TimeoutError");
      expect(calls).toBe(2);
    } finally {
      await handle?.stop();
      await app.close();
      await own.drop();
    }
  }, 300_000);

  it("a call that outlives its lease keeps it by heartbeat and runs once", async () => {
    const own = await createTestDatabase();
    let runs = 0;
    // Lease 1 s, heartbeat 250 ms, call timeout 20 s: the step takes 3 s, three leases. Before heartbeats the
    // engine refused this configuration (lease must exceed the call timeout); without renewal the lease
    // would lapse after 1 s and the same engine would claim and call the step a second time.
    const app = await startTestApp({
      db: own.db,
      clientId: "hb",
      leaseMs: 1000,
      heartbeatMs: 250,
      callTimeoutMs: 20_000,
      functions: (client) => [
        client.createFunction({ id: "long", retries: 3, triggers: [{ event: "hb/long" }] }, async ({ step }) =>
          step.run("long-step", async () => {
            runs += 1;
            await sleep(3000);
            return "ok";
          }),
        ),
      ],
    });
    try {
      await app.client.send({ name: "hb/long", data: {} });
      const first = await pollUntil(async () => {
        // The step runs inside the run's first call (the SDK executes a lone step during discovery).
        const [job] = await own.db.select().from(engineJobs).where(eq(engineJobs.kind, "call"));
        return job?.leaseUntil && runs === 1 ? job : undefined;
      });
      const renewed = await pollUntil(async () => {
        const [job] = await own.db.select().from(engineJobs).where(eq(engineJobs.id, first.id));
        if (!job) throw new Error("the job finished before its lease was seen renewed");
        return job.leaseUntil && job.leaseUntil > first.leaseUntil! && job.leaseToken === first.leaseToken ? job : undefined;
      });
      expect(renewed.leaseToken).toBe(first.leaseToken);
      const [run] = await pollUntil(async () => {
        const rows = await own.db.select().from(engineRuns).where(eq(engineRuns.functionId, "hb-long"));
        return rows[0] && rows[0].status !== "running" ? rows : undefined;
      });
      expect(run?.status).toBe("completed");
      expect(runs).toBe(1);
      const attempts = await own.db.select().from(engineAttempts).where(eq(engineAttempts.runId, run!.id));
      // One call: the SDK ran the step, checkpointed it under the same (renewed) lease token, and answered RunComplete.
      expect(attempts.map((a) => [a.attempt, a.outcome])).toEqual([[0, "RunComplete"]]);
      expect(await own.db.select().from(engineSteps).where(eq(engineSteps.runId, run!.id))).toEqual([
        expect.objectContaining({ status: "completed", attempts: 1, result: { type: "data", data: "ok" } }),
      ]);
    } finally {
      await app.stop();
      await own.drop();
    }
  }, 300_000);

  it("refuses a heartbeat that cannot keep its lease", async () => {
    const { Engine } = await import("./engine");
    expect(() => new Engine({ db: tdb.db, transport: { send: async () => ({ status: 200, headers: new Headers(), body: "" }) }, leaseMs: 1000, heartbeatMs: 600 })).toThrow(/at most half/);
  });
});
