import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { notSdkOutcome } from "./limits";

// The wire shapes of Inngest's SDK <-> executor protocol, as the `inngest` SDK 4.24.0 speaks them
// (InngestCommHandler / execution engine). protocol.contract.test.ts pins these against the installed SDK:
// if an SDK upgrade changes them, that test fails before the engine silently misbehaves.

export const SDK_VERSION_PINNED = "4.24.0";
/** Request body `version`: 2 lets the SDK plan parallel steps (V2 execution). */
export const EXECUTION_VERSION = 2;

export const HEADER = {
  signature: "x-inngest-signature",
  noRetry: "x-inngest-no-retry",
  retryAfter: "retry-after",
  requestVersion: "x-inngest-req-version",
  syncKind: "x-inngest-sync-kind",
  eventIdSeed: "x-inngest-event-id-seed",
  serverKind: "x-inngest-server-kind",
  expectedServerKind: "x-inngest-expected-server-kind",
  /** Per outbound call, as Inngest's driver sends it (the SDK echoes it in its checkpoints). */
  requestId: "x-request-id",
  /** The queue item's id (Inngest: stable job id); the SDK reads it into ctx.jobId. */
  jobId: "x-inngest-job-id",
  stepId: "x-inngest-step-id",
  /** On every SDK answer (`inngest-js:v4.24.0`). */
  sdk: "x-inngest-sdk",
} as const;

export const OP = {
  StepRun: "StepRun",
  StepError: "StepError",
  StepFailed: "StepFailed",
  StepPlanned: "StepPlanned",
  Sleep: "Sleep",
  WaitForEvent: "WaitForEvent",
  InvokeFunction: "InvokeFunction",
  RunComplete: "RunComplete",
  StepNotFound: "StepNotFound",
  /** The SDK asks for another discovery call (Inngest: handleGeneratorDiscoveryRequest). */
  DiscoveryRequest: "DiscoveryRequest",
  /** enums.OpcodeNone: an explicit empty answer (`206 []`); ends this path of execution. */
  None: "None",
} as const;

export const INTERNAL_EVENT = {
  functionFailed: "inngest/function.failed",
  /** Inngest consts.FnCancelledName: ingested when a run is cancelled (runs.ts cancelRun). */
  functionCancelled: "inngest/function.cancelled",
  /** Inngest consts.FnFinishedName (not emitted by the local engine; a run triggered by it never cascades). */
  functionFinished: "inngest/function.finished",
  functionInvoked: "inngest/function.invoked",
  scheduledTimer: "inngest/scheduled.timer",
} as const;

/** A memoized step result as the SDK's stepSchema reads it (always tagged: raw data could look like a tag). */
export type StepResult = { type: "data"; data: unknown } | { type: "error"; error: SerializedError };
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  [k: string]: unknown;
}

export interface CallRequestBody {
  version: number;
  event: Record<string, unknown>;
  events: Record<string, unknown>[];
  steps: Record<string, StepResult>;
  /** Inngest's defer entries (step.defer); the engine supports no defers, so always empty. */
  defers: Record<string, never>;
  use_api: false;
  ctx: {
    fn_id?: string;
    run_id: string;
    env: string;
    step_id: string;
    attempt: number;
    max_attempts: number;
    stack: { stack: string[]; current: number };
    qi_id?: string;
    request_id?: string;
    job_id?: string;
    disable_immediate_execution: boolean;
    use_api: false;
  };
}

/**
 * The call body as Inngest's driver builds it (pkg/execution/driver: MarshalV1 / SDKRequestContext): `ctx.fn_id`
 * (the function's UUID) and `ctx.qi_id` (the queue item being executed) are always sent, so the SDK runs in
 * its AsyncCheckpointing mode as it does in production: a discovery call executes steps in-process and
 * POSTs each result to `/v1/checkpoint/{runId}/async` (server.ts, checkpoint.ts) before answering.
 * `qi_id` is the job's lease token: it changes on every claim, so a worker that lost its lease is refused.
 * The executor always passes all four ids; a body built without fnId/queueItemId (a hand-made request in a
 * test) is the pre-checkpointing shape, which the SDK answers step by step.
 */
