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
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  // --- Public API (server/api-keys, server/idempotency, server/rate-limit, server/crypto). ---
  /** base64 of 32 bytes: AES-256-GCM key for buyer details at rest. The default is for development only and
   *  is refused by `npm start` in production (`openssl rand -base64 32`). */
  FIELD_ENCRYPTION_KEY: z
    .string()
    .refine((v) => Buffer.from(v, "base64").length === 32, "must be base64 of exactly 32 bytes")
    .default("ZGV2LW9ubHktZmllbGQta2V5LWRvLW5vdC11c2UtISE="),
  /** Requests per minute per API key and per client IP on /api/v1. */
  API_RATE_LIMIT_PER_KEY: z.coerce.number().int().min(1).default(600),
  API_RATE_LIMIT_PER_IP: z.coerce.number().int().min(1).default(1200),
  /** Hosted-checkout actions (start a card or M-Pesa payment, submit) per minute per client IP. */
  CHECKOUT_RATE_LIMIT_PER_IP: z.coerce.number().int().min(1).default(120),
  // --- PSPs (server/psp, sandbox/; docs/psp.md). Defaults point at the local PSP sandbox. ---
  /** sandbox: the local PSP sandbox (dev/test/e2e). live: api.stripe.com / api.safaricom.co.ke, real keys required. */
  PSP_MODE: z.enum(["sandbox", "live"]).default("sandbox"),
  /** Where the sandbox listens (Stripe-compatible API, Daraja API, card field); `npm run sandbox` and `npm run dev`. */
  SANDBOX_PORT: z.coerce.number().int().min(1).max(65535).default(12111),
  /** Base URL of the sandbox as the app reaches it. Unset: http://127.0.0.1:SANDBOX_PORT. */
  SANDBOX_URL: z.string().url().optional(),
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
  /** The previous signing key while Inngest rotates keys: requests signed with either are accepted. */
  INNGEST_SIGNING_KEY_FALLBACK: z.string().min(1).optional(),
  /** Port of the local Inngest-protocol engine started by `npm run dev`. */
  INNGEST_ENGINE_PORT: z.coerce.number().int().min(1).max(65535).default(8288),
  /** URL of the local engine as the app reaches it. Unset: http://127.0.0.1:INNGEST_ENGINE_PORT. */
  INNGEST_DEV: z.string().min(1).optional(),
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
  const result = envSchema.safeParse(cleaned);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  - ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid environment variables:\n${lines.join("\n")}`);
  }
  return result.data;
}

export const env = parseEnv(process.env);
