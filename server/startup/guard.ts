// The one place that decides whether the app may start with its configuration. Every entry point runs it:
// `next start` / `next dev` through instrumentation.ts register() (so a bare `next start` is covered too),
// and scripts/dev.ts (`npm run dev`, `npm start`) before it starts anything. Production must not run on
// development defaults: a dev secret is public (it is in this repository), and without an Inngest signing
// key /api/inngest could not tell the engine from anyone else.
import { derivedLookupKey } from "@/server/crypto/key-ring";
import { DEV_FIELD_ENCRYPTION_KEY, envSchema, fieldKeyRingConfig, type Env } from "@/server/env.js";
import { liveConfigProblems } from "@/server/psp/config";

export interface StartupInput {
  /** NODE_ENV=production (next start), or scripts/dev.ts's own production decision. */
  production: boolean;
  /** scripts/dev.ts started the embedded Postgres (npm run dev, the e2e server): a local machine, not a deployment. */
  embeddedDatabase: boolean;
  env: Env;
}

/** Inngest's key format; the part after the prefix is hex (the SDK hashes it as hex when it registers). */
export const SIGNING_KEY_FORMAT = /^signkey-[\w]+-[0-9a-f]{64,}$/;

const DEV_FIELD_KEY = Buffer.from(DEV_FIELD_ENCRYPTION_KEY, "base64");

function isDevDefault<K extends keyof Env>(env: Env, key: K): boolean {
  const field = envSchema.shape[key];
  return env[key] === field.safeParse(undefined).data;
}

/** Inngest Cloud's own hosts (api.inngest.com, inn.gs and their subdomains): never the local engine. */
function isInngestCloudUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname.toLowerCase();
    return /(^|\.)inngest\.com$/.test(host) || /(^|\.)inn\.gs$/.test(host);
  } catch {
    return false;
  }
}

/**
 * Where async work goes, for every production process that talks to Inngest (the app, the dispatcher): never to a
 * leftover development setting. INNGEST_DEV is the app's development-only pointer at the local engine; without
 * INNGEST_BASE_URL it would take the events and checkpoints meant for Inngest Cloud. INNGEST_LOCAL_ENGINE=true says
 * INNGEST_BASE_URL is the local engine: without one, or pointing at Inngest Cloud, the app would send to a default
 * local URL or the dispatcher wait for a local sync that never comes. INNGEST_STREAMING is read by the SDK itself,
 * over the app's serve options.
 */
export function inngestProductionProblems(env: Env): string[] {
  const problems: string[] = [];
  if (env.INNGEST_DEV && !env.INNGEST_BASE_URL) problems.push("INNGEST_DEV: set without INNGEST_BASE_URL: async work would go to that development URL instead of Inngest Cloud. Unset it; to run the local engine in production set INNGEST_BASE_URL to its URL with INNGEST_LOCAL_ENGINE=true (docs/operations.md)");
  if (env.INNGEST_LOCAL_ENGINE && !env.INNGEST_BASE_URL) problems.push("INNGEST_LOCAL_ENGINE: true without INNGEST_BASE_URL: async work would go to the local engine's default URL (http://127.0.0.1:INNGEST_ENGINE_PORT), not to Inngest Cloud. With Inngest Cloud or `inngest start` unset it; with the local engine set INNGEST_BASE_URL to its URL (docs/operations.md)");
  else if (env.INNGEST_LOCAL_ENGINE && isInngestCloudUrl(env.INNGEST_BASE_URL!)) problems.push("INNGEST_LOCAL_ENGINE: true with INNGEST_BASE_URL at Inngest Cloud: the dispatcher would wait forever for a local engine's sync and send nothing. Unset INNGEST_LOCAL_ENGINE (and INNGEST_BASE_URL, for Inngest Cloud's defaults)");
  if (env.INNGEST_STREAMING) problems.push("INNGEST_STREAMING: must be unset: the Inngest SDK would stream /api/inngest's answers, overriding the app's serve options");
  return problems;
}

export function startupProblems({ production, embeddedDatabase, env }: StartupInput): string[] {
  const problems = liveConfigProblems(env).map((v) => `${v}: PSP_MODE=live needs your real value`);
  if (!production) return problems;
  problems.push(...inngestProductionProblems(env));
  if (!env.INNGEST_SIGNING_KEY) problems.push("INNGEST_SIGNING_KEY: required in production (Inngest Cloud / self-hosted signing key, `signkey-prod-<hex>`): every call to /api/inngest is verified with it");
  else if (!SIGNING_KEY_FORMAT.test(env.INNGEST_SIGNING_KEY)) problems.push("INNGEST_SIGNING_KEY: not an Inngest signing key (`signkey-<env>-<at least 64 hex>`)");
  if (env.INNGEST_SIGNING_KEY_FALLBACK && !SIGNING_KEY_FORMAT.test(env.INNGEST_SIGNING_KEY_FALLBACK)) problems.push("INNGEST_SIGNING_KEY_FALLBACK: not an Inngest signing key");
  if (env.PAYBRIDGE_FAILPOINTS) problems.push("PAYBRIDGE_FAILPOINTS: must be unset in production (crash-test failpoints kill the process)");
  if (!env.AUTH_SECRET) problems.push("AUTH_SECRET: required in production (at least 32 characters; `openssl rand -base64 32`)");
  if (embeddedDatabase) return problems;
  for (const { version } of fieldKeyRingConfig(env).keys.filter((k) => Buffer.from(k.key, "base64").equals(DEV_FIELD_KEY))) {
    const name = env.FIELD_ENCRYPTION_KEYS?.some((k) => k.version === version) ? `FIELD_ENCRYPTION_KEYS (version ${version})` : "FIELD_ENCRYPTION_KEY";
    problems.push(`${name}: the development key is public; set base64 of 32 random bytes (\`openssl rand -base64 32\`)`);
  }
  if (env.FIELD_LOOKUP_KEY && Buffer.from(env.FIELD_LOOKUP_KEY, "base64").equals(derivedLookupKey(DEV_FIELD_KEY))) problems.push("FIELD_LOOKUP_KEY: derived from the public development key");
  if (isDevDefault(env, "MPESA_CALLBACK_SECRET")) problems.push("MPESA_CALLBACK_SECRET: the development secret is public; set a random secret");
  if (!env.AUTH_URL?.startsWith("https://")) problems.push("AUTH_URL: required in production as the app's public https:// URL (session cookies are then Secure)");
  if (!env.APP_URL.startsWith("https://")) problems.push("APP_URL: must be the app's public https:// URL in production (PSPs call back to it)");
  return problems;
}

export class UnsafeStartError extends Error {
  constructor(readonly problems: string[]) {
    super(`Refusing to start: unsafe configuration\n  - ${problems.join("\n  - ")}`);
    this.name = "UnsafeStartError";
  }
}

export function assertStartable(input: StartupInput): void {
  const problems = startupProblems(input);
  if (problems.length > 0) throw new UnsafeStartError(problems);
}
