// Durations, retry backoff and the engine's clock. Production uses Inngest's backoff table; tests pass a
// short `backoff` so retries take milliseconds, never a fake timer.

const UNIT_MS: Record<string, number> = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** Parses the SDK's time strings ("1s", "2h30m10s", "1w") or an ISO date (sleepUntil), into an absolute ms time. */
export function resolveWakeAt(value: string, nowMs: number): number {
  const duration = parseDurationMs(value);
  if (duration !== undefined) return nowMs + duration;
  const at = Date.parse(value);
  if (Number.isFinite(at)) return at;
  throw new Error(`Unparseable duration or date ${JSON.stringify(value)}`);
}

export function parseDurationMs(value: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ms|w|d|h|m|s)/g;
  const trimmed = value.trim();
  if (!/^(\d+(?:\.\d+)?(ms|w|d|h|m|s))+$/.test(trimmed)) return undefined;
  let total = 0;
  for (const m of trimmed.matchAll(re)) total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  return total;
}

/**
 * Inngest's retry delays by attempt (inngest/inngest pkg/backoff BackoffTable, used by TableBackoff, the queue's
 * DefaultBackoff): 15 s … 2 h, the last entry for every later attempt, plus 0–30 s of random jitter.
 */
export const INNGEST_BACKOFF_TABLE_MS = [15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_200_000, 2_400_000, 3_600_000, 7_200_000] as const;
export const INNGEST_BACKOFF_JITTER_MS = 30_000;
/** Jitter of exponentialBackoff (tests and local runs). */
export const BACKOFF_JITTER_RATIO = 0.25;

/** Delay before attempt `nextAttempt` (1 = first retry). */
export type BackoffFn = (nextAttempt: number) => number;

/** TableBackoff(attempt that failed): nextAttempt 1 is table[0]. */
export const inngestBackoff: BackoffFn = (nextAttempt) => {
  const table = INNGEST_BACKOFF_TABLE_MS;
  const base = table[Math.max(0, Math.min(nextAttempt - 1, table.length - 1))] ?? table[0];
  return base + Math.floor(Math.random() * INNGEST_BACKOFF_JITTER_MS);
};

export function withJitter(baseMs: number, random: () => number = Math.random): number {
  return Math.round(baseMs + baseMs * BACKOFF_JITTER_RATIO * random());
}

/** baseMs doubled n times (n from 0), capped at maxMs. */
export function cappedDoubling(n: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(n, 30));
}

/** Exponential backoff from a small base, for tests and local runs that want fast retries. */
export function exponentialBackoff(baseMs: number, maxMs: number): BackoffFn {
  return (nextAttempt) => withJitter(cappedDoubling(nextAttempt - 1, baseMs, maxMs));
}
