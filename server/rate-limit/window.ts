import { and, eq, inArray, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { rateLimitCounters } from "@/db/schema";
import type { RateLimitResult } from "./consume";

// Limits over spans longer than a minute (per hour), on the same rate_limit_counters table as the
// one-minute windows. A sliding-window counter: the estimate is this window's count plus the previous
// window's count weighted by how much of it still lies within the last `windowMs`, so a burst across a
// window edge is not admitted twice (unlike a plain fixed window). Called inside the caller's
// transaction, an action that is refused and rolls back leaves the counters as they were.
//
// The housekeeping sweep drops rows whose window_start is more than RATE_LIMIT_SWEEP_AGE_MS old. A row
// of a longer window is therefore stored under the time it stops counting (its start plus two windows:
// it is read as the "previous" window during the next one), not under its start.

export interface WindowLimit {
  /** Distinct from the one-minute buckets: the window length is appended. */
  bucket: string;
  limit: number;
  windowMs: number;
}

interface Slot {
  bucket: string;
  current: Date;
  previous: Date;
  elapsedMs: number;
  windowEndMs: number;
}

function slot(w: WindowLimit, now: number): Slot {
  if (!Number.isInteger(w.windowMs) || w.windowMs <= 0) throw new Error(`windowMs must be a positive integer, got ${w.windowMs}`);
  const start = now - (now % w.windowMs);
  return {
    bucket: `${w.bucket}@${w.windowMs / 1000}s`,
    current: new Date(start + 2 * w.windowMs),
    previous: new Date(start + w.windowMs),
    elapsedMs: now - start,
    windowEndMs: start + w.windowMs,
  };
}

/** Rounded up: the estimate never admits more than the limit over any span of `windowMs`. */
function estimate(w: WindowLimit, s: Slot, current: number, previous: number): number {
  return current + Math.ceil((previous * (w.windowMs - s.elapsedMs)) / w.windowMs);
}

/** resetS: until this window ends (a hint: the previous window's weight keeps falling until then). */
function result(w: WindowLimit, s: Slot, used: number, allowed: boolean, now: number): RateLimitResult {
  return { allowed, limit: w.limit, remaining: Math.max(0, w.limit - used), resetS: Math.max(1, Math.ceil((s.windowEndMs - now) / 1000)) };
}

async function previousCount(db: DbOrTx, s: Slot): Promise<number> {
  const [row] = await db
    .select({ count: rateLimitCounters.count })
    .from(rateLimitCounters)
    .where(and(eq(rateLimitCounters.bucket, s.bucket), eq(rateLimitCounters.windowStart, s.previous)));
  return row?.count ?? 0;
}

/** Counts `cost` against the window and says whether the estimate is still within the limit. */
export async function consumeWindow(db: DbOrTx, w: WindowLimit, cost = 1, now = Date.now()): Promise<RateLimitResult> {
  const s = slot(w, now);
  const [row] = await db
    .insert(rateLimitCounters)
    .values({ bucket: s.bucket, windowStart: s.current, count: cost })
    .onConflictDoUpdate({ target: [rateLimitCounters.bucket, rateLimitCounters.windowStart], set: { count: sql`${rateLimitCounters.count} + ${cost}` } })
    .returning({ count: rateLimitCounters.count });
  const used = estimate(w, s, row!.count, await previousCount(db, s));
  return result(w, s, used, used <= w.limit, now);
}

/** The window as it stands, counting nothing: `allowed` is false once the estimate has reached the limit. */
export async function peekWindow(db: DbOrTx, w: WindowLimit, now = Date.now()): Promise<RateLimitResult> {
  const s = slot(w, now);
  const rows = await db
    .select({ at: rateLimitCounters.windowStart, count: rateLimitCounters.count })
    .from(rateLimitCounters)
    .where(and(eq(rateLimitCounters.bucket, s.bucket), inArray(rateLimitCounters.windowStart, [s.current, s.previous])));
  const count = (at: Date) => rows.find((r) => r.at.getTime() === at.getTime())?.count ?? 0;
  const used = estimate(w, s, count(s.current), count(s.previous));
  return result(w, s, used, used < w.limit, now);
}
