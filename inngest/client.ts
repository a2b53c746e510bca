import { randomBytes } from "node:crypto";
import { Inngest, type ClientOptions } from "inngest";
import { env } from "@/server/env.js";
import { RunLogContext } from "./log-middleware";
import { DatabaseOutageRetry } from "./outage-retry-middleware";

// The app's one Inngest client, always in the SDK's cloud mode: every request to /api/inngest must carry a
// valid X-Inngest-Signature (HMAC of the body with the signing key), whoever sends it — Inngest Cloud, a
// self-hosted `inngest start`, or the local engine (inngest/engine), which signs its calls the same way with
// a key that `npm run dev` generates into .data/. There is no unsigned mode: the SDK's dev mode skips
// signature checks, and anyone who can reach the app could then run any step with made-up memoized data.
// Configuration comes from config/env.js only (inngestConfigFromEnv). The SDK also reads process.env by itself, and
// what it finds there wins wherever an option is left unset: with INNGEST_BASE_URL unset (Inngest Cloud) a leftover
// INNGEST_DEV URL, INNGEST_API_BASE_URL or INNGEST_EVENT_API_BASE_URL would take the events, syncs and checkpoints,
// an INNGEST_SIGNING_KEY_FALLBACK the config does not pass would still be accepted, INNGEST_ENV or a CI's BRANCH
// would pick a branch environment. The client pins those to what the config says (SDK_ENV_PINNED). What serve()
// reads by itself is pinned in inngest/serve-options.ts, except INNGEST_STREAMING and INNGEST_ALLOW_IN_BAND_SYNC,
// which no option overrides: production refuses the first (server/startup/guard.ts); the second only picks how a
// sync is done (docs/operations.md, "Switching async work to Inngest Cloud or self-hosted `inngest start`").

export const INNGEST_APP_ID = "paybridge";

export interface InngestClientConfig {
  /** Self-hosted `inngest start`, or the local engine with localEngine; unset for Inngest Cloud (or a local engine at devUrl). */
  baseUrl?: string;
  /** INNGEST_LOCAL_ENGINE: baseUrl is the local engine (production's `start:engine`). Unset: decided by usesLocalEngine. */
  localEngine?: boolean;
  eventKey?: string;
  signingKey?: string;
  /** The previous key during a rotation: accepted on calls to /api/inngest, and tried on the app's calls to Inngest after a 401. */
  signingKeyFallback?: string;
  /** The local engine's URL (INNGEST_DEV; development and tests only). When set and baseUrl is not, the app talks to it. */
  devUrl?: string;
  fetch?: typeof fetch;
}

export function inngestConfigFromEnv(): InngestClientConfig {
  return {
    baseUrl: env.INNGEST_BASE_URL,
    localEngine: env.INNGEST_LOCAL_ENGINE,
    eventKey: env.INNGEST_EVENT_KEY,
    signingKey: env.INNGEST_SIGNING_KEY,
    signingKeyFallback: env.INNGEST_SIGNING_KEY_FALLBACK,
    devUrl: env.INNGEST_DEV && /^https?:\/\//.test(env.INNGEST_DEV) ? env.INNGEST_DEV : undefined,
  };
}

/** The local engine when said so, or when its URL is given (or nothing else is configured); otherwise Inngest (Cloud / self-hosted). */
export function usesLocalEngine(config: InngestClientConfig): boolean {
  return config.localEngine ?? (!config.baseUrl && (Boolean(config.devUrl) || !config.signingKey));
}

export const DEFAULT_ENGINE_URL = `http://127.0.0.1:${env.INNGEST_ENGINE_PORT}`;

/** Where the local engine is, when usesLocalEngine(config). */
export function localEngineUrl(config: InngestClientConfig): string {
  return config.baseUrl ?? config.devUrl ?? DEFAULT_ENGINE_URL;
}

/**
 * Every variable SDK 4.24.0 reads from process.env into the client (components/Inngest.js: base URLs, dev mode, keys,
 * session propagation; helpers/env.js getEnvironmentName: the branch environment sent as x-inngest-env), pinned to
 * "unset" so that only the options createInngestClient passes count. Left to the SDK: the platform flags (VERCEL,
 * NETLIFY, RENDER, …), which only name the platform in a header.
 */
export const SDK_ENV_PINNED: Readonly<Record<string, undefined>> = Object.fromEntries(
  [
    "INNGEST_DEV",
    "INNGEST_BASE_URL",
    "INNGEST_API_BASE_URL",
    "INNGEST_EVENT_API_BASE_URL",
    "INNGEST_EVENT_KEY",
    "INNGEST_SIGNING_KEY",
    "INNGEST_SIGNING_KEY_FALLBACK",
    "INNGEST_ENV",
    "INNGEST_SESSION_PROPAGATION",
    "BRANCH_NAME",
    "VERCEL_GIT_COMMIT_REF",
    "BRANCH",
    "CF_PAGES_BRANCH",
    "RENDER_GIT_BRANCH",
    "RAILWAY_GIT_BRANCH",
  ].map((k) => [k, undefined]),
);

/**
 * The SDK's client, seeing only its options: what it reads from the environment, at construction and again through
 * setEnvVars on every request serve() handles (InngestCommHandler), is overlaid with SDK_ENV_PINNED. setEnvVars is
 * the SDK's documented way to give a client its environment.
 */
class ConfiguredInngest extends Inngest {
  constructor(options: ClientOptions) {
    super(options);
    this.setEnvVars({});
  }

  override setEnvVars(vars: Record<string, string | undefined> = {}): this {
    return super.setEnvVars({ ...vars, ...SDK_ENV_PINNED });
  }
}

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
  return new ConfiguredInngest({
    id: INNGEST_APP_ID,
    isDev: false,
    // Cloud without INNGEST_BASE_URL: the SDK's own defaults (api.inngest.com / inn.gs), never an env var's URL.
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
