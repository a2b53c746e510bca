import { describe, expect, it } from "vitest";
import { parseEnv } from "@/server/env.js";
import { startupProblems } from "./guard";

// The production refusals every entry point runs (instrumentation.ts register(), scripts/dev.ts).
const KEY = `signkey-prod-${"ab".repeat(32)}`;
const PROD = {
  AUTH_SECRET: "x".repeat(40),
  INNGEST_SIGNING_KEY: KEY,
  FIELD_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64"),
  MPESA_CALLBACK_SECRET: "a-real-random-callback-secret-123",
  AUTH_URL: "https://pay.example.com",
  APP_URL: "https://pay.example.com",
  DATABASE_URL: "postgres://u:p@db:5432/paybridge",
};
const problems = (vars: Record<string, string | undefined>, opts: { production?: boolean; embeddedDatabase?: boolean } = {}) =>
  startupProblems({ production: opts.production ?? true, embeddedDatabase: opts.embeddedDatabase ?? false, env: parseEnv(vars) });

describe("startupProblems", () => {
  it("a complete production configuration starts", () => {
    expect(problems(PROD)).toEqual([]);
  });

  it("production without an Inngest signing key is refused, embedded database or not", () => {
    expect(problems({ ...PROD, INNGEST_SIGNING_KEY: undefined }).join()).toMatch(/INNGEST_SIGNING_KEY: required/);
    expect(problems({ AUTH_SECRET: PROD.AUTH_SECRET }, { embeddedDatabase: true }).join()).toMatch(/INNGEST_SIGNING_KEY: required/);
  });

  it("a signing key that is not in Inngest's format is refused", () => {
    expect(problems({ ...PROD, INNGEST_SIGNING_KEY: "secret" }).join()).toMatch(/INNGEST_SIGNING_KEY: not an Inngest signing key/);
  });

  it("production refuses the public development secrets and a non-https AUTH_URL", () => {
    const found = problems({ ...PROD, FIELD_ENCRYPTION_KEY: undefined, MPESA_CALLBACK_SECRET: undefined, AUTH_URL: "http://pay.example.com", AUTH_SECRET: undefined });
    expect(found.map((p) => p.split(":")[0]).sort()).toEqual(["AUTH_SECRET", "AUTH_URL", "FIELD_ENCRYPTION_KEY", "MPESA_CALLBACK_SECRET"]);
  });

  it("the embedded database under NODE_ENV=production (the e2e server) needs only the generated keys", () => {
    expect(problems({ AUTH_SECRET: PROD.AUTH_SECRET, INNGEST_SIGNING_KEY: KEY, APP_URL: "http://localhost:3100" }, { embeddedDatabase: true })).toEqual([]);
  });

  it("development starts on defaults; live PSP mode with sandbox keys is refused in any mode", () => {
    expect(problems({}, { production: false })).toEqual([]);
    expect(problems({ PSP_MODE: "live" }, { production: false }).join()).toMatch(/STRIPE_SECRET_KEY/);
  });
});
