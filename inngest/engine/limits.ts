import { sql, type SQL } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import type { CallOutcome, OutgoingOp, SerializedError, StepResult } from "./protocol";

// Inngest's own limits, enforced by the local engine as Inngest's executor enforces them, so a function that
// would hit one in production hits it in development and tests too. Provenance: inngest/inngest, the file and
// constant named on each line (pkg/consts/consts.go unless said otherwise).

/** consts.MaxStepOutputSize: one op's output (`{"data":…}` / `{"error":…}`, GeneratorOpcode.Output). */
export const MAX_STEP_OUTPUT_BYTES = 4 * 1024 * 1024;
/** consts.DefaultMaxStateSizeLimit: the run's events plus every saved step output. */
export const MAX_RUN_STATE_BYTES = 32 * 1024 * 1024;
/** consts.DefaultMaxStepLimit: saved steps per run (Metrics.StepCount), and ops in one answer. */
export const MAX_STEPS_PER_RUN = 1_000;
/** consts.DefaultMaxEventSize: one event as sent (Inngest Cloud's default; a self-hosted server allows AbsoluteMaxEventSize, 3 MB). */
export const MAX_EVENT_BYTES = 512 * 1024;
/** consts.MinRetryDuration / consts.MaxRetryDuration: Retry-After is clamped to this range (httpdriver ParseRetry). */
export const RETRY_AFTER_MIN_MS = 1_000;
export const RETRY_AFTER_MAX_MS = 24 * 60 * 60 * 1000;
/** consts.MaxFunctionTimeout: the httpdriver cuts a call to the SDK after this (context.WithTimeout in do()). */
export const MAX_FUNCTION_TIMEOUT_MS = 2 * 60 * 60 * 1000;
/** consts.DefaultRetryCount: retries of a function that sets none (5 attempts). */
export const DEFAULT_RETRIES = 4;
/** consts.MaxRetries. */
export const MAX_RETRIES = 20;
/** pkg/headers HeaderKeySDK: every answer of an SDK carries it (headers.IsSDK). */
export const SDK_HEADER = "x-inngest-sdk";

/**
 * Bytes of a JSON text as Go's encoding/json writes it (what Inngest measures after json.Marshal): UTF-8, with
 * `<`, `>`, `&` escaped as `\u003c` (6 bytes, not 1) and U+2028/U+2029 as `\u2028` (6 bytes, not 3). Those
 * characters only occur inside strings in JSON.stringify's output.
 */
export function goJsonBytes(json: string): number {
  let extra = 0;
  for (const ch of json.matchAll(/[<>&\u2028\u2029]/g)) extra += ch[0] === "\u2028" || ch[0] === "\u2029" ? 3 : 5;
  return Buffer.byteLength(json, "utf8") + extra;
}

/** UTF-8 bytes of a value's JSON, as sent on the wire (event sizes are measured on the raw request bytes). */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? "null", "utf8");
}

/** An op's output size as GeneratorOpcode.Output() measures it (pkg/execution/state/opcode.go). */
export function stepOutputBytes(op: OutgoingOp): number {
  if (op.op === "StepError" || op.op === "StepFailed") return goJsonBytes(JSON.stringify({ error: op.error ?? null }));
  if (op.op === "StepRun") return goJsonBytes(JSON.stringify({ data: op.data ?? null }));
  return op.data === undefined || op.data === null ? 0 : goJsonBytes(JSON.stringify(op.data));
}

/** A memoized result's size in the run state (saved as `{"data":…}` or `{"error":…}`). */
export function stepResultBytes(result: StepResult): number {
  return goJsonBytes(JSON.stringify(result.type === "data" ? { data: result.data ?? null } : { error: result.error }));
}

/** The run's events as they count in Metrics.StateSize (`len(events)`: the JSON array of the run's events). */
export function runEventsBytes(event: Record<string, unknown>): number {
  return goJsonBytes(JSON.stringify([event]));
}

/** Retry-After (ms from now) clamped as Inngest's ParseRetry does; undefined stays undefined (default backoff). */
export function clampRetryAfterMs(ms: number | undefined): number | undefined {
  if (ms === undefined || !Number.isFinite(ms)) return undefined;
  return Math.min(RETRY_AFTER_MAX_MS, Math.max(RETRY_AFTER_MIN_MS, ms));
}

/** headers.IsSDK: the answer came from an Inngest SDK. */
export function isSdkResponse(headers: Headers): boolean {
  return (headers.get(SDK_HEADER) ?? "") !== "";
}

/**
 * httpdriver.HandleHttpResponse: a 2xx that does not carry X-Inngest-SDK did not come from the SDK (a proxy's
 * page, a wrong URL) and fails the attempt with ErrNotSDK (syscode not_sdk) instead of completing the run.
 * Retriable: ShouldRetry keeps retrying any status outside 4xx; the attempt counts. Undefined when it is fine.
 */
export function notSdkOutcome(status: number, headers: Headers): CallOutcome | undefined {
  if (status < 200 || status > 299 || isSdkResponse(headers)) return undefined;
  return { kind: "error", retriable: true, error: { ...LIMIT_ERROR.notSdk(), status } };
}

