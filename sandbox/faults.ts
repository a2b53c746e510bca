// Fault injection for the PSP sandbox. A fault is named in a small text syntax, carried per request
// (the `Sandbox-Fault` header on any API; also `metadata[sandbox_fault]` on Stripe creates/confirms) or
// installed globally by rule (admin API), e.g. "status=503;retry=false", "latency=200,webhook_duplicate",
// "rate_limit", "hang", "reset". Catalogue: docs/sandbox.md.

export const FAULT_HEADER = "sandbox-fault";
export const FAULT_METADATA_KEY = "sandbox_fault";

export type RequestFault =
  | { kind: "latency"; ms: number; jitterMs: number }
  /** drop: never answer and do nothing; after_commit: do the work, store the result, never answer. */
  | { kind: "hang"; afterCommit: boolean }
  | { kind: "status"; status: 500 | 502 | 503 | 409; shouldRetry?: boolean }
  | { kind: "rate_limit"; retryAfterS: number }
  | { kind: "lock_timeout" }
  | { kind: "reset" }
  | { kind: "truncate" }
  | { kind: "decline"; declineCode: string }
  /**
   * Daraja reversal: `fail` posts a failed result (ResultCode `code`, default R000002); `no_result` reverses but
   * never posts the result; `no_result_not_done` accepts, never reverses and never posts (docs/sandbox.md).
   */
  | { kind: "mpesa_reversal"; mode: "fail" | "no_result" | "no_result_not_done"; code?: string }
  /**
   * Daraja B2C: `no_result` pays but never posts the Result; `no_result_not_done` accepts, never pays, never posts;
   * `queue_timeout` accepts, never pays, posts to QueueTimeOutURL; `insufficient` fails with ResultCode 1 as if the
   * utility account could not cover it (docs/sandbox.md).
   */
  | { kind: "mpesa_b2c"; mode: "no_result" | "no_result_not_done" | "queue_timeout" | "insufficient" };

export type WebhookFault =
  | { kind: "webhook_duplicate" }
  | { kind: "webhook_delay"; ms: number }
  | { kind: "webhook_reorder" }
  | { kind: "webhook_drop" }
  /** Daraja: send the callback before the synchronous reply. */
  | { kind: "callback_first" };

export type Fault = RequestFault | WebhookFault;

export interface FaultSet {
  request: RequestFault[];
  webhook: WebhookFault[];
}

export const EMPTY_FAULTS: FaultSet = { request: [], webhook: [] };

const MAX_LATENCY_MS = 120_000;
/** The Daraja reversal failures `mpesa_reversal=fail;code=…` can force (sandbox/daraja/api.ts REVERSAL_FAILURES). */
export const MPESA_REVERSAL_FAULT_CODES: readonly string[] = ["R000001", "R000002", "2001", "11"];

function num(v: string | undefined, fallback: number): number {
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? Math.min(n, MAX_LATENCY_MS) : fallback;
}

/** Parses one fault such as `status=503;retry=true`. Throws on an unknown fault so typos do not pass silently. */
export function parseFault(text: string): Fault {
  const [head = "", ...opts] = text.trim().split(";");
  const [name = "", value] = head.split("=");
  const opt = Object.fromEntries(opts.map((o) => o.split("=") as [string, string]));
  switch (name) {
    case "latency":
      return { kind: "latency", ms: num(value, 0), jitterMs: num(opt.jitter, 0) };
    case "hang":
      return { kind: "hang", afterCommit: value === "after_commit" };
    case "status": {
      const status = Number(value);
      if (![500, 502, 503, 409].includes(status)) throw new Error(`unsupported fault status ${value}`);
      const shouldRetry = opt.retry === undefined ? undefined : opt.retry === "true";
      return { kind: "status", status: status as 500 | 502 | 503 | 409, shouldRetry };
    }
    case "rate_limit":
      return { kind: "rate_limit", retryAfterS: num(value, 1) };
    case "lock_timeout":
      return { kind: "lock_timeout" };
    case "reset":
      return { kind: "reset" };
    case "truncate":
      return { kind: "truncate" };
    case "decline":
      return { kind: "decline", declineCode: value || "generic_decline" };
    case "mpesa_reversal": {
      if (value !== "fail" && value !== "no_result" && value !== "no_result_not_done") throw new Error(`unsupported mpesa_reversal fault ${value}`);
      if (opt.code !== undefined && !MPESA_REVERSAL_FAULT_CODES.includes(opt.code)) throw new Error(`unsupported mpesa_reversal code ${opt.code}`);
      return { kind: "mpesa_reversal", mode: value, ...(opt.code ? { code: opt.code } : {}) };
    }
    case "mpesa_b2c": {
      if (value !== "no_result" && value !== "no_result_not_done" && value !== "queue_timeout" && value !== "insufficient") throw new Error(`unsupported mpesa_b2c fault ${value}`);
      return { kind: "mpesa_b2c", mode: value };
    }
    case "webhook_duplicate":
      return { kind: "webhook_duplicate" };
    case "webhook_delay":
      return { kind: "webhook_delay", ms: num(value, 1000) };
    case "webhook_reorder":
      return { kind: "webhook_reorder" };
    case "webhook_drop":
      return { kind: "webhook_drop" };
    case "callback_first":
      return { kind: "callback_first" };
    default:
      throw new Error(`unknown sandbox fault "${name}"`);
  }
}

export function parseFaults(text: string | undefined): FaultSet {
  if (!text) return EMPTY_FAULTS;
  const set: FaultSet = { request: [], webhook: [] };
  for (const part of text.split(",")) {
    if (!part.trim()) continue;
    const f = parseFault(part);
    if (f.kind.startsWith("webhook_") || f.kind === "callback_first") set.webhook.push(f as WebhookFault);
    else set.request.push(f as RequestFault);
  }
  return set;
}

export function mergeFaults(...sets: FaultSet[]): FaultSet {
  return { request: sets.flatMap((s) => s.request), webhook: sets.flatMap((s) => s.webhook) };
}

export interface FaultRule {
  id: string;
  fault: string;
  method?: string;
  /** Matches when the request path starts with this prefix. */
  pathPrefix?: string;
  /** Fire at most this many times (then the rule is spent). */
  count?: number;
  /** Fire with this probability (seeded PRNG), default 1. */
  probability?: number;
}

/** mulberry32: a tiny seeded PRNG so probabilistic faults replay the same way for the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Global rules installed through the admin API; each request takes the faults of the rules it matches. */
export class FaultRules {
  private rules: FaultRule[] = [];
  private seq = 0;
  constructor(private readonly random: () => number) {}

  add(rule: Omit<FaultRule, "id">): FaultRule {
    parseFaults(rule.fault); // validate now, not at the first matching request
    const full = { ...rule, id: `rule_${++this.seq}` };
    this.rules.push(full);
    return full;
  }

  clear(): void {
    this.rules = [];
  }

  list(): FaultRule[] {
    return [...this.rules];
  }

  take(method: string, path: string): FaultSet {
    const fired: FaultSet[] = [];
    for (const rule of this.rules) {
      if (rule.method && rule.method.toUpperCase() !== method) continue;
      if (rule.pathPrefix && !path.startsWith(rule.pathPrefix)) continue;
      if (rule.probability !== undefined && this.random() >= rule.probability) continue;
      if (rule.count !== undefined) rule.count -= 1;
      fired.push(parseFaults(rule.fault));
    }
    this.rules = this.rules.filter((r) => r.count === undefined || r.count > 0);
    return mergeFaults(...fired);
  }
}
