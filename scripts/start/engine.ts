/**
 * `npm run start:engine` — the local Inngest-protocol engine (inngest/engine) as its own process, for
 * self-hosting without Inngest Cloud (docs/operations.md). With Inngest Cloud or a self-hosted `inngest start`
 * (INNGEST_BASE_URL) this process is not run at all.
 * Env (server/env.js): DATABASE_URL (the app's database: the engine keeps its runs in the engine_* tables),
 * INNGEST_ENGINE_PORT (where it listens; the app and the dispatcher reach it as INNGEST_BASE_URL, with
 * INNGEST_LOCAL_ENGINE=true: it serves the SDK's event and register API), APP_URL (it calls
 * ${APP_URL}/api/inngest and re-syncs the app's functions from there every APP_RESYNC_MS),
 * INNGEST_SIGNING_KEY (it signs every call to the app with it; the app verifies), INNGEST_EVENT_KEY (events are
 * accepted only under it). Signals and exit codes: scripts/start/part.ts.
 */
import { APP_RESYNC_MS, startEngine } from "../../inngest/engine";
import { env } from "../../server/env.js";
import { runPart } from "./part";

runPart("engine", async () => {
  const missing = (["DATABASE_URL", "INNGEST_SIGNING_KEY", "INNGEST_EVENT_KEY"] as const).filter((k) => !env[k]);
  if (missing.length > 0) throw new Error(`${missing.join(", ")} must be set (docs/operations.md)`);
  const appUrl = `${env.APP_URL.replace(/\/+$/, "")}/api/inngest`;
  const debug = env.LOG_LEVEL === "debug";
  const handle = await startEngine({
    databaseUrl: env.DATABASE_URL!,
    port: env.INNGEST_ENGINE_PORT,
    appUrl,
    resyncMs: APP_RESYNC_MS,
    signingKey: env.INNGEST_SIGNING_KEY,
    // During a rotation (docs/operations.md): the old key is still accepted on /fn/register, checkpoints and the app's answers.
    signingKeyFallback: env.INNGEST_SIGNING_KEY_FALLBACK,
    eventKey: env.INNGEST_EVENT_KEY,
    // Sync results and retried failures are per-minute chatter: shown with LOG_LEVEL=debug.
    log: (m) => (debug || !/^\[engine\] (synced|sync of)/.test(m)) && console.log(m),
  });
  return { ready: `${handle.url} (app ${appUrl})`, stop: () => handle.stop() };
});