/** The errors Inngest reports when a limit is hit (names and messages as in its source). */
export const LIMIT_ERROR = {
  /** httpdriver ErrNotSDK (syscode.CodeNotSDK). */
  notSdk: (): SerializedError => ({ name: "not_sdk", message: "The response did not come from an Inngest SDK" }),
  /** httpdriver parseGenerator -> state.ErrStepOutputTooLarge: the whole answer is refused, an ordinary (retriable) failed attempt. */
  stepOutputTooLarge: (opId: string): SerializedError => ({
    name: "Error",
    message: `error validating generator opcode ${opId}: step output size is greater than the limit`,
  }),
  /** executor.validateStateSize -> state.ErrStateOverflowed (InngestErrStateOverflowed): fails the run, no retry. */
  stateOverflowed: (): SerializedError => ({
    name: "InngestErrStateOverflowed",
    message: `The function run exceeded the state size limit of ${MAX_RUN_STATE_BYTES} bytes.`,
    error: "state is too large",
  }),
  /** runValidator.checkStepLimit / HandleGeneratorResponse -> state.ErrFunctionOverflowed: fails the run, no retry. */
  functionOverflowed: (): SerializedError => ({
    name: "InngestErrFunctionOverflowed",
    message: `The function run exceeded the step limit of ${MAX_STEPS_PER_RUN} steps.`,
    error: "function has too many steps",
  }),
} as const;

/** An answer whose ops carry an output over MAX_STEP_OUTPUT_BYTES becomes a failed attempt, as parseGenerator makes it. */
export function enforceStepOutputLimit(outcome: CallOutcome): CallOutcome {
  if (outcome.kind !== "ops") return outcome;
  const big = outcome.ops.find((op) => stepOutputBytes(op) > MAX_STEP_OUTPUT_BYTES);
  if (!big) return outcome;
  return { kind: "error", retriable: true, retryAfterMs: outcome.retryAfterMs, error: LIMIT_ERROR.stepOutputTooLarge(big.id) };
}

/** pkg/eventstream ErrEventTooLarge: one event over MAX_EVENT_BYTES refuses the send (HTTP 400 on POST /e/:key). */
export class EventTooLargeError extends Error {
  constructor(readonly size: number) {
    super(`Event is over the max size: Max ${MAX_EVENT_BYTES} bytes / Size ${size} bytes`);
    this.name = "EventTooLargeError";
  }
}

/** Throws EventTooLargeError for the first event larger than MAX_EVENT_BYTES. */
export function assertEventSizes(events: unknown[]): void {
  for (const e of events) {
    const size = jsonBytes(e);
    if (size > MAX_EVENT_BYTES) throw new EventTooLargeError(size);
  }
}

/** Saved steps of a run (Inngest's Metrics.StepCount: every step with a result, whatever its op). */
export async function savedStepCount(tx: DbOrTx, runId: string): Promise<number> {
  const [row] = await tx.execute<{ n: number }>(sql`select count(*)::int as n from engine_steps where run_id = ${runId} and result is not null`);
  return Number(row?.n ?? 0);
}

/**
 * Whether saving `addingBytes` more would take the run's state over MAX_RUN_STATE_BYTES (executor.validateStateSize:
 * `outputSize + Metrics.StateSize > limit`, StateSize being the run's events plus every saved output). Postgres
 * first gives an upper bound (jsonb's text has a space after each `:` and `,`, and a stored result carries its
 * `type` tag; `<>&` and U+2028/9 are counted as Go escapes them); only when that bound is over the limit is the
 * exact size computed from the rows, so the usual step costs one aggregate query.
 */
export async function runStateExceeds(tx: DbOrTx, runId: string, addingBytes: number): Promise<boolean> {
  const bound = (column: SQL) =>
    sql`octet_length(${column}::text) + 5 * (length(${column}::text) - length(translate(${column}::text, '<>&', ''))) + 3 * (length(${column}::text) - length(translate(${column}::text, ${"\u2028\u2029"}, '')))`;
  const [row] = await tx.execute<{ bytes: string | number | null }>(sql`
    select (select ${bound(sql.raw("event"))} + 2 from engine_runs where id = ${runId})
         + coalesce((select sum(${bound(sql.raw("result"))}) from engine_steps where run_id = ${runId} and result is not null), 0) as bytes`);
  if (Number(row?.bytes ?? 0) + addingBytes <= MAX_RUN_STATE_BYTES) return false;
  const [run] = await tx.execute<{ event: Record<string, unknown> }>(sql`select event from engine_runs where id = ${runId}`);
  const steps = await tx.execute<{ result: StepResult }>(sql`select result from engine_steps where run_id = ${runId} and result is not null`);
  const exact = (run ? runEventsBytes(run.event) : 0) + steps.reduce((sum, s) => sum + stepResultBytes(s.result), 0);
  return exact + addingBytes > MAX_RUN_STATE_BYTES;
}
