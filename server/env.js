// The one place that reads process.env. Everything else imports `env` from here.
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
  /** Public base URL of the app, used in links printed and sent to PSPs. */
  APP_URL: z.string().url().default("http://localhost:3000"),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  /** Seed the demo merchant, sellers and users at start (dev default true). */
  SEED_DEMO: bool.optional(),
  /** Where the embedded Postgres keeps its data when DATABASE_URL is unset. */
  EMBEDDED_PG_DIR: z.string().min(1).default(".data/postgres"),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
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
