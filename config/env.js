// The one place that reads process.env. App code imports `env` through server/env.js (which re-exports this
// module); db/ imports it from here, so db/ depends on nothing in server/.
// Validated once at import: a wrong value stops the process (dev script, `next build`, `next start`)
// with a message naming the variable. Plain JS (with JSDoc types) so next.config.js can import it.
import { z } from "zod";

const bool = z
  .enum(["true", "false", "1", "0"])
  .transform((v) => v === "true" || v === "1");

const postgresUrl = z
  .string()
  .refine((v) => /^postgres(ql)?:\/\/.+/.test(v), "must be a postgres:// or postgresql:// URL");

/** @param {string} v */
const isBase64Key = (v) => Buffer.from(v, "base64").length === 32;
const base64Key = z.string().refine(isBase64Key, "must be base64 of exactly 32 bytes");

/** The development field-encryption key (public: it is in this repository); production refuses it. */
export const DEV_FIELD_ENCRYPTION_KEY = "ZGV2LW9ubHktZmllbGQta2V5LWRvLW5vdC11c2UtISE=";

export const envSchema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  /** Unset: `npm run dev` starts an embedded Postgres and sets it for the app process. */
  DATABASE_URL: postgresUrl.optional(),
  /** Auth.js secret (>= 32 chars). Unset in dev: the dev script generates one and keeps it in .data/. */
  AUTH_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  /** Auth.js's canonical URL; required (https) in production so session cookies are Secure. */
  AUTH_URL: z.string().url().optional(),
  /** Set by scripts/dev.ts when it runs the embedded Postgres (npm run dev, the e2e server); never set it yourself. */
  EMBEDDED_DATABASE: bool.optional(),
  /** Public base URL of the app, used in links printed and sent to PSPs. */
  APP_URL: z.string().url().default("http://localhost:3000"),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  /** Seed the demo merchant, sellers and users at start. Unset: true with the embedded Postgres, false with DATABASE_URL. */
  SEED_DEMO: bool.optional(),
  /** Where the embedded Postgres keeps its data when DATABASE_URL is unset. */
  EMBEDDED_PG_DIR: z.string().min(1).default(".data/postgres"),
  // --- Observability (server/observability, docs/operations.md "Observability"). ---
  /** Minimum level of the JSON log lines every process writes to stdout (pino). */
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  /** Bearer token for GET /metrics (Prometheus: `authorization: { credentials: … }`). Unset: /metrics answers 404.
   *  Optional in production too (metrics off); when set, at least 24 characters (`openssl rand -hex 24`). */
  METRICS_TOKEN: z.string().min(24, "must be at least 24 characters").optional(),
  // --- Public API (server/api-keys, server/idempotency, server/rate-limit, server/crypto). ---
  // Field encryption (server/crypto/key-ring.ts, docs/security.md "Rotating the field-encryption key").
  /** base64 of 32 bytes: AES-256-GCM key for buyer details at rest, key version 1 of the ring. Unset and no
   *  FIELD_ENCRYPTION_KEYS: the development key, refused by `npm start` in production (`openssl rand -base64 32`). */
  FIELD_ENCRYPTION_KEY: base64Key.optional(),
  /** The key ring, `<version>:<base64 of 32 bytes>` comma-separated (e.g. `2:…,1:…`). New values are encrypted
   *  under the highest version (or FIELD_ENCRYPTION_ACTIVE_VERSION); every version a stored value names must be
   *  here to read it. FIELD_ENCRYPTION_KEY, if set, is version 1. */
  FIELD_ENCRYPTION_KEYS: z
    .string()
    .transform((v, ctx) => {
      /** @type {{ version: number; key: string }[]} */
      const keys = [];
      for (const entry of v.split(",").map((e) => e.trim()).filter(Boolean)) {
        const m = /^([1-9][0-9]{0,5}):(\S+)$/.exec(entry);
        const key = m?.[2] ?? "";
        if (!m || !isBase64Key(key)) {
          ctx.addIssue({ code: "custom", message: "each entry must be <version 1-999999>:<base64 of exactly 32 bytes>" });
          return z.NEVER;
        }
        const version = Number(m[1]);
        if (keys.some((k) => k.version === version)) {
          ctx.addIssue({ code: "custom", message: `version ${version} appears twice` });
          return z.NEVER;
        }
        keys.push({ version, key });
      }
      return keys.sort((a, b) => b.version - a.version);
    })
    .optional(),
  /** The version new values are encrypted under (default: the highest in the ring). Lets a multi-instance
   *  deployment ship a new key to every instance before any instance writes with it. */
  FIELD_ENCRYPTION_ACTIVE_VERSION: z.coerce.number().int().min(1).max(999_999).optional(),
  /** base64 of 32 bytes: the HMAC key of lookup hashes (velocity rules, rate-limit buckets). Unset: derived from
   *  key version 1, as before rotation existed. Pin it (`npm run keys:lookup-key`) before key 1 leaves the ring:
   *  stored hashes must stay matchable. */
  FIELD_LOOKUP_KEY: base64Key.optional(),
  /** Requests per minute per API key and per client IP on /api/v1. */
  API_RATE_LIMIT_PER_KEY: z.coerce.number().int().min(1).default(600),
  API_RATE_LIMIT_PER_IP: z.coerce.number().int().min(1).default(1200),
  /** Hosted-checkout actions (start a card or M-Pesa payment, submit) per minute per client IP. */
  CHECKOUT_RATE_LIMIT_PER_IP: z.coerce.number().int().min(1).default(120),
  /**
   * How many reverse proxies in front of the app append to X-Forwarded-For (server/http/client-ip.ts,
   * docs/security.md). 0 (no proxy): X-Forwarded-For and X-Real-IP are the client's own words and never choose a
   * rate-limit bucket; no client is identified, so per-IP limits are off (set this in production). N: the N-th address from the right is the client.
   */
  TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  // --- PSPs (server/psp, sandbox/; docs/psp.md). Defaults point at the local PSP sandbox. ---
  /** sandbox: the local PSP sandbox (dev/test/e2e). live: api.stripe.com / api.safaricom.co.ke, real keys required. */
  PSP_MODE: z.enum(["sandbox", "live"]).default("sandbox"),
  /** Where the sandbox listens (Stripe-compatible API, Daraja API, card field); `npm run sandbox` and `npm run dev`. */
  SANDBOX_PORT: z.coerce.number().int().min(1).max(65535).default(12111),
  /** Base URL of the sandbox as the app reaches it. Unset: http://127.0.0.1:SANDBOX_PORT. */
  SANDBOX_URL: z.string().url().optional(),
  /** Where the standalone sandbox (`npm run sandbox`) persists its state: a Postgres URL (schema `sandbox`, created
   *  by the sandbox). Unset: DATABASE_URL, else SANDBOX_STATE_FILE. `npm run dev` uses its own database. */
  SANDBOX_DATABASE_URL: z.string().url().optional(),
  /** The sandbox's state file when it has no database (a JSON-lines journal). */
  SANDBOX_STATE_FILE: z.string().min(1).default(".data/sandbox/state.jsonl"),
  STRIPE_SECRET_KEY: z.string().startsWith("sk_").default("sk_test_sandbox_paybridge_dev"),
  STRIPE_PUBLISHABLE_KEY: z.string().startsWith("pk_").default("pk_test_sandbox_paybridge_dev"),
  /** Unset: the sandbox (PSP_MODE=sandbox) or https://api.stripe.com (live). */
  STRIPE_API_BASE: z.string().url().optional(),
  STRIPE_WEBHOOK_SECRET: z.string().startsWith("whsec_").default("whsec_sandbox_paybridge_dev_secret"),
  /** Unset: the sandbox (PSP_MODE=sandbox) or https://api.safaricom.co.ke (live). */
  DARAJA_API_BASE: z.string().url().optional(),
  DARAJA_CONSUMER_KEY: z.string().min(1).default("sandbox_consumer_key"),
  DARAJA_CONSUMER_SECRET: z.string().min(1).default("sandbox_consumer_secret"),
  /** Paybill / till that receives STK payments (Daraja's public sandbox shortcode by default). */
  DARAJA_SHORTCODE: z.string().regex(/^\d{5,7}$/).default("174379"),
  DARAJA_PASSKEY: z.string().min(1).default("bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"),
  /** B2C / reversal / transaction-status initiator. */
  DARAJA_B2C_SHORTCODE: z.string().regex(/^\d{5,7}$/).default("600000"),
  DARAJA_INITIATOR_NAME: z.string().min(1).default("testapi"),
  /** base64 RSA-encrypted initiator password (Daraja SecurityCredential); the sandbox accepts any value. */
  DARAJA_SECURITY_CREDENTIAL: z.string().min(1).default("c2FuZGJveC1zZWN1cml0eS1jcmVkZW50aWFs"),
  /** Secret from which each M-Pesa callback URL's path token is derived (Daraja callbacks are unsigned). */
  MPESA_CALLBACK_SECRET: z.string().min(16).default("mpesa-callback-dev-secret-change-me"),
  /** Per-call timeout for outbound PSP requests. */
  PSP_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  // --- Inngest (inngest/, docs/inngest-engine.md). Unset: the app talks to the local engine. ---
  /** Inngest Cloud or a self-hosted `inngest start` (e.g. http://inngest:8288). Unset: the local engine. */
  INNGEST_BASE_URL: z.string().url().optional(),
  /** Needed with INNGEST_BASE_URL (Cloud / self-hosted): events are posted to /e/{key}. */
  INNGEST_EVENT_KEY: z.string().min(1).optional(),
  /** Needed with INNGEST_BASE_URL: requests from Inngest are verified with it, and the app signs its replies. */
  INNGEST_SIGNING_KEY: z.string().min(1).optional(),
  /** The previous signing key during a rotation (docs/operations.md "Rotating the Inngest signing key"): calls
   *  signed with either key are accepted, and the app's own calls to Inngest retry with it on a 401. */
  INNGEST_SIGNING_KEY_FALLBACK: z.string().min(1).optional(),
  /** true: INNGEST_BASE_URL is the local engine (`npm run start:engine`), not Inngest: /api/health probes it, /metrics
   *  reports its queue, the dispatcher waits for its sync. Unset: the local engine only when INNGEST_BASE_URL is unset.
   *  Production refuses true without INNGEST_BASE_URL or with an Inngest Cloud URL (server/startup/guard.ts). */
  INNGEST_LOCAL_ENGINE: bool.optional(),
  // --- Payouts and settlement (server/payouts, docs/payouts.md). ---
  /** Fallback when the PSP does not say when a charge's funds are available: seconds after the payment (Stripe: 7 days). */
  STRIPE_SETTLEMENT_FALLBACK_S: z.coerce.number().int().min(0).max(60 * 86400).default(7 * 86400),
  /** M-Pesa funds are in the paybill at once: seconds after the payment before they are available (default 0). */
  MPESA_SETTLEMENT_DELAY_S: z.coerce.number().int().min(0).max(60 * 86400).default(0),
  /** Tests only (refused in production): comma-separated failpoints (server/observability/failpoints.ts) at which the
   *  process kills itself with SIGKILL, e.g. `payout.after_psp_call`. */
  PAYBRIDGE_FAILPOINTS: z.string().min(1).optional(),
  /** Port of the local Inngest-protocol engine started by `npm run dev`. */
  INNGEST_ENGINE_PORT: z.coerce.number().int().min(1).max(65535).default(8288),
  /** Development and tests only: the local engine's URL as the app reaches it (scripts/dev.ts sets INNGEST_BASE_URL
   *  instead). Unset: http://127.0.0.1:INNGEST_ENGINE_PORT. Production refuses it without INNGEST_BASE_URL: a leftover
   *  value would send the events meant for Inngest Cloud there (server/startup/guard.ts). */
  INNGEST_DEV: z.string().min(1).optional(),
  /** Never set it: the Inngest SDK reads it itself, and `true` would make /api/inngest stream its answers
   *  unsigned whatever inngest/serve-options.ts says (the SDK has no option that overrides it). Production refuses it. */
  INNGEST_STREAMING: z.string().min(1).optional(),
});

