import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { API_LOG_RETENTION_DAYS } from "./list";

// api_request_log keeps API_LOG_RETENTION_DAYS; the housekeeping sweep (server/maintenance/sweep.ts) deletes older
// rows in bounded batches, so one sweep never holds long locks on a busy table.

const DAY_MS = 86_400_000;

export async function sweepApiRequestLog(db: Db, opts: { batchRows: number; batchesMax: number; now?: Date }): Promise<number> {
  const cutoff = new Date((opts.now ?? new Date()).getTime() - API_LOG_RETENTION_DAYS * DAY_MS);
  let total = 0;
  for (let i = 0; i < opts.batchesMax; i++) {
    const rows = (await db.execute(sql`
      delete from api_request_log where ctid in (
        select ctid from api_request_log where created_at < ${cutoff.toISOString()}::timestamptz limit ${opts.batchRows})
      returning 1`)) as unknown as unknown[];
    total += rows.length;
    if (rows.length < opts.batchRows) break;
  }
  return total;
}
