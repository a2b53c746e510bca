// What every Stripe handler in the sandbox gets: the store, event emission, timers and param helpers.
import { StripeApiError, type SandboxRequest } from "../http";
import type { StripeObject, StripeStore } from "./store";

export interface StripeCtx {
  store: StripeStore;
  baseUrl: () => string;
  /** Records an event (listed in /v1/events) and queues its webhook after the request finishes. */
  emit: (req: SandboxRequest | undefined, type: string, obj: StripeObject, previous?: Record<string, unknown>) => void;
  /** Runs `fn` later (async PSP transitions: refunds settling, payouts paying). Cleared on stop. */
  later: (ms: number, fn: () => void) => void;
  /** Seconds from a charge until its funds are available (Stripe: ~2 days; sandbox default 0). */
  availableDelayS: number;
  /** How long async transitions (refund pending -> succeeded, payout pending -> paid, a dispute's outcome) take. */
  asyncSettleMs: number;
  /** From a disputing test card's charge to its dispute (Stripe: shortly after, never in the same instant). */
  disputeDelayMs: number;
}

/**
 * The connected account a request acts on (`Stripe-Account: acct_…`), or null for the platform. The API layer has
 * checked that it exists and that the endpoint honours the header (sandbox/stripe/api.ts).
 */
export function connectedAccountOf(req: SandboxRequest): string | null {
  const h = req.headers["stripe-account"];
  return typeof h === "string" && h ? h : null;
}

export function intParam(body: Record<string, unknown>, name: string, opts: { required?: boolean; min?: number } = {}): number | undefined {
  const v = body[name];
  if (v === undefined || v === "") {
    if (opts.required) throw new StripeApiError(400, "invalid_request_error", "parameter_missing", `Missing required param: ${name}.`, { param: name });
    return undefined;
  }
  if (typeof v !== "string" || !/^\d+$/.test(v)) {
    throw new StripeApiError(400, "invalid_request_error", "parameter_invalid_integer", `Invalid integer: ${String(v)}`, { param: name });
  }
  const n = Number(v);
  if (n < (opts.min ?? 0)) throw new StripeApiError(400, "invalid_request_error", "parameter_invalid_integer", `This value must be greater than or equal to ${opts.min ?? 0}.`, { param: name });
  return n;
}

export function strParam(body: Record<string, unknown>, name: string, required = false): string | undefined {
  const v = body[name];
  if (v === undefined || v === "") {
    if (required) throw new StripeApiError(400, "invalid_request_error", "parameter_missing", `Missing required param: ${name}.`, { param: name });
    return undefined;
  }
  if (typeof v !== "string") throw new StripeApiError(400, "invalid_request_error", "parameter_invalid_string", `Invalid string: ${name}`, { param: name });
  return v;
}

export function currencyParam(body: Record<string, unknown>): string {
  const c = strParam(body, "currency", true)!.toLowerCase();
  if (!/^[a-z]{3}$/.test(c)) throw new StripeApiError(400, "invalid_request_error", "parameter_invalid_string", `Invalid currency: ${c}.`, { param: "currency" });
  return c;
}

export function metadataParam(body: Record<string, unknown>, existing: Record<string, string> = {}): Record<string, string> {
  const m = body.metadata;
  if (m === undefined || m === "") return existing;
  if (typeof m !== "object" || m === null) throw new StripeApiError(400, "invalid_request_error", "parameter_invalid_object", "Invalid metadata", { param: "metadata" });
  const out = { ...existing };
  for (const [k, v] of Object.entries(m as Record<string, unknown>)) {
    if (v === "") delete out[k];
    else out[k] = String(v);
  }
  return out;
}

export function boolParam(body: Record<string, unknown>, name: string): boolean {
  return body[name] === "true" || body[name] === true;
}

/** Card fee in the sandbox: 2.9% + 30 minor units, integer arithmetic (no floats on money). */
export function cardFee(amount: number): number {
  return Math.floor((amount * 29 + 500) / 1000) + 30;
}
