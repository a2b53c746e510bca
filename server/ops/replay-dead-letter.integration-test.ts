import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog, engineApps, engineDeadLetters, engineFunctions, engineRuns } from "@/db/schema";
import { callerFor, createUser } from "@/test/fixtures";
import { createTestDatabase, type TestDatabase } from "@/test/db";

// A dead-letter replay is a privileged write: it leaves an audit row (who, which run, the new run) in the same
// transaction; a refused replay (already replayed, unknown run) leaves none.

let t: TestDatabase;
let opsUser: string;

beforeAll(async () => {
  t = await createTestDatabase();
  opsUser = (await createUser(t.db, { ops: true })).id;
  await t.db.insert(engineApps).values({ id: "app", url: "http://app.test/api/inngest" });
  const config = { id: "app-fn", name: "fn", url: "http://app.test/api/inngest?fnId=app-fn&stepId=step", triggers: [{ event: "x/y" }], maxAttempts: 1 };
  await t.db.insert(engineFunctions).values({ id: "app-fn", appId: "app", name: "fn", url: config.url, config });
  await t.db.insert(engineRuns).values({ id: "01AUDIT", functionId: "app-fn", eventId: "e1", event: { name: "x/y", data: {} }, status: "failed", error: { name: "Error", message: "boom" }, endedAt: new Date() });
  await t.db.insert(engineDeadLetters).values({ runId: "01AUDIT", functionId: "app-fn", error: { name: "Error", message: "boom" } });
});
afterAll(() => t?.drop());

const audits = () => t.db.select().from(auditLog).where(eq(auditLog.action, "engine_run.replayed"));

describe("dead-letter replay audit", () => {
  it("records who replayed which run, once", async () => {
    const ops = callerFor(t.db, opsUser);
    const { runId } = await ops.engineRuns.replay({ runId: "01AUDIT" });
    const rows = await audits();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actorUserId: opsUser, targetType: "engine_run", targetId: "01AUDIT", data: { replayRunId: runId } });
    await expect(ops.engineRuns.replay({ runId: "01AUDIT" })).rejects.toMatchObject({ code: "CONFLICT" });
    await expect(ops.engineRuns.replay({ runId: "01NONE" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await audits()).toHaveLength(1);
  });
});
