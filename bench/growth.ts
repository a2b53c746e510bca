/**
 * `npm run bench:growth -- --orders N` — what the hot paths cost as history grows. Two merchants are grown, set-based
 * (test/growth-seed.ts: checkouts, payment orders, transitions, and each successful order's posting on a valid hash
 * chain, triggers and constraints on), to 10k, 100k, … up to N orders each, and at each size the same figures are
 * measured: the payments list (a rare status, first page and after an old cursor), GET by id, POST /api/v1/payments
 * through the real route handler (IP velocity rule on), the stale-checkout sweep, the engine's dedupe prune, a
 * point-in-time balance, `ledger:verify` and `ledger:check` (incremental, after 1,000 new orders, and full). Beside
 * them, pgbench (TPC-B-like) on the same server at each size. The last columns say how each figure grew from the
 * first size to the last, and whether it stayed within 2× (the full verification modes are linear by design).
 *
 * History runs backwards from now: order i of a merchant was created at now − 1 h − i × --step-ms, so at every size
 * the recent past looks the same and only older history is added (as a merchant's does). Balance snapshots are
 * rebuilt hourly over the whole history at each size, as the hourly housekeeping would have taken them.
 * Flags: --orders N (default 100000), --step-ms MS (default 10000), --seconds S (POST closed loop per size, default 5),
 * --concurrency C (default 8), --pgbench-seconds S (default 5; 0 skips it), --pgbench PATH. Not part of `npm test`.
 */
import "./growth-env";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { nonNegativeInt, percentile, positiveInt } from "./card-flow";
import { findPgbench, pgbench, table } from "./pgbench";

const SIZES_START = 10_000;
const NEW_ORDERS = 1_000;
const SAMPLES = 31;
const STALE_CHECKOUTS = 20;

interface Figure {
  name: string;
  unit: string;
  /** Flat means within 2× of the first size; false for the full modes, linear by design. */
  mustBeFlat: boolean;
  /** Higher is better (a rate): growth is first/last instead of last/first. */
  rate?: boolean;
  values: number[];
}

