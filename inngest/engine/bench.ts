/**
 * `npm run bench:engine`: throughput of the local engine on a throwaway embedded Postgres, in-process
 * transport, a 3-step function. Prints a table; asserts nothing (timings belong here, not in tests). Beside it,
 * in the same run and on the same server, pgbench (TPC-B-like) at 1, 8 and 32 clients, and runs/s as a ratio to
 * the best of them. Flags: --pgbench-seconds S (per client count, default 5; 0 skips it), --pgbench PATH.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { createDb } from "@/db/client";
import { ensureDatabase, startEmbeddedPostgres } from "@/db/embedded";
import { runMigrations } from "@/db/migrate";
import { findPgbench, pgbenchSweep, ratio, table } from "../../bench/pgbench";
import { startTestApp } from "./testing";

const SIZES = [100, 500];

async function main(): Promise<void> {
  const i = process.argv.indexOf("--pgbench-seconds");
  const pgbenchSeconds = i >= 0 ? Number(process.argv[i + 1]) : 5;
  const tmp = await mkdtemp(path.join(os.tmpdir(), "paybridge-bench-engine-"));
  const pg = await startEmbeddedPostgres({ dir: path.join(tmp, "pg"), port: 56_400, fast: true });
  try {
    await ensureDatabase(pg.url, "bench");
    const url = pg.databaseUrl("bench");
    await runMigrations(url);
    const handle = createDb(url, { max: 20 });
    const app = await startTestApp({
      db: handle.db,
      concurrency: 16,
      functions: (client) => [
        client.createFunction({ id: "three", triggers: [{ event: "bench/go" }] }, async ({ step }) => {
          const a = await step.run("a", () => 1);
          const b = await step.run("b", () => a + 1);
          return step.run("c", () => b + 1);
        }),
      ],
    });
    const rows: { runs: number; seconds: string; runsPerSec: string; stepsPerSec: string }[] = [];
    for (const n of SIZES) {
      await handle.db.execute(sql`truncate engine_runs cascade`);
      const t0 = Date.now();
      await app.client.send(Array.from({ length: n }, (_, i) => ({ name: "bench/go", data: { i } })));
      for (;;) {
        const [r] = await handle.db.execute<{ n: number }>(sql`select count(*)::int as n from engine_runs where status = 'completed'`);
        if ((r?.n ?? 0) >= n) break;
        await new Promise((res) => setTimeout(res, 20));
      }
      const s = (Date.now() - t0) / 1000;
      rows.push({ runs: n, seconds: s.toFixed(2), runsPerSec: (n / s).toFixed(1), stepsPerSec: ((n * 3) / s).toFixed(1) });
    }
    await app.stop();
    await handle.close();
    console.error(`pgbench (${pgbenchSeconds} s per client count) on the same server…`);
    await ensureDatabase(pg.url, "pgbench");
    const pgb = pgbenchSweep(findPgbench(), pg.databaseUrl("pgbench"), pgbenchSeconds);
    const best = "best" in pgb ? pgb.best : undefined;
    console.log(`\nlocal engine, 3-step runs (${os.availableParallelism()} CPUs, embedded Postgres fsync=off)\n`);
    console.log(table(["runs", "seconds", "runs/s", "steps/s", "runs/s : pgbench best tps"], rows.map((r) => [String(r.runs), r.seconds, r.runsPerSec, r.stepsPerSec, ratio(Number(r.runsPerSec), best)])));
    if ("runs" in pgb) console.log(`\npgbench tpcb-like, same server, same run: ${pgb.runs.map((r) => `${r.clients} clients ${r.tps.toFixed(0)} tps`).join(", ")} (best ${best!.toFixed(0)})`);
    else console.log(`\npgbench skipped: ${pgb.skipped}`);
  } finally {
    await pg.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
