// Shared by the ledger:* scripts: DATABASE_URL if set, else the embedded dev Postgres (as `npm run dev`
// starts it; a running dev server's Postgres is reused), migrated, stopped again when the script ends.
import { env } from "../server/env.js";
import { createDb, type Db } from "../db/client";
import { ensureDatabase, startEmbeddedPostgres } from "../db/embedded";
import { runMigrations } from "../db/migrate";

/** Same database name as scripts/dev.ts uses for the app. */
const APP_DATABASE = "paybridge";

export async function withLedgerDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  let url = env.DATABASE_URL;
  let stop = async () => {};
  if (!url) {
    const pg = await startEmbeddedPostgres({ dir: env.EMBEDDED_PG_DIR });
    stop = pg.stop;
    await ensureDatabase(pg.url, APP_DATABASE);
    url = pg.databaseUrl(APP_DATABASE);
    await runMigrations(url);
  }
  const handle = createDb(url, { max: 2 });
  try {
    return await fn(handle.db);
  } finally {
    await handle.close();
    await stop();
  }
}

export function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
