import { and, asc, inArray, isNull, lte, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { outboxEvents } from "@/db/schema";
import { DISPATCHER_HEARTBEAT, HEARTBEAT_INTERVAL_MS, newInstanceId, pruneHeartbeats, writeHeartbeat } from "@/server/observability/heartbeat";
import { log as logger, withLogContext } from "@/server/observability/log";

// Sends outbox rows to Inngest (the local engine or the real one) and marks them sent. Rows are locked
// (FOR UPDATE SKIP LOCKED) while sent, so dispatchers never send the same row concurrently. A crash after
// the send but before the commit leaves the row unsent: it is sent again with the same event id, and
// Inngest deduplicates by id (24 h). A failed send is retried with exponential backoff.
// Liveness: the loop upserts a process_heartbeats row every HEARTBEAT_INTERVAL_MS (its age is in /api/health);
// every batch is logged (pino) with its event ids.

export const OUTBOX_BATCH_SIZE = 100;
export const OUTBOX_POLL_MS = 500;
export const OUTBOX_RETRY_BASE_MS = 1000;
export const OUTBOX_RETRY_MAX_MS = 5 * 60_000;
export const OUTBOX_ERROR_MAX_LENGTH = 1000;
/** Event ids per log line (a full batch's ids would make one line of kilobytes). */
const LOGGED_IDS_MAX = 20;

export interface OutboxSendEvent {
  id: string;
  name: string;
  data: Record<string, unknown>;
  ts: number;
}
/** `(events) => inngest.send(events)` in the app. */
export type OutboxSend = (events: OutboxSendEvent[]) => Promise<unknown>;

export interface DispatchResult {
  sent: number;
  failed: number;
}

export function outboxRetryDelayMs(attempts: number): number {
  const base = Math.min(OUTBOX_RETRY_MAX_MS, OUTBOX_RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (1 + 0.25 * Math.random()));
}

export async function dispatchOnce(db: Db, send: OutboxSend, batchSize = OUTBOX_BATCH_SIZE): Promise<DispatchResult> {
  return db.transaction(async (tx) => {
    const rows = await tx
      .select()
      .from(outboxEvents)
      // The database's clock, as the default that set next_attempt_at: JS Dates are truncated to ms.
      .where(and(isNull(outboxEvents.sentAt), lte(outboxEvents.nextAttemptAt, sql`now()`)))
      .orderBy(asc(outboxEvents.createdAt), asc(outboxEvents.id))
      .limit(batchSize)
      .for("update", { skipLocked: true });
    if (rows.length === 0) return { sent: 0, failed: 0 };
    const ids = rows.map((r) => r.id);
    try {
      await send(rows.map((r) => ({ id: r.id, name: r.name, data: r.data, ts: r.createdAt.getTime() })));
    } catch (e) {
      const message = (e instanceof Error ? e.message : String(e)).slice(0, OUTBOX_ERROR_MAX_LENGTH);
      const attempts = (rows[0]?.attempts ?? 0) + 1;
      logger.warn({ eventIds: ids.slice(0, LOGGED_IDS_MAX), events: ids.length, attempts, error: message }, "outbox send failed; will retry with backoff");
      await tx
        .update(outboxEvents)
        .set({ attempts: sql`${outboxEvents.attempts} + 1`, lastError: message, nextAttemptAt: new Date(Date.now() + outboxRetryDelayMs(attempts)) })
        .where(inArray(outboxEvents.id, ids));
      return { sent: 0, failed: rows.length };
    }
    await tx
      .update(outboxEvents)
      .set({ sentAt: new Date(), attempts: sql`${outboxEvents.attempts} + 1`, lastError: null })
      .where(inArray(outboxEvents.id, ids));
    logger.debug({ eventIds: ids.slice(0, LOGGED_IDS_MAX), events: ids.length }, "outbox events sent");
    return { sent: rows.length, failed: 0 };
  });
}

export interface OutboxDispatcher {
  stop: () => Promise<void>;
  /** Dispatch now instead of at the next poll (after a commit that enqueued events). */
  nudge: () => void;
}

export interface DispatcherOptions {
  db: Db;
  send: OutboxSend;
  pollMs?: number;
  /** Human-readable lines besides the JSON log (the dev script's console). */
  log?: (m: string) => void;
  /** Liveness beats (default on, every HEARTBEAT_INTERVAL_MS); false in tests that count queries. */
  heartbeat?: false | { intervalMs?: number; instanceId?: string };
}

export function startOutboxDispatcher(opts: DispatcherOptions): OutboxDispatcher {
  let running = true;
  let wake: (() => void) | null = null;
  const beatEvery = opts.heartbeat === false ? undefined : (opts.heartbeat?.intervalMs ?? HEARTBEAT_INTERVAL_MS);
  const instanceId = (opts.heartbeat && opts.heartbeat.instanceId) || newInstanceId();
  let lastBeat = -Infinity;
  const beat = async () => {
    if (beatEvery === undefined || performance.now() - lastBeat < beatEvery) return;
    const first = lastBeat === -Infinity;
    lastBeat = performance.now();
    try {
      await writeHeartbeat(opts.db, DISPATCHER_HEARTBEAT, instanceId);
      if (first) await pruneHeartbeats(opts.db, DISPATCHER_HEARTBEAT);
    } catch (e) {
      logger.warn({ err: e }, "outbox dispatcher heartbeat failed");
    }
  };
  const loop = withLogContext({ component: "outbox-dispatcher", instanceId }, async () => {
    logger.info({ heartbeatMs: beatEvery ?? null }, "outbox dispatcher started");
    while (running) {
      let more = false;
      await beat();
      try {
        const r = await dispatchOnce(opts.db, opts.send);
        more = r.sent === OUTBOX_BATCH_SIZE;
        if (r.failed > 0) opts.log?.(`[outbox] ${r.failed} event(s) failed to send; will retry with backoff`);
      } catch (e) {
        logger.error({ err: e }, "outbox dispatch failed");
        opts.log?.(`[outbox] dispatch failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (!more && running) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, opts.pollMs ?? OUTBOX_POLL_MS);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    }
    logger.info("outbox dispatcher stopped");
  });
  return {
    nudge: () => wake?.(),
    stop: async () => {
      running = false;
      wake?.();
      await loop;
    },
  };
}