export function buildCallBody(input: {
  runId: string;
  event: Record<string, unknown>;
  steps: Record<string, StepResult>;
  stack: string[];
  attempt: number;
  maxAttempts: number;
  /** functionUuid(fn.id) */
  fnId?: string;
  /** The lease token of the job being executed. */
  queueItemId?: string;
  requestId?: string;
  jobId?: string;
  /** Inngest's ForceStepPlan (see the executor's forceStepPlan); false when omitted. */
  disableImmediateExecution?: boolean;
}): CallRequestBody {
  return {
    version: EXECUTION_VERSION,
    event: input.event,
    events: [input.event],
    steps: input.steps,
    defers: {},
    use_api: false,
    ctx: {
      fn_id: input.fnId,
      run_id: input.runId,
      env: "",
      step_id: "step",
      attempt: input.attempt,
      max_attempts: input.maxAttempts,
      stack: { stack: input.stack, current: Math.max(0, input.stack.length - 1) },
      qi_id: input.queueItemId,
      request_id: input.requestId,
      job_id: input.jobId,
      disable_immediate_execution: input.disableImmediateExecution ?? false,
      use_api: false,
    },
  };
}

/**
 * The UUID Inngest would know the function by (`ctx.fn_id`): a name-based UUID (RFC 9562 v5, SHA-1) of the
 * function's slug, so every engine process derives the same one and the checkpoint API can check it.
 */
