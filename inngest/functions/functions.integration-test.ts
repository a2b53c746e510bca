import { eq } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import * as route from "@/app/api/inngest/route";
import { engineRuns } from "@/db/schema";
import { startEngine, type EngineHandle } from "@/inngest/engine";
import { TEST_SIGNING_KEY } from "@/inngest/engine/test-keys";
import { inProcessTransport, type RouteHandlers } from "@/inngest/engine/transport";
import { createTestDatabase, type TestDatabase } from "@/test/db";

// The app's real serve() route and function list, driven by the engine in-process: the route syncs, and
// the platform ping runs to completion.

let tdb: TestDatabase;
let engine: EngineHandle;

beforeAll(async () => {
  tdb = await createTestDatabase();
  const asRoute = (h: unknown) => h as RouteHandlers["POST"];
  engine = await startEngine({ db: tdb.db, pollMs: 20, signingKey: TEST_SIGNING_KEY, transport: inProcessTransport({ GET: asRoute(route.GET), POST: asRoute(route.POST), PUT: asRoute(route.PUT) }) });
});
afterAll(async () => {
  await engine?.stop();
  await tdb?.drop();
});

it("syncs the app's functions and runs platform/ping", async () => {
  expect(await engine.engine.syncApp("http://localhost:3000/api/inngest")).toBeGreaterThanOrEqual(1);
  await engine.engine.sendEvents([{ name: "platform/ping", data: { message: "hello" } }]);
  let run;
  for (let i = 0; i < 200; i++) {
    [run] = await tdb.db.select().from(engineRuns).where(eq(engineRuns.functionId, "paybridge-platform-ping"));
    if (run && run.status !== "running") break;
    await new Promise((r) => setTimeout(r, 25));
  }
  expect(run).toMatchObject({ status: "completed", output: { message: "hello" } });
});

it("a payload that fails the catalog schema is refused by the SDK without retries", async () => {
  await engine.engine.sendEvents([{ name: "platform/ping", data: { message: 42 } }]);
  let runs: (typeof engineRuns.$inferSelect)[] = [];
  for (let i = 0; i < 200; i++) {
    runs = await tdb.db.select().from(engineRuns).where(eq(engineRuns.functionId, "paybridge-platform-ping"));
    if (runs.length === 2 && runs.every((r) => r.status !== "running")) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  expect(runs.map((r) => r.status).sort()).toEqual(["completed", "failed"]);
});
