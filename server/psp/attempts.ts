// Every outbound PSP call is timed and recorded (psp_attempts) with a redacted request summary, the
// response code and latency — never keys, passwords, tokens or card data.
import { performance } from "node:perf_hooks";
import type { DbOrTx } from "@/db/client";
import { pspAttempts } from "@/db/schema";
import { log } from "@/server/observability/log";
import { observePspCall } from "@/server/observability/metrics";
import { findPans } from "./pan-scan";
import type { PspName } from "./types";

export type AttemptOutcome = "ok" | "psp_error" | "timeout" | "network_error";

export interface AttemptRecord {
  psp: PspName;
  operation: string;
  idempotencyKey?: string;
  request: Record<string, unknown>;
  outcome: AttemptOutcome;
  responseStatus?: number;
  errorCode?: string;
  pspObjectId?: string;
  pspRequestId?: string;
  latencyMs: number;
}

export type AttemptRecorder = (record: AttemptRecord) => Promise<void>;

/** Field names that never go into a summary, whatever a connector passes. */
const SENSITIVE_KEY = /secret|password|passkey|credential|authorization|token|api_?key|card|cvc|^pan$|number$/i;
const SUMMARY_DEPTH_MAX = 4;

export function redactSummary(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return findPans(value).length ? "[redacted]" : value;
  if (typeof value === "bigint") return value.toString();
  if (value === null || typeof value !== "object") return value;
  if (depth >= SUMMARY_DEPTH_MAX) return "[truncated]";
  if (Array.isArray(value)) return value.map((v) => redactSummary(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SENSITIVE_KEY.test(k) ? "[redacted]" : redactSummary(v, depth + 1);
  return out;
}

export async function recordPspAttempt(db: DbOrTx, record: AttemptRecord): Promise<void> {
  await db.insert(pspAttempts).values({
    psp: record.psp,
    operation: record.operation,
    idempotencyKey: record.idempotencyKey ?? null,
    request: redactSummary(record.request) as Record<string, unknown>,
    outcome: record.outcome,
    responseStatus: record.responseStatus ?? null,
    errorCode: record.errorCode ?? null,
    pspObjectId: record.pspObjectId ?? null,
    pspRequestId: record.pspRequestId ?? null,
    latencyMs: Math.max(0, Math.round(record.latencyMs)),
  });
}

export function dbAttemptRecorder(db: DbOrTx): AttemptRecorder {
  return (record) => recordPspAttempt(db, record);
}

export interface CallMeta {
  psp: PspName;
  operation: string;
  idempotencyKey?: string;
  request: Record<string, unknown>;
}

export interface CallFacts {
  outcome: AttemptOutcome;
  responseStatus?: number;
  errorCode?: string;
  pspObjectId?: string;
  pspRequestId?: string;
}

/**
 * Waits before each in-call retry of a refused connection: about 4 s in all, enough for a PSP endpoint (or the
 * sandbox) that is restarting. Longer outages are the durable step's retries (its backoff starts near 30 s).
 */
export const CONNECTION_REFUSED_RETRY_DELAYS_MS = [250, 500, 1_000, 2_000] as const;

/** A refused TCP connection (ECONNREFUSED anywhere in the error's cause chain): the request never left us. */
export function isConnectionRefused(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== "object" || depth > 4) return false;
  const e = err as { code?: unknown; errno?: unknown; detail?: unknown; cause?: unknown; raw?: unknown; errors?: unknown };
  if (e.code === "ECONNREFUSED") return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => isConnectionRefused(x, depth + 1))) return true;
  return [e.detail, e.cause, e.raw].some((x) => x !== err && isConnectionRefused(x, depth + 1));
}

/**
 * Runs one PSP call and records it, success or failure (every try its own row). If recording fails the error
 * propagates: the durable caller retries with the same idempotency key and the PSP replays its answer. A refused
 * connection is tried again here a few times first: nothing reached the PSP, so even a call without an idempotency
 * key (a Daraja reversal) cannot happen twice by it.
 */
export async function recordedCall<T>(record: AttemptRecorder, meta: CallMeta, call: () => Promise<T>, onOk: (r: T) => CallFacts, onError: (e: unknown) => CallFacts, retryDelaysMs: readonly number[] = CONNECTION_REFUSED_RETRY_DELAYS_MS): Promise<T> {
  for (let i = 0; ; i++) {
    const started = performance.now();
    try {
      const result = await call();
      await observedRecord(record, meta, onOk(result), performance.now() - started);
      return result;
    } catch (err) {
      await observedRecord(record, meta, onError(err), performance.now() - started);
      const wait = retryDelaysMs[i];
      if (wait === undefined || !isConnectionRefused(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** The metrics and the log line of every PSP call (paybridge_psp_call_*), then its psp_attempts row. */
async function observedRecord(record: AttemptRecorder, meta: CallMeta, facts: CallFacts, latencyMs: number): Promise<void> {
  observePspCall(meta.psp, meta.operation, facts.outcome, latencyMs / 1000);
  const line = { psp: meta.psp, operation: meta.operation, outcome: facts.outcome, responseStatus: facts.responseStatus, errorCode: facts.errorCode, pspObjectId: facts.pspObjectId, latencyMs: Math.round(latencyMs) };
  if (facts.outcome === "ok") log.debug(line, "psp call");
  else log.warn(line, "psp call failed");
  await record({ ...meta, ...facts, latencyMs });
}
