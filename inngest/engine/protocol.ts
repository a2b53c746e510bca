import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";

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
} as const;

export const INTERNAL_EVENT = {
  functionFailed: "inngest/function.failed",
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
  ctx: {
    run_id: string;
    attempt: number;
    max_attempts: number;
    disable_immediate_execution: boolean;
    use_api: false;
    stack: { stack: string[]; current: number };
  };
}

/**
 * Never sends `ctx.fn_id`: with it the SDK switches to async checkpointing and calls back Inngest's
 * checkpoint API, which the local engine does not serve.
 */
export function buildCallBody(input: {
  runId: string;
  event: Record<string, unknown>;
  steps: Record<string, StepResult>;
  stack: string[];
  attempt: number;
  maxAttempts: number;
}): CallRequestBody {
  return {
    version: EXECUTION_VERSION,
    event: input.event,
    events: [input.event],
    steps: input.steps,
    ctx: {
      run_id: input.runId,
      attempt: input.attempt,
      max_attempts: input.maxAttempts,
      disable_immediate_execution: false,
      use_api: false,
      stack: { stack: input.stack, current: Math.max(0, input.stack.length - 1) },
    },
  };
}

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
  if (status === 200) return { kind: "completed", output: body };
  if (status === 206) {
    const parsed = z.array(outgoingOpSchema).safeParse(body);
    if (parsed.success && parsed.data.length > 0) {
      return { kind: "ops", ops: parsed.data, retryAfterMs: parseRetryAfter(headers.get(HEADER.retryAfter), nowMs) };
    }
    return { kind: "error", retriable: true, error: toSerializedError(null, "Malformed 206 response from the SDK") };
  }
  const noRetry = headers.get(HEADER.noRetry) === "true";
  const retryAfterMs = parseRetryAfter(headers.get(HEADER.retryAfter), nowMs);
  // 400 is the SDK's own "rejected, do not retry"; any other status is an outage of some kind: retry.
  const retriable = !(noRetry || status === 400);
  return { kind: "error", retriable, retryAfterMs, error: toSerializedError(body, `HTTP ${status}`) };
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

/** A fresh signing key in Inngest's format (`signkey-<env>-<64 hex>`), e.g. for the local engine in dev. */
export function generateSigningKey(envName: string, random: (n: number) => Buffer): string {
  return `signkey-${envName}-${random(32).toString("hex")}`;
}

/** What the SDK sends as `Authorization: Bearer …` when it registers out of band. */
export function hashSigningKey(key: string): string {
  const prefix = key.match(/^signkey-[\w]+-/)?.[0] ?? "";
  return `${prefix}${createHash("sha256").update(Buffer.from(removeSigningKeyPrefix(key), "hex")).digest("hex")}`;
}
