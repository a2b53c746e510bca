// The platform's local parts around the Next app, started by scripts/dev.ts (and usable by benches):
// the PSP sandbox (PSP_MODE=sandbox), the local Inngest engine (unless INNGEST_BASE_URL / signing key
// point at Inngest Cloud or a self-hosted server), and the outbox dispatcher (always: it is how domain
// events reach Inngest, local or real). Each is a default, never a fork: production sets the env vars.
import { createDb } from "../db/client";
import { createInngestClient, inngestConfigFromEnv } from "../inngest/client";
import { startEngine, type EngineHandle } from "../inngest/engine";
import { startSandbox, type Sandbox } from "../sandbox";
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
      sandbox = await startSandbox({
        port: opts.anyPorts ? 0 : env.SANDBOX_PORT,
        publicUrl: opts.anyPorts ? undefined : env.SANDBOX_URL,
        webhookTargets: { stripe: [`${opts.appUrl}/api/webhooks/stripe`] },
        stripeSecretKey: env.STRIPE_SECRET_KEY,
        stripePublishableKey: env.STRIPE_PUBLISHABLE_KEY,
        stripeWebhookSecret: env.STRIPE_WEBHOOK_SECRET,
        darajaConsumerKey: env.DARAJA_CONSUMER_KEY,
        darajaConsumerSecret: env.DARAJA_CONSUMER_SECRET,
        darajaShortcode: env.DARAJA_SHORTCODE,
        darajaPasskey: env.DARAJA_PASSKEY,
      });
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
