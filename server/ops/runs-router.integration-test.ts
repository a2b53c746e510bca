import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineApps, engineDeadLetters, engineFunctions, engineJobs, engineRuns } from "@/db/schema";
import { callerFor, createMerchant, createUser, trpcErrorCode as code } from "@/test/fixtures";
import { createTestDatabase, type TestDatabase } from "@/test/db";

// The ops runs router: only ops may see runs or replay; a replay starts one new run, once.

let t: TestDatabase;
let opsUser: string;
let merchantAdmin: string;

beforeAll(async () => {
  t = await createTestDatabase();
  opsUser = (await createUser(t.db, { ops: true })).id;
  const m = await createMerchant(t.db);
  merchantAdmin = (await createUser(t.db, { merchantId: m.id, role: "merchant_admin" })).id;
  await t.db.insert(engineApps).values({ id: "app", url: "http://app.test/api/inngest" });
  const config = { id: "app-fn", name: "fn", url: "http://app.test/api/inngest?fnId=app-fn&stepId=step", triggers: [{ event: "x/y" }], maxAttempts: 1 };
  await t.db.insert(engineFunctions).values({ id: "app-fn", appId: "app", name: "fn", url: config.url, config });
  await t.db.insert(engineRuns).values({ id: "01DEAD", functionId: "app-fn", eventId: "e1", event: { name: "x/y", data: {} }, status: "failed", error: { name: "Error", message: "boom" }, endedAt: new Date() });
  await t.db.insert(engineDeadLetters).values({ runId: "01DEAD", functionId: "app-fn", error: { name: "Error", message: "boom" } });
});
afterAll(async () => {
  await t?.drop();
});

describe("ops runs router", () => {
  it("refuses signed-out users and merchant users, and writes nothing for them", async () => {
    expect(await code(callerFor(t.db, null).engineRuns.list({}))).toBe("UNAUTHORIZED");
    expect(await code(callerFor(t.db, merchantAdmin).engineRuns.list({}))).toBe("FORBIDDEN");
    expect(await code(callerFor(t.db, merchantAdmin).engineRuns.replay({ runId: "01DEAD" }))).toBe("FORBIDDEN");
    expect(await t.db.select().from(engineRuns)).toHaveLength(1);
  });

  it("lists runs and dead letters, shows a run, and replays a dead letter once", async () => {
    const ops = callerFor(t.db, opsUser);
    expect((await ops.engineRuns.list({ status: "failed" })).items.map((r) => r.id)).toEqual(["01DEAD"]);
    expect((await ops.engineRuns.deadLetters({})).items.map((d) => d.runId)).toEqual(["01DEAD"]);
    expect((await ops.engineRuns.get({ runId: "01DEAD" })).run.status).toBe("failed");
    expect(await code(ops.engineRuns.get({ runId: "nope" }))).toBe("NOT_FOUND");
    const { runId } = await ops.engineRuns.replay({ runId: "01DEAD" });
    const [replay] = await t.db.select().from(engineRuns).where(eq(engineRuns.id, runId));
    expect(replay).toMatchObject({ status: "running", replayOf: "01DEAD", event: { name: "x/y" } });
    expect(await t.db.select().from(engineJobs).where(eq(engineJobs.runId, runId))).toHaveLength(1);
    expect(await code(ops.engineRuns.replay({ runId: "01DEAD" }))).toBe("CONFLICT");
    expect((await ops.engineRuns.deadLetters({})).items).toEqual([]);
  });
});