async function main() {
  const maxOrders = positiveInt("--orders", 100_000);
  const stepMs = positiveInt("--step-ms", 10_000);
  const postSeconds = positiveInt("--seconds", 5);
  const concurrency = positiveInt("--concurrency", 8);
  const pgbenchSeconds = nonNegativeInt("--pgbench-seconds", 5);
  const sizes: number[] = [];
  for (let n = SIZES_START; n < maxOrders; n *= 10) sizes.push(n);
  sizes.push(maxOrders);

  const { createDb } = await import("../db/client");
  const { ensureDatabase, startEmbeddedPostgres } = await import("../db/embedded");
  const { runMigrations } = await import("../db/migrate");
  const schema = await import("../db/schema");
  const { createApiKey } = await import("../server/api-keys/keys");
  const { createGrowthTenant, growTenant, reopenStaleCheckouts } = await import("../test/growth-seed");
  const { listPaymentOrders, ZListPaymentOrdersInput, encodeCursor } = await import("../server/payments/list-payment-orders");
  const { getPaymentOrder } = await import("../server/payments/get-payment-order");
  const { createPaymentRoute } = await import("../server/payments/routes");
  const { expireStaleCheckouts } = await import("../server/payments/expire-checkouts");
  const { pruneExpiredDedupeKeys } = await import("../inngest/engine/runs");
  const { getWallet } = await import("../server/wallet/get-balance");
  const { verifyLedger, checkLedgerInvariants, recordLedgerCheckRun } = await import("../server/ledger");
  const { takeBalanceSnapshot, SNAPSHOT_LAG_MS } = await import("../server/ledger/snapshots");
  const { runInvariants } = await import("../server/reconciliation/invariants");

  const tmp = await mkdtemp(path.join(os.tmpdir(), "bench-growth-"));
  const pg = await startEmbeddedPostgres({ dir: path.join(tmp, "pg"), fast: true });
  const stop = async () => {
    await pg.stop();
    await rm(tmp, { recursive: true, force: true });
  };
  try {
    await ensureDatabase(pg.url, "growth");
    const url = pg.databaseUrl("growth");
    await runMigrations(url);
    const handle = createDb(url, { max: concurrency + 4 });
    const db = handle.db;
    const sql = postgres(url, { max: 4, onnotice: () => {}, types: { bigint: postgres.BigInt } });
    const tenants = [await createGrowthTenant(db, 1), await createGrowthTenant(db, 2)];
    const main = tenants[0]!;
    const secret = (await createApiKey(db, { merchantId: main.merchantId, kind: "secret", name: "growth" })).key;
    await db.insert(schema.riskRules).values({ merchantId: main.merchantId, kind: "velocity", action: "review", params: { dimension: "ip", window_s: 3600, max_count: 50 } });
    const post = createPaymentRoute(() => db);
    const newest = new Date(Date.now() - 60 * 60_000);
    const history = { origin: newest, stepMs: -stepMs };
    // The "new" orders after each size: their own index range, posted two minutes ago (after the last snapshot's cutoff).
    let recentIndex = 50_000_000;
    let grown = 0;
    let dedupeKeys = 0;
    const pgbenchBin = findPgbench();
    if (pgbenchSeconds > 0) await ensureDatabase(pg.url, "pgbench");

    const figures: Figure[] = [
      { name: "payments list, status EXECUTING, first page", unit: "ms p50", mustBeFlat: true, values: [] },
      { name: "payments list, status EXECUTING, after an old cursor", unit: "ms p50", mustBeFlat: true, values: [] },
      { name: "GET payment order by id", unit: "ms p50", mustBeFlat: true, values: [] },
      { name: `POST /api/v1/payments (${concurrency} concurrent, IP velocity rule)`, unit: "req/s", mustBeFlat: true, rate: true, values: [] },
      { name: `stale-checkout sweep (${STALE_CHECKOUTS} stale)`, unit: "ms", mustBeFlat: true, values: [] },
      { name: "engine dedupe prune (none expired)", unit: "ms p50", mustBeFlat: true, values: [] },
      { name: "point-in-time wallet (asOf mid-history)", unit: "ms p50", mustBeFlat: true, values: [] },
      { name: `ledger:verify incremental (${NEW_ORDERS} new orders)`, unit: "s", mustBeFlat: true, values: [] },
      { name: `ledger:check incremental (${NEW_ORDERS} new orders)`, unit: "s", mustBeFlat: true, values: [] },
      { name: "reconciliation invariants (ledger:check prints them)", unit: "s", mustBeFlat: false, values: [] },
      { name: "ledger:verify --full", unit: "s", mustBeFlat: false, values: [] },
      { name: "ledger:verify --full throughput", unit: "txn/s", mustBeFlat: false, rate: true, values: [] },
      { name: "ledger:check --full (ledger part)", unit: "s", mustBeFlat: false, values: [] },
      { name: "pgbench tpcb-like, 8 clients", unit: "tps", mustBeFlat: false, rate: true, values: [] },
    ];
    const record = (i: number, v: number) => figures[i]!.values.push(v);
    /** Seconds of the ledger part of ledger:check, and of the reconciliation invariants it prints after it. */
    const ledgerCheck = async (full: boolean) => {
      let s = performance.now();
      const report = await checkLedgerInvariants(db, { full });
      await recordLedgerCheckRun(db, report);
      const ledgerSeconds = (performance.now() - s) / 1000;
      s = performance.now();
      const recon = await runInvariants(db, { record: false });
      const reconSeconds = (performance.now() - s) / 1000;
      const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
      if (!report.ok) throw new Error(`ledger:check found a breach: ${json({ drifts: report.drifts.slice(0, 3), unbalanced: report.unbalancedTransactions.slice(0, 3) })}`);
      const failing = recon.checks.filter((c) => !c.ok);
      // psp_balance needs settlement reports, which are not seeded: the clearing account is all "in flight".
      if (failing.some((c) => c.name !== "psp_balance")) console.error(`  reconciliation invariants not OK: ${failing.map((c) => c.name).join(", ")}`);
      return { ledgerSeconds, reconSeconds };
    };

    for (const size of sizes) {
      const t0 = performance.now();
      for (const t of tenants) await growTenant(db, sql, t, grown, size, history);
      await sql`insert into engine_dedupe_keys (key, ref, expires_at) select 'growth-' || i, 'r', now() + (1 + i % 1440) * interval '1 minute' from generate_series(${dedupeKeys + 1}::bigint, ${size * 2}::bigint) i`;
      dedupeKeys = size * 2;
      grown = size;
      // Snapshots as the hourly housekeeping would have taken them over this history (older history was just added).
      await sql`delete from ledger_balance_snapshots`;
      await sql`delete from ledger_snapshot_runs`;
      await sql`delete from ledger_check_runs`;
      const oldest = newest.getTime() - size * stepMs;
      for (let c = oldest + 3_600_000; c <= Date.now() - SNAPSHOT_LAG_MS; c += 3_600_000) await takeBalanceSnapshot(db, { now: new Date(c + SNAPSHOT_LAG_MS) });
      await takeBalanceSnapshot(db);
      // As if each run had been taken on its hour (the incremental check re-verifies the runs taken since its last run).
      // (Runs refuse UPDATE: the simulation switches the triggers off for this one statement's transaction.)
      await sql.begin(async (tx) => {
        await tx`set local session_replication_role = replica`;
        await tx`update ledger_snapshot_runs set taken_at = cutoff + ${`${SNAPSHOT_LAG_MS} milliseconds`}::interval`;
      });
      await sql`vacuum analyze`;
      console.error(`grown to ${size} orders per merchant in ${((performance.now() - t0) / 1000).toFixed(0)} s; measuring…`);

      // Catch up (verified checkpoints and a first check run), then the full modes.
      await verifyLedger(db);
      await ledgerCheck(false);
      let t = performance.now();
      const full = await verifyLedger(db, { full: true });
      const fullSeconds = (performance.now() - t) / 1000;
      const checkFull = await ledgerCheck(true);
      const checkFullSeconds = checkFull.ledgerSeconds;

      const sample = async (fn: () => Promise<unknown>) => {
        for (let k = 0; k < 2; k++) await fn();
        const ms: number[] = [];
        for (let k = 0; k < SAMPLES; k++) {
          const s = performance.now();
          await fn();
          ms.push(performance.now() - s);
        }
        return percentile(ms.sort((a, b) => a - b), 50);
      };
      record(0, await sample(() => listPaymentOrders(db, main.merchantId, ZListPaymentOrdersInput.parse({ status: "EXECUTING" }))));
      const [deep] = await sql<{ id: string; key: string }[]>`
        select id, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as key from payment_orders
        where merchant_id = ${main.merchantId} order by created_at desc, id desc offset ${Math.floor(size * 0.9)} limit 1`;
      const cursor = encodeCursor({ sort: "created", dir: "desc", kind: "after", value: deep!.key, id: deep!.id });
      record(1, await sample(() => listPaymentOrders(db, main.merchantId, ZListPaymentOrdersInput.parse({ status: "EXECUTING", cursor }))));
      let g = 0;
      record(2, await sample(() => getPaymentOrder(db, main.merchantId, `growth-${(g += 7_919) % size}`)));

      // POST: a closed loop of `concurrency` clients for postSeconds.
      let ok = 0;
      let failed = 0;
      let seq = 0;
      const until = performance.now() + postSeconds * 1000;
      const client = async () => {
        while (performance.now() < until) {
          seq++;
          const body = {
            buyer_info: { email: `growth-post-${seq % 5000}@example.test`, ip: `10.${seq % 5000 >> 8}.${seq % 250}.9` },
            return_url: "https://shop.example/return",
            payment_orders: [{ payment_order_id: `post-${size}-${seq}`, seller_account: "growth-1-seller-0", amount: "10.00", currency: "KES" }],
          };
          const res = await post(
            new Request("http://localhost/api/v1/payments", { method: "POST", headers: { authorization: `Bearer ${secret}`, "idempotency-key": `g-${size}-${seq}`, "content-type": "application/json" }, body: JSON.stringify(body) }),
            { params: Promise.resolve({}) },
          );
          if (res.status === 201) ok++;
          else failed++;
          await res.arrayBuffer();
        }
      };
      await Promise.all(Array.from({ length: concurrency }, client));
      if (failed > 0) console.error(`  POST: ${failed} answered other than 201`);
      record(3, ok / postSeconds);

      // Stale checkouts: some a day old, reopened (the sweep expires them again).
      const reopened = await reopenStaleCheckouts(sql, main.merchantId, STALE_CHECKOUTS);
      t = performance.now();
      const expired = await expireStaleCheckouts(db);
      record(4, performance.now() - t);
      if (expired !== reopened) console.error(`  sweep expired ${expired} of ${reopened}`);
      record(5, await sample(() => pruneExpiredDedupeKeys(db)));
      const mid = new Date(newest.getTime() - (size / 2) * stepMs);
      record(6, await sample(() => getWallet(db, main.sellerIds[0]!, "KES", { asOf: mid })));

      // Incremental modes: what was posted since the last run (new orders, minutes old), not the history.
      for (const tn of tenants) {
        await growTenant(db, sql, tn, recentIndex, recentIndex + NEW_ORDERS / 2, { origin: new Date(Date.now() - 2 * 60_000 - recentIndex * 100), stepMs: 100 });
      }
      recentIndex += NEW_ORDERS;
      t = performance.now();
      const inc = await verifyLedger(db);
      record(7, (performance.now() - t) / 1000);
      if (!inc.ok) throw new Error("ledger:verify incremental found a break");
      const check = await ledgerCheck(false);
      record(8, check.ledgerSeconds);
      record(9, check.reconSeconds);
      record(10, fullSeconds);
      record(11, full.transactionsChecked / fullSeconds);
      record(12, checkFullSeconds);
      const pgb = pgbench(pgbenchBin, pg.databaseUrl("pgbench"), pgbenchSeconds);
      record(13, "tps" in pgb ? pgb.tps : NaN);
      console.error(`  done (${((performance.now() - t0) / 1000).toFixed(0)} s for this size)`);
    }

    const fmt = (v: number) => (Number.isNaN(v) ? "-" : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
    const [size] = await sql<{ bytes: string }[]>`select pg_size_pretty(pg_database_size(current_database())) as bytes`;
    const bytes = size?.bytes ?? "?";
    console.log(`\nbench:growth — two merchants, ${sizes.map((s) => s.toLocaleString("en")).join(" → ")} orders each (database ${bytes} at the end), ${os.availableParallelism()} cores\n`);
    console.log(
      table(
        ["figure", "unit", ...sizes.map((s) => `${s.toLocaleString("en")} orders`), "growth", "flat (≤ 2×)"],
        figures.map((f) => {
          const first = f.values[0]!;
          const last = f.values[f.values.length - 1]!;
          const growth = f.rate ? first / last : last / first;
          return [f.name, f.unit, ...f.values.map(fmt), `${growth.toFixed(2)}×`, f.mustBeFlat ? (growth <= 2 ? "yes" : "NO") : "measured"];
        }),
      ),
    );
    const postRow = figures[3]!.values;
    const pgRow = figures[13]!.values;
    console.log(`\nPOST req/s : pgbench tps at each size: ${postRow.map((v, i) => (Number.isNaN(pgRow[i]!) ? "-" : (v / pgRow[i]!).toFixed(3))).join(" → ")}`);
    await sql.end({ timeout: 5 });
    await handle.close();
  } finally {
    await stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
