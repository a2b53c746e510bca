/**
 * `npm run bench:engine`: throughput of the local engine on a throwaway embedded Postgres, in-process
 * transport, a 3-step function. Prints a table; asserts nothing (timings belong here, not in tests).
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { createDb } from "@/db/client";
import { ensureDatabase, startEmbeddedPostgres } from "@/db/embedded";
import { runMigrations } from "@/db/migrate";
import { startTestApp } from "./testing";

const SIZES = [100, 500];

async function main(): Promise<void> {
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
    console.table(rows);
    await app.stop();
    await handle.close();
  } finally {
    await pg.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