/** @typedef {z.infer<typeof envSchema>} Env */

/**
 * @param {Record<string, string | undefined>} source
 * @returns {Env}
 */
export function parseEnv(source) {
  // Empty strings mean "unset" (a common .env habit), not "invalid".
  /** @type {Record<string, string>} */
  const cleaned = {};
  for (const [k, v] of Object.entries(source)) if (v !== undefined && v !== "") cleaned[k] = v;
  const result = envSchema.superRefine(fieldKeyIssues).safeParse(cleaned);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  - ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid environment variables:\n${lines.join("\n")}`);
  }
  return result.data;
}

/**
 * The field-encryption key ring the variables describe (server/crypto/key-ring.ts builds the keys from it):
 * FIELD_ENCRYPTION_KEYS plus FIELD_ENCRYPTION_KEY as version 1, or the development key alone when neither is set.
 * @param {Pick<Env, "FIELD_ENCRYPTION_KEY" | "FIELD_ENCRYPTION_KEYS" | "FIELD_ENCRYPTION_ACTIVE_VERSION" | "FIELD_LOOKUP_KEY">} e
 */
export function fieldKeyRingConfig(e) {
  const keys = [...(e.FIELD_ENCRYPTION_KEYS ?? [])];
  const legacy = e.FIELD_ENCRYPTION_KEY ?? (e.FIELD_ENCRYPTION_KEYS ? undefined : DEV_FIELD_ENCRYPTION_KEY);
  if (legacy !== undefined && !keys.some((k) => k.version === 1)) keys.push({ version: 1, key: legacy });
  keys.sort((a, b) => b.version - a.version);
  return { keys, active: e.FIELD_ENCRYPTION_ACTIVE_VERSION ?? keys[0]?.version ?? 1, lookupKey: e.FIELD_LOOKUP_KEY };
}

/** @param {Env} e @param {z.RefinementCtx} ctx */
function fieldKeyIssues(e, ctx) {
  const ring = fieldKeyRingConfig(e);
  const one = e.FIELD_ENCRYPTION_KEYS?.find((k) => k.version === 1);
  if (one && e.FIELD_ENCRYPTION_KEY && one.key !== e.FIELD_ENCRYPTION_KEY) {
    ctx.addIssue({ code: "custom", path: ["FIELD_ENCRYPTION_KEY"], message: "differs from version 1 in FIELD_ENCRYPTION_KEYS; set one of them" });
  }
  if (!ring.keys.some((k) => k.version === ring.active)) {
    ctx.addIssue({ code: "custom", path: ["FIELD_ENCRYPTION_ACTIVE_VERSION"], message: `version ${ring.active} is not in the key ring` });
  }
  if (!ring.lookupKey && !ring.keys.some((k) => k.version === 1)) {
    ctx.addIssue({ code: "custom", path: ["FIELD_LOOKUP_KEY"], message: "required once key version 1 has left the ring (lookup hashes are derived from it; `npm run keys:lookup-key` prints it)" });
  }
}

export const env = parseEnv(process.env);
