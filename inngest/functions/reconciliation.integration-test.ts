// reconcile behind the real serve() handler on the local engine: reconciliation/run.requested imports the Stripe API
// window since the watermark (here: the first run's three days) from the sandbox, then matches: a clean payment is
// matched, nothing is opened; a second run starts its window at the first one's end.
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { engineRuns, reconImports } from "@/db/schema";
import { pollUntil, startTestApp, type TestApp } from "@/inngest/engine/testing";
import { createStripeConnector, getConnector, type PspName } from "@/server/psp";
import { createRefundShop, payCheckoutByCard } from "@/server/refunds/test-helpers";
import type { Sandbox } from "@/sandbox";
import { startTestSandbox } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { catalogEvent } from "@/server/events/catalog";
import { opsExceptions } from "@/db/schema";
import { FAILURE_SUBJECTS, recordRunFailure } from "./exceptions";
import { createReconciliationFunctions, RECONCILE_FUNCTION_ID } from "./reconciliation";

let t: TestDatabase;
let sandbox: Sandbox;
let app: TestApp;
const connectorFor = (db: Db, psp: PspName) => getConnector(db, psp, { apiBase: sandbox.url });

beforeAll(async () => {
  t = await createTestDatabase();
  sandbox = await startTestSandbox();
  // A cron that never fires during the test: only the event runs it; the clock 10 minutes ahead, past the import lag.
  app = await startTestApp({
    db: t.db,
    clientId: "paybridge",
    functions: (client) => createReconciliationFunctions(client, { getDb: () => t.db, stripeFor: (db) => createStripeConnector(db, { apiBase: sandbox.url }), now: () => new Date(Date.now() + 10 * 60_000), cron: "0 0 31 2 *" }),
  });
}, 60_000);
afterAll(async () => {
  await app?.stop();
  await sandbox?.stop();
  await t?.drop();
});

const runsDone = async (n: number) =>
  pollUntil(async () => {
    const runs = await t.db.select().from(engineRuns).where(eq(engineRuns.functionId, "paybridge-reconcile"));
    return runs.length >= n && runs.every((r) => r.status !== "running") ? runs : undefined;
  }, { ceilingMs: 60_000 });

it("reconciliation/run.requested imports the new Stripe window and matches it", async () => {
  const shop = await createRefundShop(t.db);
  const paid = await payCheckoutByCard(t.db, connectorFor, shop, ["42.00"]);
  await app.client.send({ name: "reconciliation/run.requested", data: { requestedBy: null } });
  const [run] = await runsDone(1);
  expect(run).toMatchObject({ status: "completed" });
  expect((run!.output as { result: { rows: number; matchedRows: number; opened: number } }).result).toMatchObject({ rows: 1, matchedRows: 1, opened: 0 });
  const [imp] = await t.db.select().from(reconImports);
  expect(imp).toMatchObject({ source: "stripe_api", status: "completed", rowsAdded: 1 });
  const [stored] = await t.db.execute<{ reference: string }>(sql`select reference from settlement_rows`);
  expect(stored!.reference).toBe(paid.piId);

  await app.client.send({ name: "reconciliation/run.requested", data: { requestedBy: "ops-test" } });
  await runsDone(2);
  const keys = (await t.db.select().from(reconImports).orderBy(reconImports.startedAt)).map((i) => i.importKey.split(":").slice(1).join(":"));
  expect(keys).toHaveLength(2);
  // The second window starts where the first ended (the watermark).
  const end = (k: string) => k.slice(k.indexOf("Z:") + 2);
  expect(keys[1]!.startsWith(end(keys[0]!))).toBe(true);
}, 90_000);

it("a failed run (the cron's or one asked for) is an ops exception whose retry asks for a run, with the catalog's event", async () => {
  const retry = { name: "reconciliation/run.requested", data: { requestedBy: "usr_ops" } };
  expect(FAILURE_SUBJECTS.reconcile(retry)).toEqual({ kind: "job", subjectType: "function", subjectId: "reconcile", retryEvent: retry });
  expect(FAILURE_SUBJECTS.reconcile({ name: "inngest/scheduled.timer", data: {} })).toMatchObject({ retryEvent: { name: "reconciliation/run.requested", data: { requestedBy: null } } });
  // The outbox and the retry refuse names outside the catalog: this one is in it, and its payload passes.
  expect(catalogEvent("reconciliation/run.requested").schema.parse(retry.data)).toEqual(retry.data);
  expect(catalogEvent("reconciliation/run.requested").schema.parse({ requestedBy: null })).toEqual({ requestedBy: null });
  // As the onFailure handler records it.
  await recordRunFailure(t.db, RECONCILE_FUNCTION_ID, { event: { data: { function_id: "paybridge-reconcile", run_id: "01RECONFAILED", event: retry, error: { name: "Error", message: "stripe down" } } } });
  const [exc] = await t.db.select().from(opsExceptions).where(eq(opsExceptions.runId, "01RECONFAILED"));
  expect(exc).toMatchObject({ kind: "job", subjectType: "function", subjectId: "reconcile", functionId: "paybridge-reconcile", retryEvent: retry });
});
