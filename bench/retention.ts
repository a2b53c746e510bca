/**
 * `npm run bench:retention -- --rows N` — the retention sweeps (server/maintenance/retention.ts) on N rows per table,
 * seeded set-based (test/retention-seed.ts: 9 in 10 past their period, 1 in 10 inside it; engine runs with 3 steps
 * and an attempt each, deliveries with an attempt each). sweepRetention runs, as the hourly housekeeping would, until
 * a sweep deletes nothing; the table gives rows deleted, seconds and rows/s per family, beside pgbench (TPC-B-like) on
 * the same Postgres in the same run (the ratio column, as in the other benches).
 * Runs on a throwaway embedded Postgres (fast mode) in a temp dir, stopped at the end.
 * Flags: --rows N (default 100000), --pgbench-seconds S (default 10; 0 skips it), --pgbench PATH. Not part of `npm test`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { createDb } from "../db/client";
import { ensureDatabase, startEmbeddedPostgres } from "../db/embedded";
import { runMigrations } from "../db/migrate";
import { merchants, webhookEndpoints } from "../db/schema";
import {
  sweepEngineEvents,
  sweepEngineRuns,
  sweepMerchantEvents,
  sweepOutboxEvents,
  sweepPspEvents,
  sweepWebhookDeliveries,
} from "../server/maintenance/retention";
import { seedRetentionRows } from "../test/retention-seed";
import { nonNegativeInt } from "./card-flow";
import { findPgbench, pgbench, ratio, table } from "./pgbench";

const ROWS_DEFAULT = 100_000;
const PGBENCH_SECONDS_DEFAULT = 10;
const KEEP_EVERY = 10;
/** Sweeps per family before the bench gives up (each sweep is at most SWEEP_BATCHES_MAX batches). */
const SWEEPS_MAX = 1_000;

async function main(): Promise<void> {
  const rows = nonNegativeInt("--rows", ROWS_DEFAULT);
  const pgbenchSeconds = nonNegativeInt("--pgbench-seconds", PGBENCH_SECONDS_DEFAULT);
  const tmp = await mkdtemp(path.join(os.tmpdir(), "paybridge-bench-pg-"));
  const pg = await startEmbeddedPostgres({ dir: path.join(tmp, "pg"), fast: true });
  const handle = createDb(pg.databaseUrl("bench"));
  try {
    await ensureDatabase(pg.url, "bench");
    await runMigrations(pg.databaseUrl("bench"));
    const db = handle.db;
    const now = new Date();
    const [m] = await db.insert(merchants).values({ name: "Bench merchant", country: "KE", defaultCurrency: "KES" }).returning();
    const [ep] = await db.insert(webhookEndpoints).values({ merchantId: m!.id, url: "https://example.test/hook", secretEncrypted: "v1.bench" }).returning();
    let t0 = performance.now();
    await seedRetentionRows(db, { rows, now, keepEvery: KEEP_EVERY, tag: "b", merchantId: m!.id, endpointId: ep!.id });
    await db.execute(sql`analyze`);
    console.error(`seeded ${rows} rows per table in ${((performance.now() - t0) / 1000).toFixed(1)} s (set-based)`);

    const families: [string, () => Promise<number>][] = [
      ["outbox_events", () => sweepOutboxEvents(db, { now })],
      ["engine_runs (+3 steps, 1 attempt)", () => sweepEngineRuns(db, { now })],
      ["engine_events", () => sweepEngineEvents(db, { now })],
      ["webhook_deliveries (+1 attempt)", async () => (await sweepWebhookDeliveries(db, { now })).deliveries],
      ["merchant_events (after their deliveries)", () => sweepMerchantEvents(db, { now })],
      ["psp_events", () => sweepPspEvents(db, { now })],
    ];
    const results: { name: string; deleted: number; sweeps: number; seconds: number; worstSweepS: number }[] = [];
    for (const [name, sweep] of families) {
      let deleted = 0;
      let sweeps = 0;
      let worst = 0;
      t0 = performance.now();
      for (; sweeps < SWEEPS_MAX; ) {
        const s0 = performance.now();
        const n = await sweep();
        worst = Math.max(worst, (performance.now() - s0) / 1000);
        sweeps++;
        deleted += n;
        if (n === 0) break;
      }
      results.push({ name, deleted, sweeps, seconds: (performance.now() - t0) / 1000, worstSweepS: worst });
      console.error(`${name}: ${deleted} deleted`);
    }
    const expected = rows - Math.floor(rows / KEEP_EVERY);
    for (const r of results) if (r.deleted !== expected) throw new Error(`${r.name}: deleted ${r.deleted}, expected ${expected}`);

    console.error(`pgbench (${pgbenchSeconds} s, 8 clients) on the same server…`);
    await ensureDatabase(pg.url, "pgbench");
    const pgb = pgbench(findPgbench(), pg.databaseUrl("pgbench"), pgbenchSeconds);
    const head = ["table", "rows deleted", "sweeps", "seconds", "rows/s", "slowest sweep s", "rows/s : pgbench tps"];
    const body = results.map((r) => {
      const perSecond = r.deleted / r.seconds;
      return [r.name, String(r.deleted), String(r.sweeps), r.seconds.toFixed(2), perSecond.toFixed(0), r.worstSweepS.toFixed(2), "tps" in pgb ? ratio(perSecond, pgb.tps) : "n/a"];
    });
    console.log(`\nretention sweeps, ${rows} rows per table (${expected} past their period), cores ${os.availableParallelism()}, embedded Postgres fsync=off\n`);
    console.log(table(head, body));
    console.log("tps" in pgb ? `\npgbench tpcb-like, 8 clients, same server: ${pgb.tps.toFixed(0)} tps` : `\npgbench skipped: ${pgb.skipped}`);
  } finally {
    await handle.close();
    await pg.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
