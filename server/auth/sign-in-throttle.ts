import { and, eq, isNull, lt, or } from "drizzle-orm";
import type { Db, DbOrTx } from "@/db/client";
import { signInThrottles } from "@/db/schema";
import { consumeClientRateLimit, consumeRateLimit } from "@/server/rate-limit/consume";

// Password guessing limits, checked before the password is (server/auth/config.ts), in this order:
//   1. per client IP, across emails (spraying): SIGNIN_ATTEMPTS_PER_IP a minute (only for a client the trusted
//      proxies name: consumeClientRateLimit);
//   2. per (email, client IP): SIGNIN_FREE_FAILURES_PER_CLIENT failures, then each further try waits, twice
//      as long each time (SIGNIN_LOCK_BASE_MS up to SIGNIN_LOCK_MAX_MS). Only that client waits: failures from
//      one client never lock the account's owner out of another. A success clears that client's count;
//      a client quiet for SIGNIN_FAILURE_MEMORY_MS starts over;
//   3. per email, across all clients: SIGNIN_ATTEMPTS_PER_EMAIL a minute, far above what one client may
//      try, so only a distributed attack reaches it. Tries refused by 2. never count towards it.
// Each try is counted as a failure before the password is checked (under a row lock), so parallel guesses
// cannot slip past the lockout; recordSignInSuccess undoes it.

export const SIGNIN_ATTEMPTS_PER_IP = 50;
export const SIGNIN_FREE_FAILURES_PER_CLIENT = 5;
export const SIGNIN_LOCK_BASE_MS = 30_000;
export const SIGNIN_LOCK_MAX_MS = 60 * 60_000;
export const SIGNIN_FAILURE_MEMORY_MS = 24 * 60 * 60_000;
export const SIGNIN_ATTEMPTS_PER_EMAIL = 100;

export interface SignInLimits {
  perIpPerMinute: number;
  freeFailuresPerClient: number;
  lockBaseMs: number;
  lockMaxMs: number;
  failureMemoryMs: number;
  perEmailPerMinute: number;
}
export const SIGN_IN_LIMITS: SignInLimits = {
  perIpPerMinute: SIGNIN_ATTEMPTS_PER_IP,
  freeFailuresPerClient: SIGNIN_FREE_FAILURES_PER_CLIENT,
  lockBaseMs: SIGNIN_LOCK_BASE_MS,
  lockMaxMs: SIGNIN_LOCK_MAX_MS,
  failureMemoryMs: SIGNIN_FAILURE_MEMORY_MS,
  perEmailPerMinute: SIGNIN_ATTEMPTS_PER_EMAIL,
};

export interface SignInAttempt {
  /** Normalised (trimmed, lower-case), so case variants share one count. */
  email: string;
  clientIp: string;
}
export type SignInAdmission = { allowed: true } | { allowed: false; retryAfterS: number };

/** The lock after `failures` failures from one client: none below the free allowance, then doubling. */
export function lockDurationMs(failures: number, limits: SignInLimits = SIGN_IN_LIMITS): number {
  if (failures < limits.freeFailuresPerClient) return 0;
  const doublings = Math.min(failures - limits.freeFailuresPerClient, 30);
  return Math.min(limits.lockMaxMs, limits.lockBaseMs * 2 ** doublings);
}

/** Counts this try as one more failure of (email, client), unless that client is locked out. */
async function reserveClientAttempt(db: Db, attempt: SignInAttempt, now: Date, limits: SignInLimits): Promise<SignInAdmission> {
  return db.transaction(async (tx) => {
    const key = and(eq(signInThrottles.email, attempt.email), eq(signInThrottles.clientIp, attempt.clientIp));
    await tx.insert(signInThrottles).values({ ...attempt, failures: 0, lastAttemptAt: now }).onConflictDoNothing();
    const [row] = await tx.select().from(signInThrottles).where(key).for("update");
    if (!row) throw new Error("sign_in_throttles row vanished under its lock");
    if (row.lockedUntil && row.lockedUntil > now) {
      return { allowed: false, retryAfterS: Math.ceil((row.lockedUntil.getTime() - now.getTime()) / 1000) };
    }
    const forgotten = now.getTime() - row.lastAttemptAt.getTime() > limits.failureMemoryMs;
    const failures = (forgotten ? 0 : row.failures) + 1;
    const lockMs = lockDurationMs(failures, limits);
    await tx
      .update(signInThrottles)
      .set({ failures, lockedUntil: lockMs > 0 ? new Date(now.getTime() + lockMs) : null, lastAttemptAt: now })
      .where(key);
    return { allowed: true };
  });
}

/**
 * May this try go on to the password check? Refused tries say how long to wait. An allowed try counts as a
 * failure of its client until recordSignInSuccess.
 */
export async function admitSignInAttempt(db: Db, attempt: SignInAttempt, opts: { now?: Date; limits?: SignInLimits } = {}): Promise<SignInAdmission> {
  const now = opts.now ?? new Date();
  const limits = opts.limits ?? SIGN_IN_LIMITS;
  const byIp = await consumeClientRateLimit(db, "signin-ip", attempt.clientIp, limits.perIpPerMinute, now.getTime());
  if (!byIp.allowed) return { allowed: false, retryAfterS: byIp.resetS };
  const byClient = await reserveClientAttempt(db, attempt, now, limits);
  if (!byClient.allowed) return byClient;
  const byEmail = await consumeRateLimit(db, `signin:${attempt.email}`, limits.perEmailPerMinute, now.getTime());
  if (!byEmail.allowed) return { allowed: false, retryAfterS: byEmail.resetS };
  return { allowed: true };
}

/** The right password: that client's failures are forgotten (other clients' are not). */
export async function recordSignInSuccess(db: DbOrTx, attempt: SignInAttempt): Promise<void> {
  await db.delete(signInThrottles).where(and(eq(signInThrottles.email, attempt.email), eq(signInThrottles.clientIp, attempt.clientIp)));
}

/** What the sign-in form shows a refused try. */
export function signInRefusalMessage(retryAfterS: number): string {
  const wait = retryAfterS <= 60 ? `${retryAfterS} second${retryAfterS === 1 ? "" : "s"}` : `${Math.ceil(retryAfterS / 60)} minutes`;
  return `Too many sign-in attempts. Try again in ${wait}.`;
}

/** Counts past their memory and not locked are dead weight (the hourly housekeeping sweep may call this). */
export async function sweepSignInThrottles(db: DbOrTx, now = new Date()): Promise<void> {
  await db
    .delete(signInThrottles)
    .where(
      and(
        lt(signInThrottles.lastAttemptAt, new Date(now.getTime() - SIGNIN_FAILURE_MEMORY_MS)),
        or(isNull(signInThrottles.lockedUntil), lt(signInThrottles.lockedUntil, now)),
      ),
    );
}
