import path from "node:path";
import { defineConfig } from "vitest/config";
import { TEST_EVENT_KEY, TEST_SIGNING_KEY } from "./inngest/engine/test-keys.js";

// Unit (`*.test.ts`) and integration (`*.integration-test.ts`, real Postgres) tests. The global setup
// starts one embedded Postgres (or uses TEST_DATABASE_URL) and migrates a template database; each
// integration test file gets its own fresh database cloned from it (test/db.ts).
export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    include: ["**/*.test.ts", "**/*.integration-test.ts"],
    exclude: ["node_modules/**", ".next/**", ".data/**", "e2e/**"],
    globalSetup: ["./test/global-setup.ts"],
    environment: "node",
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // next-auth imports "next/server" without an extension, which Node's ESM resolver refuses; Vite resolves it.
    server: { deps: { inline: ["next-auth"] } },
    // The app's own Inngest client (app/api/inngest/route.ts) verifies with this key, as in production.
    // LOG_LEVEL warn: the JSON log lines of the code under test (stdout) stay out of the way; log tests lower it.
    env: { NODE_ENV: "test", INNGEST_SIGNING_KEY: TEST_SIGNING_KEY, INNGEST_EVENT_KEY: TEST_EVENT_KEY, LOG_LEVEL: "warn" },
  },
});
