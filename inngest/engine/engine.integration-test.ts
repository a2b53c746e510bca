import { eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Inngest } from "inngest";
import { serve } from "inngest/next";
import { engineAttempts, engineDeadLetters, engineEvents, engineRuns } from "@/db/schema";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { startEngine } from "./index";
import { listEngineDeadLetters, listEngineRuns } from "@/server/ops/list-engine-runs";
import { getRunDetail, replayDeadLetter, ReplayError } from "./ops";
import { RegistrationError } from "./registry";
import { pollUntil, serveHandlersOverHttp, silentLogger, startTestApp, TEST_BACKOFF, TEST_SIGNING_KEY, type TestApp } from "./testing";
import type { RouteHandlers } from "./transport";

// Engine behaviour beyond the conformance suite: its own state (attempts, dead letters, replay), refusal
// of unsupported config, the HTTP transport and event API, and crons.
// No fixed deadline a loaded machine can exceed: waits poll with ceilings of minutes (CEILING_MS), and the
// tests' own timeouts sit above those ceilings.

const CEILING_MS = 240_000;
const TEST_TIMEOUT_MS = 600_000;

let tdb: TestDatabase;
let app: TestApp;
let broken = true;

async function waitForRun(fnId: string, predicate: (status: string) => boolean = (s) => s !== "running", timeoutMs = CEILING_MS, minRuns = 1, db = tdb.db) {
  const runsOf = () => db.select().from(engineRuns).where(eq(engineRuns.functionId, fnId));
  return pollUntil(
    async () => {
      const rows = await runsOf();
      return rows.length >= minRuns && rows.every((r) => predicate(r.status)) ? rows : undefined;
    },
    {
      ceilingMs: timeoutMs,
      // Say why: each run's status and error, and its attempts (a run that failed never turns completed).
      why: async () => {
        const rows = await runsOf();
        const attempts = await db.select().from(engineAttempts).where(inArray(engineAttempts.runId, rows.map((r) => r.id).concat([""])));
        return rows.map((r) => ({ status: r.status, error: r.error, attempts: attempts.filter((a) => a.runId === r.id).map((a) => ({ step: a.stepId, attempt: a.attempt, outcome: a.outcome, status: a.statusCode, error: a.error })) }));
      },
    },
  );
}

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = await startTestApp({
    db: tdb.db,
    clientId: "eng",
    functions: (client) => [
      client.createFunction({ id: "fragile", retries: 2, triggers: [{ event: "eng/fragile" }] }, async ({ step }) => {
        return step.run("depends-on-fix", () => {
          if (broken) throw new Error("downstream is down");
          return "fixed";
        });
      }),
      client.createFunction({ id: "ticker", triggers: [{ cron: "TZ=Europe/Paris * * * * * *" }] }, async ({ step }) => step.run("tick", () => Date.now())),
    ],
  });
});
afterAll(async () => {
  await app?.stop();
  await tdb?.drop();
});

