import { eq } from "drizzle-orm";
import { Inngest } from "inngest";
import { serve } from "inngest/next";
import { afterAll, beforeAll, expect, it } from "vitest";
import { engineRuns } from "@/db/schema";
import { startEngine, type EngineHandle } from "@/inngest/engine";
import { pollUntil, silentLogger, TEST_APP_URL, TEST_BACKOFF, TEST_EVENT_KEY, TEST_SIGNING_KEY } from "@/inngest/engine/testing";
import { inProcessTransport, type RouteHandlers } from "@/inngest/engine/transport";
import { addLogContext, log } from "@/server/observability/log";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { captureLogLines } from "@/test/log-capture";
import { inngest as appClient } from "./client";
import { RunLogContext } from "./log-middleware";
import { serveOptions } from "./serve-options";

// The log middleware through a real serve() and the local engine: a line logged in a step and one logged by the
// function's handler carry the run id the SDK gave the run, the event's id and name, and ids the domain added.

let tdb: TestDatabase;
let engine: EngineHandle;
const ref: { handle?: EngineHandle } = {};

beforeAll(async () => {
  log.level = "debug";
  tdb = await createTestDatabase();
  const client = new Inngest({
    id: "logctx",
    isDev: false,
    signingKey: TEST_SIGNING_KEY,
    baseUrl: "http://engine.test/",
    eventKey: TEST_EVENT_KEY,
    logger: silentLogger,
    middleware: [RunLogContext],
    fetch: ((input: string | URL | Request, init?: RequestInit) => ref.handle!.fetch(input, init)) as typeof fetch,
  });
  const fn = client.createFunction({ id: "log-probe", retries: 0, triggers: [{ event: "test/log.probe" }] }, async ({ event, step }) => {
    await step.run("in-step", () => {
      addLogContext({ checkoutId: String(event.data.checkoutId) });
      log.info("probe step line");
      return { ok: true };
    });
    log.info("probe handler line");
    return { done: true };
  });
  const served = serve({ client, functions: [fn], ...serveOptions(TEST_APP_URL) });
  const asRoute = (h: unknown) => h as RouteHandlers["POST"];
  engine = await startEngine({ db: tdb.db, backoff: TEST_BACKOFF, pollMs: 20, signingKey: TEST_SIGNING_KEY, eventKey: TEST_EVENT_KEY, transport: inProcessTransport({ GET: asRoute(served.GET), POST: asRoute(served.POST), PUT: asRoute(served.PUT) }) });
  ref.handle = engine;
  await engine.engine.syncApp(TEST_APP_URL);
});
afterAll(async () => {
  await engine?.stop();
  await tdb?.drop();
  log.level = "info";
});

it("lines logged during a run carry its run id, event id and name, and the ids the domain added", async () => {
  let runId = "";
  const lines = await captureLogLines(async () => {
    await engine.engine.sendEvents([{ id: "evt-log-probe-1", name: "test/log.probe", data: { checkoutId: "co_probe" } }]);
    const run = await pollUntil(async () => {
      const [r] = await tdb.db.select().from(engineRuns).where(eq(engineRuns.functionId, "logctx-log-probe"));
      return r && r.status !== "running" ? r : undefined;
    }, { ceilingMs: 60_000 });
    expect(run.status).toBe("completed");
    runId = run.id;
  });
  const step = lines.find((l) => l.msg === "probe step line");
  const handler = lines.find((l) => l.msg === "probe handler line");
  expect(step).toMatchObject({ runId, eventName: "test/log.probe", fnId: "logctx-log-probe", checkoutId: "co_probe", step: "in-step" });
  expect(step?.eventId).toBe("evt-log-probe-1");
  expect(handler).toMatchObject({ runId, eventName: "test/log.probe", fnId: "logctx-log-probe" });
  // A step's own additions stay in that step.
  expect(handler).not.toHaveProperty("checkoutId");
});

it("the app's client registers the middleware, so every app function gets it", () => {
  expect(appClient.middleware).toContain(RunLogContext);
});
