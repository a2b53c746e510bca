// The hot queries keep their indexes: on a database grown large enough that the planner prefers an index where one
// exists (tens of thousands of orders, ANALYZEd), the real code paths run — the payments list with each filter and
// sort, the API GET, the risk rules, the stale-checkout sweep, the outbox dispatcher, the engine's dedupe prune, the
// engine claiming due jobs, the retention sweeps, the ledger's snapshot and incremental verify and check, a point-in-time balance — with every
// statement they send captured, and each is EXPLAINed with its own parameters.
// A sequential scan of a big table fails the test with the statement that did it: a dropped or unusable index
// shows up here, not as a slow page at a million orders (`npm run bench:growth` measures those).
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as schema from "@/db/schema";
import type { Db } from "@/db/client";
import { createGrowthTenant, growTenant, type GrowthTenant } from "./growth-seed";
import { claimJobs, type ExecutorOptions } from "@/inngest/engine/executor";
import { FunctionRegistry } from "@/inngest/engine/registry";
import { pruneExpiredDedupeKeys } from "@/inngest/engine/runs";
import { dispatchOnce } from "@/server/outbox";
import { expireStaleCheckouts } from "@/server/payments/expire-checkouts";
import { getPaymentOrder } from "@/server/payments/get-payment-order";
import { listPaymentOrders, ZListPaymentOrdersInput } from "@/server/payments/list-payment-orders";
import { evaluateRisk, loadRiskRules } from "@/server/risk/evaluate-risk";
import { getBalance, getWallet } from "@/server/wallet/get-balance";
import { accountFor } from "@/server/ledger/accounts";
import { checkLedgerInvariants, recordLedgerCheckRun, verifyLedger } from "@/server/ledger";
import { takeBalanceSnapshot } from "@/server/ledger/snapshots";
import { sweepRetention } from "@/server/maintenance/retention";
import { createTestDatabase, type TestDatabase } from "./db";

/** A table with at least this many rows (pg_class.reltuples after ANALYZE) must not be read by a sequential scan. */
const BIG_TABLE_ROWS = 10_000;
const ORDERS = 30_000;
const STEP_MS = 60_000;

interface Captured {
  query: string;
  params: unknown[];
}

let t: TestDatabase;
let tenant: GrowthTenant;
let other: GrowthTenant;
let captured: Captured[] = [];
let capturing: { db: Db; close: () => Promise<void> };
const origin = new Date(Date.now() - (ORDERS + 60) * STEP_MS);
/** The point-in-time balance test's instant: mid-history. */
const AS_OF = new Date(origin.getTime() + (ORDERS / 2) * STEP_MS);