describe("local engine", () => {
  it("records every attempt, files a dead letter, and replays it once", async () => {
    await app.client.send({ name: "eng/fragile", data: {} });
    const [failed] = await waitForRun("eng-fragile");
    expect(failed?.status).toBe("failed");
    expect(failed?.error).toMatchObject({ message: expect.stringContaining("downstream is down") });
    const attempts = await tdb.db.select().from(engineAttempts).where(eq(engineAttempts.runId, failed!.id));
    // Three step attempts, then the discovery call in which the function itself rethrows the step's error.
    expect(attempts.map((a) => a.attempt)).toEqual([0, 1, 2, 0]);
    expect(attempts.map((a) => a.outcome)).toEqual(["StepError", "StepError", "StepFailed", "failed"]);
    const dead = await listEngineDeadLetters(tdb.db, { includeReplayed: false, limit: 10 });
    expect(dead.items.map((d) => d.runId)).toEqual([failed!.id]);
    const detail = await getRunDetail(tdb.db, failed!.id);
    expect(detail?.steps.map((s) => s.status)).toEqual(["failed"]);

    broken = false;
    const replayId = await replayDeadLetter(tdb.db, failed!.id);
    app.handle.engine.wake();
    await expect(replayDeadLetter(tdb.db, failed!.id)).rejects.toBeInstanceOf(ReplayError);
    const runs = await waitForRun("eng-fragile");
    const replay = runs.find((r) => r.id === replayId);
    expect(replay).toMatchObject({ status: "completed", output: "fixed", replayOf: failed!.id });
    const [dl] = await tdb.db.select().from(engineDeadLetters).where(eq(engineDeadLetters.runId, failed!.id));
    expect(dl?.replayedRunId).toBe(replayId);
    expect((await listEngineRuns(tdb.db, { status: "failed", limit: 10 })).items.map((r) => r.id)).toEqual([failed!.id]);
  }, TEST_TIMEOUT_MS);

  it("refuses a sync whose functions ask for what the engine does not implement, listing each", async () => {
    const client = new Inngest({ id: "refused", isDev: true, baseUrl: "http://engine.test/", logger: silentLogger });
    const fns = [
      client.createFunction({ id: "rl", rateLimit: { limit: 1, period: "1m" }, triggers: [{ event: "x/a" }] }, async () => null),
      client.createFunction({ id: "batch", batchEvents: { maxSize: 10, timeout: "5s" }, triggers: [{ event: "x/b" }] }, async () => null),
      client.createFunction({ id: "ok", triggers: [{ event: "x/c", if: "event.data.(" }] }, async () => null),
    ];
    const served = serve({ client, functions: fns });
    const handle = await startEngine({ db: tdb.db, transport: { send: async (req) => {
      const res = (await served.PUT(new Request(req.url, { method: "PUT", headers: req.headers, body: req.body }) as never, undefined as never)) as Response;
      return { status: res.status, headers: res.headers, body: await res.text() };
    } } });
    try {
      const err = await handle.engine.syncApp("http://refused.test/api/inngest").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RegistrationError);
      const { problems } = err as RegistrationError;
      expect(problems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/refused-rl: rate limiting \(rateLimit\) is not supported/),
          expect.stringMatching(/refused-batch: event batching \(batchEvents\) is not supported/),
          expect.stringMatching(/refused-ok trigger: invalid expression/),
        ]),
      );
    } finally {
      await handle.stop();
    }
  });

  it("serves the event API over HTTP: key check, seed-derived ids, and runs over the HTTP transport", async () => {
    let engineUrl = "";
    const client = new Inngest({ id: "http", isDev: false, signingKey: TEST_SIGNING_KEY, baseUrl: "http://placeholder/", eventKey: "k1", logger: silentLogger, fetch: ((input: string | URL | Request, init?: RequestInit) => fetch(String(input).replace("http://placeholder", engineUrl), init)) as typeof fetch });
    const fn = client.createFunction({ id: "echo", triggers: [{ event: "http/echo" }] }, async ({ event, step }) => step.run("echo", () => event.data));
    const served = serve({ client, functions: [fn], enableUnauthedSync: false });
    const asRoute = (h: unknown) => h as RouteHandlers["POST"];
    const appHttp = await serveHandlersOverHttp({ GET: asRoute(served.GET), POST: asRoute(served.POST), PUT: asRoute(served.PUT) });
    // A database of its own: the suite's in-process engine (beforeAll) polls the shared one, and its
    // transport ignores URLs, so it could claim this app's jobs and call the wrong handlers with them.
    const own = await createTestDatabase();
    const handle = await startEngine({ db: own.db, port: 0, eventKey: "k1", signingKey: TEST_SIGNING_KEY, backoff: TEST_BACKOFF, pollMs: 20, appUrl: appHttp.appUrl });
    engineUrl = handle.url!;
    try {
      // Generous ceilings: on a loaded machine the first sync can take a retry or two.
      await pollUntil(() => handle.engine.registry.get("http-echo"), { ceilingMs: CEILING_MS });
      const wrongKey = await fetch(`${engineUrl}/e/nope`, { method: "POST", body: JSON.stringify({ name: "http/echo", data: {} }) });
      expect(wrongKey.status).toBe(401);
      const seed = `${Date.now()},${Buffer.alloc(10, 7).toString("base64")}`;
      const post = () => fetch(`${engineUrl}/e/k1`, { method: "POST", headers: { "x-inngest-event-id-seed": seed }, body: JSON.stringify([{ name: "http/echo", data: { v: 1 } }]) });
      const first = (await (await post()).json()) as { ids: string[]; status: number };
      const second = (await (await post()).json()) as { ids: string[]; status: number };
      expect(first.status).toBe(200);
      expect(second.ids).toEqual(first.ids);
      expect(await own.db.select().from(engineEvents).where(eq(engineEvents.id, first.ids[0]!))).toHaveLength(1);
      await client.send({ name: "http/echo", data: { v: 2 } });
      // Both runs (the seeded event's and the SDK-sent one's), both finished: a queued run is not done.
      const runs = await waitForRun("http-echo", (s) => s === "completed", CEILING_MS, 2, own.db);
      expect(runs.map((r) => r.output).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([{ v: 1 }, { v: 2 }]);
    } finally {
      await handle.stop();
      await appHttp.close();
      await own.drop();
    }
  }, TEST_TIMEOUT_MS);

  it("fires a cron trigger (TZ= prefix) once per tick, even with two engines on one database", async () => {
    const second = await startEngine({ db: tdb.db, transport: { send: async () => ({ status: 500, headers: new Headers(), body: "" }) } });
    const before = (await tdb.db.select().from(engineRuns).where(eq(engineRuns.functionId, "eng-ticker"))).length;
    try {
      // Both engines tick together for a few seconds at least, and until two more ticks have fired (a loaded
      // machine ticks late, never wrong).
      const since = Date.now();
      await pollUntil(async () => {
        const n = (await tdb.db.select().from(engineRuns).where(eq(engineRuns.functionId, "eng-ticker"))).length;
        return n >= before + 2 && Date.now() - since >= 3500 ? true : undefined;
      }, { ceilingMs: CEILING_MS, stepMs: 100 });
    } finally {
      await second.stop();
    }
    const runs = await tdb.db.select().from(engineRuns).where(eq(engineRuns.functionId, "eng-ticker"));
    expect(runs.length).toBeGreaterThanOrEqual(2);
    const ticks = runs.map((r) => String(r.event.id));
    expect(new Set(ticks).size).toBe(ticks.length);
    expect(runs[0]?.event).toMatchObject({ name: "inngest/scheduled.timer" });
  }, TEST_TIMEOUT_MS);
});
