/**
 * `npm run start:dispatcher` — the outbox dispatcher (server/outbox) as its own process: it sends the domain
 * events the app committed to the outbox table to Inngest (the local engine, Inngest Cloud or a self-hosted
 * server) and marks them sent. Several may run (rows are locked while sent); one is enough.
 * Env (server/env.js): DATABASE_URL; and the app's Inngest settings (inngest/client.ts): INNGEST_EVENT_KEY with
 * INNGEST_BASE_URL for a self-hosted `inngest start` (unset: Inngest Cloud), or with INNGEST_BASE_URL and
 * INNGEST_LOCAL_ENGINE=true for the local engine (INNGEST_DEV, development only, is refused in production without
 * INNGEST_BASE_URL, as the app refuses it: server/startup/guard.ts).
 * With the local engine it waits until the engine has synced the app's functions before it sends anything: an
 * event sent before that would start no run (Inngest's semantics too), so the outbox holds it until then.
 * Signals and exit codes: scripts/start/part.ts; a database or engine that is briefly away is retried.
 */
import { eq } from "drizzle-orm";
import { createDb } from "../../db/client";
import { engineFunctions } from "../../db/schema";
import { createInngestClient, inngestConfigFromEnv, localEngineUrl, usesLocalEngine } from "../../inngest/client";
import { env } from "../../server/env.js";
import { startOutboxDispatcher } from "../../server/outbox";
import { inngestProductionProblems } from "../../server/startup/guard";
import { runPart } from "./part";

export const FUNCTIONS_POLL_MS = 1000;

runPart("dispatcher", async () => {
  if (!env.DATABASE_URL) throw new Error("DATABASE_URL must be set (docs/operations.md)");
  const unsafe = env.NODE_ENV === "production" ? inngestProductionProblems(env) : [];
  if (unsafe.length > 0) throw new Error(`unsafe configuration:\n  - ${unsafe.join("\n  - ")}`);
  const config = inngestConfigFromEnv();
  const local = usesLocalEngine(config);
  if (!config.eventKey) throw new Error("INNGEST_EVENT_KEY must be set: the engine (local or Inngest) accepts events only under it");
  const client = createInngestClient(config);
  const handle = createDb(env.DATABASE_URL, { max: 2 });
  let stopped = false;
  let stopDispatcher = async () => {};
  const started = (async () => {
    if (local) {
      let said = false;
      for (;;) {
        if (stopped) return;
        const ok = await handle.db
          .select({ id: engineFunctions.id })
          .from(engineFunctions)
          .where(eq(engineFunctions.active, 1))
          .limit(1)
          .then((rows) => rows.length > 0, () => false);
        if (ok) break;
        if (!said) console.log("[dispatcher] waiting for the engine to sync the app's functions");
        said = true;
        await new Promise((r) => setTimeout(r, FUNCTIONS_POLL_MS));
      }
    }
    const dispatcher = startOutboxDispatcher({ db: handle.db, send: async (events) => client.send(events), log: (m) => console.log(m) });
    stopDispatcher = () => dispatcher.stop();
  })();
  const target = local ? `local engine ${localEngineUrl(config)}` : `Inngest ${config.baseUrl ?? "Cloud"}`;
  return {
    ready: `sending outbox events to ${target}`,
    stop: async () => {
      stopped = true;
      await started;
      await stopDispatcher();
      await handle.close();
    },
  };
});
