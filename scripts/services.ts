// The platform's local parts around the Next app, started by scripts/dev.ts (and usable by benches):
// the PSP sandbox (PSP_MODE=sandbox), the local Inngest engine (unless INNGEST_BASE_URL / signing key
// point at Inngest Cloud or a self-hosted server), and the outbox dispatcher (always: it is how domain
// events reach Inngest, local or real). Each is a default, never a fork: production sets the env vars.
import { createDb } from "../db/client";
import { createInngestClient, inngestConfigFromEnv } from "../inngest/client";
import { startEngine, type EngineHandle } from "../inngest/engine";
import { startSandbox, type Sandbox } from "../sandbox";
import { sandboxOptionsFromEnv } from "../sandbox/env-options";
import { env } from "../server/env.js";
import { startOutboxDispatcher, type OutboxDispatcher } from "../server/outbox";

export const ENGINE_RESYNC_MS = 15_000;

export interface PlatformServices {
  sandbox?: Sandbox;
  engine?: EngineHandle;
  dispatcher: OutboxDispatcher;
  /** Env for the Next process so it reaches these parts. */
  childEnv: Record<string, string>;
  stop: () => Promise<void>;
}

export async function startPlatformServices(opts: { databaseUrl: string; appUrl: string; anyPorts: boolean; log: (m: string) => void }): Promise<PlatformServices> {
  const childEnv: Record<string, string> = {};
  const stops: (() => Promise<void>)[] = [];
  let sandbox: Sandbox | undefined;
  let engine: EngineHandle | undefined;
  try {
    if (env.PSP_MODE === "sandbox") {
      const fromEnv = sandboxOptionsFromEnv(opts.appUrl);
      sandbox = await startSandbox(opts.anyPorts ? { ...fromEnv, port: 0, publicUrl: undefined } : fromEnv);
      stops.unshift(() => sandbox!.stop());
      childEnv.SANDBOX_URL = sandbox.url;
    }
    const cloud = Boolean(env.INNGEST_BASE_URL || env.INNGEST_SIGNING_KEY);
    if (!cloud) {
      engine = await startEngine({ databaseUrl: opts.databaseUrl, port: opts.anyPorts ? 0 : env.INNGEST_ENGINE_PORT, appUrl: `${opts.appUrl}/api/inngest`, resyncMs: ENGINE_RESYNC_MS, log: opts.log });
      stops.unshift(() => engine!.stop());
      childEnv.INNGEST_DEV = engine.url!;
    }
    const client = createInngestClient({ ...inngestConfigFromEnv(), ...(engine ? { devUrl: engine.url! } : {}) });
    const handle = createDb(opts.databaseUrl, { max: 2 });
    stops.push(() => handle.close());
    const dispatcher = startOutboxDispatcher({ db: handle.db, send: async (events) => client.send(events), log: opts.log });
    stops.unshift(() => dispatcher.stop());
    return {
      sandbox,
      engine,
      dispatcher,
      childEnv,
      stop: async () => {
        for (const stop of stops) await stop().catch((e) => opts.log(`[services] stop failed: ${String(e)}`));
      },
    };
  } catch (err) {
    for (const stop of stops) await stop().catch(() => {});
    throw err;
  }
}