export function functionUuid(slug: string): string {
  const h = createHash("sha1").update(FUNCTION_UUID_NAMESPACE).update(slug).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
/** The namespace of functionUuid (a fixed random UUID's bytes). */
const FUNCTION_UUID_NAMESPACE = Buffer.from("6f1d0c52a2f94e0b9a3e5c7b1d2e4f60", "hex");

export function callUrl(stepUrl: string, fnId: string, stepId: string | null): string {
  const url = new URL(stepUrl);
  url.searchParams.set("fnId", fnId);
  url.searchParams.set("stepId", stepId ?? "step");
  return url.toString();
}

export const outgoingOpSchema = z
  .object({
    id: z.string().min(1),
    op: z.string().min(1),
    name: z.string().optional(),
    displayName: z.string().optional(),
    opts: z.record(z.string(), z.unknown()).optional().nullable(),
    data: z.unknown().optional(),
    error: z.unknown().optional(),
  })
  .passthrough();
export type OutgoingOp = z.infer<typeof outgoingOpSchema>;

/** What one call to the SDK came back with, decided from status, headers and body. */
export type CallOutcome =
  | { kind: "completed"; output: unknown }
  | { kind: "ops"; ops: OutgoingOp[]; retryAfterMs?: number }
  | { kind: "error"; retriable: boolean; retryAfterMs?: number; error: SerializedError };

export function toSerializedError(raw: unknown, fallback = "Unknown error"): SerializedError {
  if (raw && typeof raw === "object") {
    const r = raw as Record<string, unknown>;
    const message = typeof r.message === "string" ? r.message : typeof r.error === "string" ? r.error : fallback;
    return { ...r, name: typeof r.name === "string" && r.name ? r.name : "Error", message };
  }
  return { name: "Error", message: typeof raw === "string" && raw ? raw : fallback };
}

export function parseCallResponse(status: number, headers: Headers, bodyText: string, nowMs: number): CallOutcome {
  let body: unknown;
  try {
    body = bodyText === "" ? null : JSON.parse(bodyText);
  } catch {
    body = bodyText;
  }
  // httpdriver: a 2xx without X-Inngest-SDK is not the SDK's (ErrNotSDK), a retriable failed attempt, key or no key.
  const notSdk = notSdkOutcome(status, headers);
  if (notSdk) return notSdk;
  if (status === 200) return { kind: "completed", output: body };
  if (status === 206) {
    const retryAfterMs = parseRetryAfter(headers.get(HEADER.retryAfter), nowMs);
    // httpdriver parseGenerator: an explicit empty array is one OpcodeNone (nothing to do here; the executor then
    // re-drives discovery, as Inngest's restartDiscovery does).
    if (Array.isArray(body) && body.length === 0) return { kind: "ops", ops: [{ id: "", op: OP.None }], retryAfterMs };
    const parsed = z.array(outgoingOpSchema).safeParse(body);
    if (parsed.success && parsed.data.length > 0) {
      // GeneratorOpcode.Validate: a StepError must carry its error.
      const bare = parsed.data.find((op) => op.op === OP.StepError && (op.error === undefined || op.error === null));
      if (bare) return { kind: "error", retriable: true, error: { name: "Error", message: `error validating generator opcode ${bare.id}: OpcodeStepError received without Error field set` } };
      return { kind: "ops", ops: parsed.data, retryAfterMs };
    }
    return { kind: "error", retriable: true, error: toSerializedError(null, "Malformed 206 response from the SDK") };
  }
  const retryAfterMs = parseRetryAfter(headers.get(HEADER.retryAfter), nowMs);
  const retriable = shouldRetry(status, headers.get(HEADER.noRetry), headers.get(HEADER.sdk));
  return { kind: "error", retriable, retryAfterMs, error: toSerializedError(body, `HTTP ${status}`) };
}

/**
 * httpdriver ShouldRetry: `X-Inngest-No-Retry`, when set, decides; otherwise only a 4xx from an inngest-js SDK older
 * than v1.10.1 / v2.4.1 is final. Anything else is retried (a 4xx from a proxy, from a newer SDK without the header).
 * SDK 4.24 sets the header on every answer to a run: `true` for NonRetriableError and the last attempt.
 */
export function shouldRetry(status: number, noRetryHeader: string | null, sdkHeader: string | null): boolean {
  if (noRetryHeader) return noRetryHeader !== "true";
  if (status < 400 || status > 499) return true;
  const parts = (sdkHeader ?? "").split(":");
  if (parts.length !== 2) return true;
  const [lang, version] = parts as [string, string];
  const m = /^v(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?(?:\.(0|[1-9]\d*))?(-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.exec(version);
  if (!m) return true;
  if (lang !== "inngest-js") return true;
  const v = [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)] as const;
  const before = (w: readonly [number, number, number]) => {
    for (let i = 0; i < 3; i++) if (v[i] !== w[i]) return (v[i] ?? 0) < w[i]!;
    return m[4] !== undefined; // a pre-release sorts before its release
  };
  if (v[0] === 2 && before([2, 4, 1])) return false;
  if (v[0] === 1 && before([1, 10, 1])) return false;
  return true;
}

/** Retry-After as seconds or an HTTP date (RFC 9110); what RetryAfterError sends. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : undefined;
}

export function removeSigningKeyPrefix(key: string): string {
  return key.replace(/^signkey-[\w]+-/, "");
}

/**
 * JSON with object keys sorted (RFC 8785 style). The SDK verifies the signature over the canonical form
 * of the parsed body, so the engine sends canonical JSON: then raw bytes and canonical form agree.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** `X-Inngest-Signature: t=<unix s>&s=<hex hmac-sha256(body + t)>`, keyed by the signing key sans prefix. */
export function signBody(body: string, signingKey: string, nowMs: number): string {
  const t = Math.round(nowMs / 1000).toString();
  return `t=${t}&s=${bodyMac(body, signingKey, t).toString("hex")}`;
}

function bodyMac(body: string, signingKey: string, t: string): Buffer {
  return createHmac("sha256", removeSigningKeyPrefix(signingKey)).update(body + t).digest();
}

/** How far a response signature's timestamp may be from our clock (the SDK allows requests 5 min). */
export const SIGNATURE_MAX_SKEW_MS = 5 * 60_000;

/**
 * Checks an `X-Inngest-Signature` the SDK put on its response (it signs every response to a request it
 * verified). An answer that is not signed with our key did not come from our app (a hijacked URL, a proxy's
 * error page): its ops and results must not move a run on.
 */
export function verifyBodySignature(body: string, header: string | null, signingKey: string, nowMs: number): boolean {
  if (!header) return false;
  const params = new URLSearchParams(header);
  const t = params.get("t") ?? "";
  const s = params.get("s") ?? "";
  if (!/^\d+$/.test(t) || !/^[0-9a-f]{64}$/.test(s)) return false;
  if (Math.abs(nowMs - Number(t) * 1000) > SIGNATURE_MAX_SKEW_MS) return false;
  return timingSafeEqual(bodyMac(body, signingKey, t), Buffer.from(s, "hex"));
}

/** The keys an answer from the app may be signed with: the signing key, then the fallback if one is set. */
export function answerKeys(o: { signingKey?: string; signingKeyFallback?: string }): string[] {
  return [o.signingKey, o.signingKeyFallback].filter((k): k is string => typeof k === "string" && k !== "");
}

/**
 * verifyBodySignature against each key in turn: the signing key and, during a rotation, the fallback (the app
 * may still sign with the old key until it is redeployed with the new one).
 */
export function verifyBodySignatureWithAny(body: string, header: string | null, keys: readonly string[], nowMs: number): boolean {
  return keys.some((key) => verifyBodySignature(body, header, key, nowMs));
}

/** A fresh signing key in Inngest's format (`signkey-<env>-<64 hex>`), e.g. for the local engine in dev. */
export function generateSigningKey(envName: string, random: (n: number) => Buffer): string {
  return `signkey-${envName}-${random(32).toString("hex")}`;
}

/** What the SDK sends as `Authorization: Bearer …` when it registers out of band. */
export function hashSigningKey(key: string): string {
  const prefix = key.match(/^signkey-[\w]+-/)?.[0] ?? "";
  return `${prefix}${createHash("sha256").update(Buffer.from(removeSigningKeyPrefix(key), "hex")).digest("hex")}`;
}
