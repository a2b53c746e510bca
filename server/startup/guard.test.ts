import { createHmac } from "node:crypto";
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

  it("production refuses the development key anywhere in the field-encryption key ring, and a lookup key derived from it", () => {
    const real = Buffer.alloc(32, 9).toString("base64");
    const dev = "ZGV2LW9ubHktZmllbGQta2V5LWRvLW5vdC11c2UtISE=";
    expect(problems({ ...PROD, FIELD_ENCRYPTION_KEY: undefined, FIELD_ENCRYPTION_KEYS: `2:${real},1:${dev}` }).join()).toMatch(/FIELD_ENCRYPTION_KEYS \(version 1\): the development key is public/);
    expect(problems({ ...PROD, FIELD_ENCRYPTION_KEYS: `2:${real}` })).toEqual([]);
    expect(problems({ ...PROD, FIELD_ENCRYPTION_KEY: undefined, FIELD_ENCRYPTION_KEYS: `2:${real}`, FIELD_LOOKUP_KEY: createHmac("sha256", Buffer.from(dev, "base64")).update("lookup-hash-v1").digest().toString("base64") }).join()).toMatch(/FIELD_LOOKUP_KEY: derived from the public development key/);
    // The ring alone, without version 1: the lookup key must be pinned (a parse error in every mode).
    expect(() => problems({ ...PROD, FIELD_ENCRYPTION_KEY: undefined, FIELD_ENCRYPTION_KEYS: `2:${real}` })).toThrow(/FIELD_LOOKUP_KEY: required once key version 1 has left the ring/);
  });

  it("the embedded database under NODE_ENV=production (the e2e server) needs only the generated keys", () => {
    expect(problems({ AUTH_SECRET: PROD.AUTH_SECRET, INNGEST_SIGNING_KEY: KEY, APP_URL: "http://localhost:3100" }, { embeddedDatabase: true })).toEqual([]);
  });

  it("production refuses INNGEST_DEV without INNGEST_BASE_URL (a leftover would take Inngest Cloud's events), embedded database or not", () => {
    const leftover = { ...PROD, INNGEST_DEV: "http://127.0.0.1:8288" };
    expect(problems(leftover).join()).toMatch(/INNGEST_DEV: set without INNGEST_BASE_URL/);
    expect(problems(leftover, { embeddedDatabase: true }).join()).toMatch(/INNGEST_DEV: set without INNGEST_BASE_URL/);
    // INNGEST_DEV=1 is the SDK's dev-mode flag: just as much a leftover.
    expect(problems({ ...PROD, INNGEST_DEV: "1" }).join()).toMatch(/INNGEST_DEV/);
    // The local engine in production: INNGEST_BASE_URL names it; a stray INNGEST_DEV then no longer decides anything.
    expect(problems({ ...PROD, INNGEST_BASE_URL: "http://engine.internal:8288", INNGEST_LOCAL_ENGINE: "true" })).toEqual([]);
    expect(problems({ ...leftover, INNGEST_BASE_URL: "http://inngest.internal:8288" })).toEqual([]);
    // Development and tests keep pointing at the local engine with it.
    expect(problems({ INNGEST_DEV: "http://127.0.0.1:8288" }, { production: false })).toEqual([]);
  });

  it("production refuses INNGEST_LOCAL_ENGINE=true that names no local engine: without INNGEST_BASE_URL, or at Inngest Cloud", () => {
    // Without a base URL the client would send to http://127.0.0.1:INNGEST_ENGINE_PORT (inngest/client.ts), not to Cloud.
    expect(problems({ ...PROD, INNGEST_LOCAL_ENGINE: "true" }).join()).toMatch(/INNGEST_LOCAL_ENGINE: true without INNGEST_BASE_URL/);
    // At Inngest Cloud the dispatcher would wait for engine_functions rows that Cloud never writes.
    for (const url of ["https://api.inngest.com", "https://inn.gs", "https://API.Inngest.com/"]) {
      expect(problems({ ...PROD, INNGEST_BASE_URL: url, INNGEST_LOCAL_ENGINE: "true" }).join()).toMatch(/INNGEST_LOCAL_ENGINE: true with INNGEST_BASE_URL at Inngest Cloud/);
      expect(problems({ ...PROD, INNGEST_BASE_URL: url })).toEqual([]);
    }
    expect(problems({ ...PROD, INNGEST_BASE_URL: "http://inngest-engine.internal:8288", INNGEST_LOCAL_ENGINE: "true" })).toEqual([]);
    expect(problems({ ...PROD, INNGEST_LOCAL_ENGINE: "false" })).toEqual([]);
    expect(problems({ INNGEST_LOCAL_ENGINE: "true" }, { production: false })).toEqual([]);
  });

  it("production refuses INNGEST_STREAMING, which the SDK reads over the app's serve options", () => {
    expect(problems({ ...PROD, INNGEST_STREAMING: "true" }).join()).toMatch(/INNGEST_STREAMING: must be unset/);
  });

  it("a fallback signing key in Inngest's format is accepted during a rotation; anything else is refused", () => {
    expect(problems({ ...PROD, INNGEST_SIGNING_KEY_FALLBACK: `signkey-prod-${"cd".repeat(32)}` })).toEqual([]);
    expect(problems({ ...PROD, INNGEST_SIGNING_KEY_FALLBACK: "old" }).join()).toMatch(/INNGEST_SIGNING_KEY_FALLBACK: not an Inngest signing key/);
  });

  it("development starts on defaults; live PSP mode with sandbox keys is refused in any mode", () => {
    expect(problems({}, { production: false })).toEqual([]);
    expect(problems({ PSP_MODE: "live" }, { production: false }).join()).toMatch(/STRIPE_SECRET_KEY/);
  });
});
