// /api/health (app/api/health/route.ts): each part of the platform checked in parallel, each within its own
// deadline, so the answer comes within a second even when Postgres is gone. Contract (docs/operations.md):
// 503 when the database is unreachable (the app cannot serve), else 200 with status "ok" or "degraded" — the
// dev script waits for a 200 before it starts the dispatcher, so a dispatcher that is down must not 503.
// Public: states, ages and counts only; never a URL, a host, an error message or a stack.
import type { ObservabilitySql } from "./db";
import { readHeartbeat, readOutboxLag } from "./db-gauges";
import { DISPATCHER_HEARTBEAT, HEARTBEAT_STALE_S } from "./heartbeat";
import { DeadlineExceeded, withDeadline } from "./timeout";

export const HEALTH_CHECK_DEADLINE_MS = 800;
/** Outbox events older than this while the dispatcher beats: degraded (events are not reaching Inngest). */
export const OUTBOX_LAG_DEGRADED_S = 60;

export type PartState = "up" | "down" | "degraded" | "unknown" | "not_checked";
/** Why a part is not up, in fixed words (never an error's own message). */
export type PartReason = "timeout" | "unreachable" | "error" | "no heartbeat" | "heartbeat stale" | "outbox lag" | "database unreachable" | "not configured";

export interface PartHealth {
  state: PartState;
  reason?: PartReason;
  latencyMs?: number;
  [fact: string]: unknown;
}

export interface HealthTargets {
  /** A trivial query through the app's own pool (what serving needs). */
  pingDatabase: () => Promise<unknown>;
  /** The observability pool for the dispatcher facts; undefined without DATABASE_URL. */
  sql?: ObservabilitySql;
  engine: { kind: "local"; url: string } | { kind: "inngest" };
  psp: { mode: "sandbox"; url: string } | { mode: "live" };
  deadlineMs?: number;
  fetch?: typeof fetch;
}

export interface HealthReport {
  /** HTTP 200 (the app can serve). Kept for callers of the first /api/health. */
  ok: boolean;
  status: "ok" | "degraded" | "down";
  /** Parts whose state is down (or unknown because the database is). */
  down: string[];
  error?: string;
  checkedInMs: number;
  parts: { database: PartHealth; engine: PartHealth; dispatcher: PartHealth; psp: PartHealth };
}

function reasonOf(err: unknown): PartReason {
  return err instanceof DeadlineExceeded ? "timeout" : "unreachable";
}

async function timed<T>(fn: () => Promise<T>, ms: number): Promise<{ value: T; latencyMs: number }> {
  const started = performance.now();
  const value = await withDeadline(fn, ms);
  return { value, latencyMs: Math.round(performance.now() - started) };
}

/** Up on any HTTP answer below 500 at url (it is reachable and serving). */
async function checkHttp(url: string, ms: number, f: typeof fetch): Promise<PartHealth> {
  try {
    const { value: status, latencyMs } = await timed(async () => (await f(url, { signal: AbortSignal.timeout(ms), cache: "no-store" })).status, ms);
    return status < 500 ? { state: "up", latencyMs } : { state: "down", reason: "error", latencyMs };
  } catch (err) {
    return { state: "down", reason: reasonOf(err) };
  }
}

async function checkDatabase(t: HealthTargets, ms: number): Promise<PartHealth> {
  try {
    const { latencyMs } = await timed(t.pingDatabase, ms);
    return { state: "up", latencyMs };
  } catch (err) {
    return { state: "down", reason: reasonOf(err) };
  }
}

async function checkDispatcher(t: HealthTargets, ms: number): Promise<PartHealth> {
  if (!t.sql) return { state: "unknown", reason: "database unreachable" };
  const sql = t.sql;
  try {
    const { value } = await timed(() => Promise.all([readHeartbeat(sql, DISPATCHER_HEARTBEAT, HEARTBEAT_STALE_S), readOutboxLag(sql)]), ms);
    const [beat, lag] = value;
    const facts = { lastBeatAgeS: beat.lastBeatAgeS === null ? null : round1(beat.lastBeatAgeS), liveInstances: beat.liveInstances, outboxPending: lag.pending, outboxLagS: round1(lag.oldestAgeS) };
    if (beat.lastBeatAgeS === null) return { state: "down", reason: "no heartbeat", ...facts };
    if (beat.lastBeatAgeS > HEARTBEAT_STALE_S) return { state: "down", reason: "heartbeat stale", ...facts };
    if (lag.oldestAgeS > OUTBOX_LAG_DEGRADED_S) return { state: "degraded", reason: "outbox lag", ...facts };
    return { state: "up", ...facts };
  } catch (err) {
    return { state: "unknown", reason: reasonOf(err) };
  }
}

const round1 = (n: number) => Math.round(n * 10) / 10;

export async function checkHealth(t: HealthTargets): Promise<{ httpStatus: 200 | 503; report: HealthReport }> {
  const started = performance.now();
  const ms = t.deadlineMs ?? HEALTH_CHECK_DEADLINE_MS;
  const f = t.fetch ?? fetch;
  const [database, engine, dispatcher, psp] = await Promise.all([
    checkDatabase(t, ms),
    t.engine.kind === "local" ? checkHttp(`${t.engine.url.replace(/\/+$/, "")}/health`, ms, f).then((p) => ({ kind: "local", ...p })) : Promise.resolve<PartHealth>({ state: "not_checked", kind: "inngest" }),
    checkDispatcher(t, ms),
    t.psp.mode === "sandbox" ? checkHttp(`${t.psp.url.replace(/\/+$/, "")}/_sandbox/identity`, ms, f).then((p) => ({ mode: "sandbox", ...p })) : Promise.resolve<PartHealth>({ state: "not_checked", mode: "live" }),
  ]);
  // With the database gone the dispatcher's facts cannot be read: unknown, not its fault.
  const parts = { database, engine, dispatcher: database.state === "down" && dispatcher.state === "unknown" ? { state: "unknown" as const, reason: "database unreachable" as const } : dispatcher, psp };
  const down = Object.entries(parts)
    .filter(([, p]) => p.state === "down")
    .map(([name]) => name);
  const dbDown = database.state === "down";
  const degraded = Object.values(parts).some((p) => p.state !== "up" && p.state !== "not_checked");
  const report: HealthReport = {
    ok: !dbDown,
    status: dbDown ? "down" : degraded ? "degraded" : "ok",
    down,
    ...(dbDown ? { error: "database unreachable" } : {}),
    checkedInMs: Math.round(performance.now() - started),
    parts,
  };
  return { httpStatus: dbDown ? 503 : 200, report };
}