beforeAll(async () => {
  t = await createTestDatabase();
  tenant = await createGrowthTenant(t.db, 1);
  other = await createGrowthTenant(t.db, 2);
  await growTenant(t.db, t.sql, tenant, 0, ORDERS, { origin, stepMs: STEP_MS });
  await growTenant(t.db, t.sql, other, 0, ORDERS / 3, { origin, stepMs: STEP_MS * 3 });
  // Three checkouts left open past their day, for the sweep to expire (it reads open ones only).
  await t.sql`
    update checkouts set status = 'open' where id in (select checkout_id from payment_orders where merchant_id = ${tenant.merchantId} and status = 'FAILED' order by created_at limit 3)`;
  await t.sql`update payment_orders set status = 'NOT_STARTED', failure_code = null, failure_message = null where checkout_id in (select id from checkouts where status = 'open')`;
  // The outbox in its steady state: a week of events, all sent but five, and a few past the week for the sweep; engine
  // dedupe keys within their day.
  await t.sql`
    insert into outbox_events (id, name, data, created_at, sent_at, attempts, next_attempt_at)
    select 'growth-' || i, 'payment/order.succeeded', '{}'::jsonb, now() - t, case when i > 5 then now() - t end, 1, now() - interval '1 second'
    from (select i, case when i <= 30 then interval '8 days' else (i % 10000) * interval '1 minute' end as t from generate_series(1, 30000) i) g`;
  // The engine's queue with a backlog of timers (sleeps due later) and three calls due now.
  await t.sql`insert into engine_apps (id, url) values ('growth-app', 'http://127.0.0.1:1/api/inngest')`;
  await t.sql`insert into engine_functions (id, app_id, name, url, config) values ('growth-fn', 'growth-app', 'growth', 'http://127.0.0.1:1/api/inngest?fnId=growth-fn', '{}')`;
  await t.sql`
    insert into engine_runs (id, function_id, event_id, event, status)
    select 'growth-run-' || i, 'growth-fn', 'growth-evt-' || i, '{"name":"growth/event","data":{}}'::jsonb, 'running' from generate_series(1, 20000) i`;
  await t.sql`
    insert into engine_jobs (run_id, kind, step_id, run_at)
    select 'growth-run-' || i, case when i <= 3 then 'call' else 'sleep' end, case when i <= 3 then null else 'nap' end,
           case when i <= 3 then now() - interval '1 second' else now() + (1 + i % 1440) * interval '1 minute' end
    from generate_series(1, 20000) i`;
  await t.sql`insert into engine_dedupe_keys (key, ref, expires_at) select 'growth-' || i, 'r', now() + (i % 1440) * interval '1 minute' from generate_series(1, 30000) i`;
  await t.db.insert(schema.riskRules).values([
    { merchantId: tenant.merchantId, kind: "velocity", action: "review", params: { dimension: "ip", window_s: 3600, max_count: 5 } },
    { merchantId: tenant.merchantId, kind: "velocity", action: "review", params: { dimension: "email", window_s: 86400, max_count: 5 } },
  ]);
  // A snapshot an hour before the instant the point-in-time test reads (dated as housekeeping would have taken it).
  expect((await takeBalanceSnapshot(t.db, { now: new Date(AS_OF.getTime() - 3_600_000) })).taken).toBe(true);
  await t.sql`analyze`;
  // Statistics stay as analyzed: autovacuum re-analyzing mid-file (after the sweeps below) must not flip plans.
  for (const table of ["payment_orders", "checkouts", "ledger_transactions", "ledger_entries", "outbox_events", "engine_dedupe_keys", "payment_order_transitions", "engine_jobs", "engine_runs"]) {
    await t.sql.unsafe(`alter table ${table} set (autovacuum_enabled = false)`);
  }
  capturing = capturingDb(t.url, (c) => captured.push(c));
}, 600_000);

afterAll(async () => {
  await capturing?.close();
  await t?.drop();
});

function capturingDb(url: string, onQuery: (c: Captured) => void) {
  const client = postgres(url, {
    max: 2,
    onnotice: () => {},
    types: { bigint: postgres.BigInt },
    debug: (_conn, query, params) => onQuery({ query, params: params as unknown[] }),
  });
  return { db: drizzle(client, { schema }) as unknown as Db, close: () => client.end({ timeout: 5 }) };
}

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  Plans?: PlanNode[];
}

function walk(node: PlanNode, visit: (n: PlanNode) => void): void {
  visit(node);
  for (const child of node.Plans ?? []) walk(child, visit);
}

const NOT_EXPLAINABLE = /^\s*(begin|commit|rollback|savepoint|release|set|show|select pg_advisory|select set_config)/i;

/** Runs `fn` on the capturing client and returns the sequential scans of big tables its statements would make. */
async function bigSeqScans(fn: (db: Db) => Promise<unknown>): Promise<{ statements: number; scans: { table: string; query: string }[]; indexes: Set<string> }> {
  captured = [];
  await fn(capturing.db);
  const statements = captured.filter((c) => !NOT_EXPLAINABLE.test(c.query));
  const big = new Set(
    (await t.sql<{ relname: string }[]>`select relname from pg_class where relkind = 'r' and relnamespace = 'public'::regnamespace and reltuples >= ${BIG_TABLE_ROWS}`).map((r) => r.relname),
  );
  const scans: { table: string; query: string }[] = [];
  const indexes = new Set<string>();
  for (const s of statements) {
    const [row] = await t.sql.unsafe(`explain (format json) ${s.query}`, s.params as postgres.ParameterOrJSON<never>[]);
    const plan = (row as unknown as { "QUERY PLAN": [{ Plan: PlanNode }] })["QUERY PLAN"][0].Plan;
    walk(plan, (n) => {
      if (n["Index Name"]) indexes.add(n["Index Name"]);
      if (n["Node Type"] === "Seq Scan" && n["Relation Name"] && big.has(n["Relation Name"])) scans.push({ table: n["Relation Name"], query: s.query.replace(/\s+/g, " ").slice(0, 300) });
    });
  }
  return { statements: statements.length, scans, indexes };
}

