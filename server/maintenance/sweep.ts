import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { sweepApiRequestLog } from "@/server/api-log/retention";
import { sweepSignInThrottles } from "@/server/auth/sign-in-throttle";
import { takeBalanceSnapshot } from "@/server/ledger/snapshots";
import type { ConnectorFor } from "@/server/payments/execution";
import { expireStaleCheckouts } from "@/server/payments/expire-checkouts";
import { sweepRateLimitCounters } from "@/server/rate-limit/consume";
import { redactStoredPspEvents } from "@/server/webhooks/redact-stored-psp-events";
import { SWEEP_BATCH_ROWS, SWEEP_BATCHES_MAX } from "./batches";
import { type RetentionCounts, sweepRetention } from "./retention";

// Housekeeping: idempotency records past their 24 h, old rate-limit windows, checkouts left unpaid, and raw
// PSP events stored before payloads were redacted (a batch per sweep until none is left), and API request log rows
// past their 30 days, and the retention of the append-only tables that are not money of record (./retention.ts).
// Deletes in bounded batches so one sweep never holds long locks on a busy table.

export { SWEEP_BATCH_ROWS, SWEEP_BATCHES_MAX } from "./batches";

/** Idempotency records past expires_at are dead: a key reused later starts over (Stripe keeps them 24 h). */
export async function sweepExpiredIdempotencyKeys(db: Db, now = new Date()): Promise<number> {
  let total = 0;
  for (let i = 0; i < SWEEP_BATCHES_MAX; i++) {
    const rows = (await db.execute(sql`
      delete from idempotency_keys where ctid in (
        select ctid from idempotency_keys where expires_at < ${now.toISOString()}::timestamptz and locked_at is null limit ${SWEEP_BATCH_ROWS})
      returning 1`)) as unknown as unknown[];
    total += rows.length;
    if (rows.length < SWEEP_BATCH_ROWS) break;
  }
  return total;
}

export async function sweepAll(
  db: Db,
  opts: { connectorFor?: ConnectorFor } = {},
): Promise<{ idempotencyKeys: number; expiredCheckouts: number; redactedPspEvents: number; apiRequestLog: number; balanceSnapshots: number; retention: RetentionCounts }> {
  const idempotencyKeys = await sweepExpiredIdempotencyKeys(db);
  await sweepRateLimitCounters(db);
  await sweepSignInThrottles(db);
  const expiredCheckouts = await expireStaleCheckouts(db, { connectorFor: opts.connectorFor });
  const redactedPspEvents = await redactStoredPspEvents(db);
  const apiRequestLog = await sweepApiRequestLog(db, { batchRows: SWEEP_BATCH_ROWS, batchesMax: SWEEP_BATCHES_MAX });
  // Ledger balances as of now − 15 min (server/ledger/snapshots.ts). A failure here does not stop the retention.
  const snapshot = await takeBalanceSnapshot(db).then(
    (r) => ({ ok: true as const, accounts: r.accounts }),
    (err: unknown) => ({ ok: false as const, err }),
  );
  // Each family at most SWEEP_BATCHES_MAX batches (bench:retention: ≈ 9 s for every family at its cap, 2 cores).
  const retention = await sweepRetention(db);
  if (!snapshot.ok) throw snapshot.err;
  const balanceSnapshots = snapshot.accounts;
  return { idempotencyKeys, expiredCheckouts, redactedPspEvents, apiRequestLog, balanceSnapshots, retention };
}
