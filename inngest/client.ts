import { randomBytes } from "node:crypto";
import { Inngest } from "inngest";
import { env } from "@/server/env.js";
import { RunLogContext } from "./log-middleware";
import { DatabaseOutageRetry } from "./outage-retry-middleware";

// The app's one Inngest client, always in the SDK's cloud mode: every request to /api/inngest must carry a
// valid X-Inngest-Signature (HMAC of the body with the signing key), whoever sends it — Inngest Cloud, a
// self-hosted `inngest start`, or the local engine (inngest/engine), which signs its calls the same way with
// a key that `npm run dev` generates into .data/. There is no unsigned mode: the SDK's dev mode skips
// signature checks, and anyone who can reach the app could then run any step with made-up memoized data.
// The SDK reads no config of its own from process.env: it is all passed here.

export const INNGEST_APP_ID = "paybridge";

export interface InngestClientConfig {
  /** Inngest Cloud or self-hosted `inngest start`; unset with a local engine (devUrl) or for Cloud's defaults. */
  baseUrl?: string;
  eventKey?: string;
  signingKey?: string;
  /** The previous key during a rotation (the SDK also reads INNGEST_SIGNING_KEY_FALLBACK itself: set here explicitly). */
  signingKeyFallback?: string;
  /** The local engine's URL (INNGEST_DEV, set by scripts/dev.ts). When set and baseUrl is not, the app talks to it. */
  devUrl?: string;
  fetch?: typeof fetch;
}

export function inngestConfigFromEnv(): InngestClientConfig {
  return {
    baseUrl: env.INNGEST_BASE_URL,
    eventKey: env.INNGEST_EVENT_KEY,
    signingKey: env.INNGEST_SIGNING_KEY,
    signingKeyFallback: env.INNGEST_SIGNING_KEY_FALLBACK,
    devUrl: env.INNGEST_DEV && /^https?:\/\//.test(env.INNGEST_DEV) ? env.INNGEST_DEV : undefined,
  };
}

/** The local engine when its URL is given (or nothing else is configured); otherwise Inngest (Cloud / self-hosted). */
export function usesLocalEngine(config: InngestClientConfig): boolean {
  return !config.baseUrl && (Boolean(config.devUrl) || !config.signingKey);
}

export const DEFAULT_ENGINE_URL = `http://127.0.0.1:${env.INNGEST_ENGINE_PORT}`;

/**
 * Without a signing key (a bare `next dev` with no local engine, a test that configured none) the client
 * still verifies, with a random key nobody holds: every call to /api/inngest is then refused (401), never
 * run unsigned. Production refuses to start without a key at all (server/startup/guard.ts).
 */
function unusableSigningKey(): string {
  return `signkey-unset-${randomBytes(32).toString("hex")}`;
}

export function createInngestClient(config: InngestClientConfig): Inngest {
  const local = usesLocalEngine(config);
  return new Inngest({
    id: INNGEST_APP_ID,
    isDev: false,
    // Cloud without INNGEST_BASE_URL: the SDK's own defaults (api.inngest.com / inn.gs).
    baseUrl: config.baseUrl ?? (local ? (config.devUrl ?? DEFAULT_ENGINE_URL) : undefined),
    eventKey: config.eventKey ?? (local ? "local" : undefined),
    signingKey: config.signingKey ?? unusableSigningKey(),
    signingKeyFallback: config.signingKey ? config.signingKeyFallback : undefined,
    fetch: config.fetch,
    // Run and event ids on every log line logged during a run (inngest/log-middleware.ts); a step that failed on
    // an unreachable database is retried in seconds, not after the first 15 s backoff (inngest/outage-retry-middleware.ts).
    middleware: [RunLogContext, DatabaseOutageRetry],
  });
}

export const inngest = createInngestClient(inngestConfigFromEnv());
