import { lt, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { rateLimitCounters } from "@/db/schema";
import { isIdentifiedClient } from "@/server/http/client-ip";

// Fixed-window rate limiting on Postgres, shared by every app instance: one upsert per request and
// bucket. A fixed window allows up to 2x the limit across a window edge; that is acceptable here
// because the limit protects capacity, not money.

export const RATE_LIMIT_WINDOW_MS = 60_000;
export const RATE_LIMIT_SWEEP_AGE_MS = 10 * 60_000;

export interface RateLimitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window resets (for Retry-After). */
  resetS: number;
}

/** The start (ms) of the fixed window that holds `now`. */
export function rateLimitWindowStart(now: number): number {
  return now - (now % RATE_LIMIT_WINDOW_MS);
}

/** The verdict for a window's count that includes this request. */
export function rateLimitResult(count: number, limit: number, now = Date.now()): RateLimitResult {
  const resetS = Math.max(1, Math.ceil((rateLimitWindowStart(now) + RATE_LIMIT_WINDOW_MS - now) / 1000));
  return { allowed: count <= limit, limit, remaining: Math.max(0, limit - count), resetS };
}

export async function consumeRateLimit(db: DbOrTx, bucket: string, limit: number, now = Date.now()): Promise<RateLimitResult> {
  const windowStartMs = rateLimitWindowStart(now);
  const [row] = await db
    .insert(rateLimitCounters)
    .values({ bucket, windowStart: new Date(windowStartMs), count: 1 })
    .onConflictDoUpdate({
      target: [rateLimitCounters.bucket, rateLimitCounters.windowStart],
      set: { count: sql`${rateLimitCounters.count} + 1` },
    })
    .returning({ count: rateLimitCounters.count });
  return rateLimitResult(row!.count, limit, now);
}

/**
 * A per-client-IP limit: `${prefix}:${ip}`. A client the trusted proxies do not name (server/http/client-ip.ts
 * isIdentifiedClient) is not limited here: its bucket would be everyone's, and one noisy client would lock
 * everybody out. Per-key, per-email, per-checkout and per-card limits hold either way.
 */
export async function consumeClientRateLimit(db: DbOrTx, prefix: string, clientIp: string | undefined, limit: number, now = Date.now()): Promise<RateLimitResult> {
  if (!isIdentifiedClient(clientIp)) return { allowed: true, limit, remaining: limit, resetS: 0 };
  return consumeRateLimit(db, `${prefix}:${clientIp}`, limit, now);
}

/** Old windows are dead weight; a periodic job (or any caller) deletes them. */
export async function sweepRateLimitCounters(db: DbOrTx, now = Date.now()): Promise<void> {
  await db.delete(rateLimitCounters).where(lt(rateLimitCounters.windowStart, new Date(now - RATE_LIMIT_SWEEP_AGE_MS)));
}
