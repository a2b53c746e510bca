// The real `stripe` SDK, pointed at the sandbox (dev/test) or api.stripe.com (live). We do our own retries
// in durable steps, so the SDK's are off; every call has an explicit timeout.
import Stripe from "stripe";

/** Our retries happen in durable steps with the same idempotency key, never inside the SDK. */
export const STRIPE_MAX_NETWORK_RETRIES = 0;

export interface StripeClientOptions {
  apiKey: string;
  /** e.g. http://127.0.0.1:12111 (sandbox) or https://api.stripe.com */
  apiBase: string;
  timeoutMs: number;
}

export function createStripeClient(opts: StripeClientOptions): Stripe {
  const base = new URL(opts.apiBase);
  const protocol = base.protocol === "https:" ? "https" : "http";
  return new Stripe(opts.apiKey, {
    host: base.hostname,
    port: Number(base.port || (protocol === "https" ? 443 : 80)),
    protocol,
    timeout: opts.timeoutMs,
    maxNetworkRetries: STRIPE_MAX_NETWORK_RETRIES,
    telemetry: false,
    appInfo: { name: "PayBridge" },
  });
}
