/**
 * Test fixture (postgres-outage.integration-test.ts): a process that keeps `WORKERS` queries in flight
 * through createDb's pool, forever, and prints a JSON status line every 100 ms. A query that fails (the
 * database went away) is counted and retried; the process must survive the outage and its pool serve
 * again once Postgres is back. It installs no uncaughtException handler: a driver crash kills it, visibly.
 * Usage: node --import tsx inngest/engine/testing-pg-load.ts <database-url>
 */
import { sql } from "drizzle-orm";
import { createDb } from "@/db/client";

const WORKERS = 24;
const url = process.argv[2];
if (!url) throw new Error("database url required");
const { db } = createDb(url, { max: 8 });
const stats = { ok: 0, errors: 0, lastError: "" };

async function worker(i: number): Promise<never> {
  for (;;) {
    try {
      // Small statements (< 1 KiB: postgres.js buffers them for a setImmediate write) and a short sleep;
      // every other worker in transactions (a reserved connection, as the engine's claims and applies are).
      if (i % 2 === 0) await db.execute(sql`select pg_sleep(0.002), ${i}::int as w`);
      else await db.transaction(async (tx) => {
        await tx.execute(sql`select ${i}::int as w`);
        await tx.execute(sql`select pg_sleep(0.002)`);
      });
      stats.ok += 1;
    } catch (e) {
      stats.errors += 1;
      stats.lastError = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

setInterval(() => console.log(JSON.stringify(stats)), 100);
for (let i = 0; i < WORKERS; i++) void worker(i);
