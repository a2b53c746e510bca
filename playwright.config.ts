import { defineConfig, devices } from "@playwright/test";

// E2E against a built app (`next build` runs first in `npm run test:e2e`), served by `next start` through
// scripts/dev.ts --prod --ephemeral: a throwaway embedded Postgres, migrated and seeded, on its own port.
// Chromium is Debian's (/usr/bin/chromium); `npx playwright install` cannot download browsers here.

/** The e2e app's port; E2E_PORT moves it (a second checkout running its own e2e beside this one). */
const PORT = Number(process.env.E2E_PORT ?? 3100);
/** Written by the e2e server (scripts/dev.ts): its database URL, and a copy of the app's logs to scan. */
export const E2E_STATE_FILE = ".data/e2e/state.json";
export const E2E_LOG_FILE = ".data/e2e/server.log";
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export default defineConfig({
  testDir: "./e2e",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    baseURL: `http://localhost:${PORT}`,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          executablePath: CHROMIUM,
          args: [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
          ],
        },
      },
    },
  ],
  webServer: {
    command: `rm -f ${E2E_LOG_FILE} && npx tsx scripts/dev.ts --prod --ephemeral --port ${PORT} --state-file ${E2E_STATE_FILE} --log-file ${E2E_LOG_FILE}`,
    url: `http://localhost:${PORT}/api/health`,
    timeout: 180_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    gracefulShutdown: { signal: "SIGTERM", timeout: 15_000 },
    env: { DATABASE_URL: "", NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" },
  },
});