/** No big table read by a sequential scan and, where named, the index built for the query is the one used. */
async function expectIndexed(fn: (db: Db) => Promise<unknown>, uses: (string | RegExp)[] = []) {
  const r = await bigSeqScans(fn);
  expect(r.statements).toBeGreaterThan(0);
  expect(r.scans).toEqual([]);
  for (const index of uses) {
    const used = [...r.indexes];
    if (typeof index === "string") expect(used, used.join(", ")).toContain(index);
    else expect(used.some((u) => index.test(u)), `${index} among ${used.join(", ")}`).toBe(true);
  }
}

describe("query plans on a grown database", () => {
  it("the seed is big enough for the planner to prefer indexes", async () => {
    const [row] = await t.sql<{ n: number }[]>`select reltuples::int as n from pg_class where relname = 'payment_orders'`;
    expect(row!.n).toBeGreaterThanOrEqual(BIG_TABLE_ROWS);
    // The check itself: a filter on an unindexed column of a big table is caught.
    const r = await bigSeqScans((db) => db.execute(`select id from payment_orders where failure_message = 'nothing' limit 1`));
    expect(r.scans.map((s) => s.table)).toEqual(["payment_orders"]);
  });

  const list = (input: Record<string, unknown>) => (db: Db) => listPaymentOrders(db, tenant.merchantId, ZListPaymentOrdersInput.parse(input));
  const BY_CREATED = "payment_orders_merchant_created_id_idx";
  const BY_STATUS = "payment_orders_merchant_status_created_idx";
  it.each<[string, Record<string, unknown>, (string | RegExp)[]]>([
    ["no filter", {}, [BY_CREATED]],
    ["status EXECUTING (rare)", { status: "EXECUTING" }, [BY_STATUS]],
    // A common status: either index is cheap (a few rows skipped per match), so the planner may take either.
    ["status FAILED", { status: "FAILED" }, [/^payment_orders_merchant_(status_)?created(_id)?_idx$/]],
    ["seller", { seller: "growth-1-seller-1" }, []],
    ["currency", { currency: "KES" }, [BY_CREATED]],
    ["psp", { psp: "mpesa" }, []],
    ["merchant order id", { q: "growth-1234" }, []],
    ["buyer email", { q: "buyer-42@example.test" }, []],
    ["date range", { from: "2020-01-01", to: "2100-01-01" }, []],
    ["amount range", { currency: "KES", amountMin: "10.00", amountMax: "20.00" }, []],
    ["amount sort ascending", { sort: "amount", dir: "asc" }, ["payment_orders_merchant_amount_idx"]],
    ["amount sort descending with a status", { sort: "amount", dir: "desc", status: "SUCCESS" }, []],
    ["oldest first", { dir: "asc" }, [BY_CREATED]],
  ])("payments list: %s", async (_name, input, uses) => {
    await expectIndexed(list(input), uses);
  });

  it("payments list: a rare status after an old cursor", async () => {
    const first = await listPaymentOrders(t.db, tenant.merchantId, ZListPaymentOrdersInput.parse({ dir: "asc", limit: 100 }));
    await expectIndexed(list({ status: "EXECUTING", cursor: first.nextCursor, dir: "asc" }), [BY_STATUS]);
  });

  it("API GET of a payment order", async () => {
    await expectIndexed((db) => getPaymentOrder(db, tenant.merchantId, "growth-20001"));
  });

  it("risk rules: IP and email velocity", async () => {
    const [c] = await t.sql<{ id: string; buyer_ip: string }[]>`select id, buyer_ip from checkouts where merchant_id = ${tenant.merchantId} order by created_at desc limit 1`;
    await expectIndexed((db) =>
      db.transaction(async (tx) => {
        const rules = await loadRiskRules(tx, tenant.merchantId);
        expect(rules).toHaveLength(2);
        await evaluateRisk(tx, { merchantId: tenant.merchantId, checkoutId: c!.id, currency: "KES", totalAmount: 1000n, ip: c!.buyer_ip, email: "buyer-1@example.test" }, rules);
      }),
      // The planner may take the cross-merchant buyer index (ops' buyer history) when the buyer alone is selective.
      [/^checkouts_(merchant_)?buyer_ip_idx$/, /^checkouts_(merchant_)?buyer_email_idx$/],
    );
  });

  it("the stale-checkout sweep", async () => {
    let expired = 0;
    await expectIndexed(async (db) => (expired = await expireStaleCheckouts(db)), ["checkouts_open_created_idx"]);
    expect(expired).toBe(3);
  });

  it("the outbox dispatcher and the engine's dedupe prune", async () => {
    let sent = 0;
    await expectIndexed(async (db) => (sent = (await dispatchOnce(db, async () => {})).sent));
    expect(sent).toBeGreaterThanOrEqual(5); // the five seeded, and what the sweep above enqueued
    await expectIndexed((db) => pruneExpiredDedupeKeys(db), ["engine_dedupe_keys_expires_idx"]);
  });

  it("retention sweeps", async () => {
    await expectIndexed((db) => sweepRetention(db), ["outbox_events_sent_idx"]);
  });

  it("ledger: the hourly snapshot, incremental verify and incremental check", async () => {
    // What earlier runs left: a snapshot two hours ago, verified checkpoints, a recorded check.
    await takeBalanceSnapshot(t.db, { now: new Date(Date.now() - 2 * 3_600_000) });
    await t.sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`; // runs refuse UPDATE; this one is dated as it would have been
      await tx`update ledger_snapshot_runs set taken_at = now() - interval '2 hours'`;
    });
    expect((await verifyLedger(t.db)).ok).toBe(true);
    await recordLedgerCheckRun(t.db, await checkLedgerInvariants(t.db, { full: true }));
    await expectIndexed(async (db) => expect((await takeBalanceSnapshot(db)).taken).toBe(true), ["ledger_transactions_posted_at_idx"]);
    await expectIndexed(async (db) => expect((await verifyLedger(db)).ok).toBe(true));
    // The entries after the last snapshot: a range of recent ids, by account or by transaction (both bounded by what is new).
    await expectIndexed(async (db) => expect((await checkLedgerInvariants(db)).ok).toBe(true), [/^ledger_entries_(account_txn_idx|transaction_id_line_pk)$/]);
  });

  it("the engine claiming due jobs", async () => {
    let claimed = 0;
    const registry = new FunctionRegistry(capturing.db);
    // claimJobs reads only the database, the registry, the lease length and the optional gate and instance id.
    const opts = { db: capturing.db, registry, leaseMs: 15_000 } as unknown as ExecutorOptions;
    await expectIndexed(async () => (claimed = (await claimJobs(opts, 10)).length), ["engine_jobs_due_idx"]);
    expect(claimed).toBe(3);
  });

  it("balances now and as of a past instant", async () => {
    const asOf = AS_OF; // an hour after the snapshot taken in beforeAll: that snapshot plus an hour of entries
    await expectIndexed((db) => getWallet(db, tenant.sellerIds[0]!, "KES", { asOf }), ["ledger_entries_account_txn_idx"]);
    await expectIndexed((db) => getBalance(db, accountFor.sellerPending(tenant.sellerIds[1]!, "KES"), { asOf }));
    await expectIndexed((db) => getWallet(db, tenant.sellerIds[0]!, "KES"));
  });
});
