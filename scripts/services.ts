// The platform's local parts around the Next app, started by scripts/dev.ts (and usable by benches):
// the PSP sandbox (PSP_MODE=sandbox), the local Inngest engine (unless INNGEST_BASE_URL / signing key
// point at Inngest Cloud or a self-hosted server), and the outbox dispatcher (always: it is how domain
// events reach Inngest, local or real). Each is a default, never a fork: production sets the env vars.
import { createDb } from "../db/client";
import { createInngestClient, inngestConfigFromEnv, usesLocalEngine } from "../inngest/client";
import { startEngine, type EngineHandle } from "../inngest/engine";
import { SANDBOX_DEFAULTS, startSandbox } from "../sandbox";
import { sandboxOptionsFromEnv } from "../sandbox/env-options";
import { probeSandbox } from "../sandbox/identity";
import { env } from "../server/env.js";
import { startOutboxDispatcher, type OutboxDispatcher } from "../server/outbox";
import { isPortFree } from "../db/embedded";
import { assertPortFree } from "./supervise/proc";

/** Resolves when GET {appUrl}/api/health answers 200; rejects after the timeout. */
export async function waitForApp(appUrl: string, timeoutMs = APP_READY_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(`${appUrl}/api/health`).then((r) => r.ok, () => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`The app did not answer ${appUrl}/api/health within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, APP_READY_POLL_MS));
  }
}

export const ENGINE_RESYNC_MS = 15_000;

export const APP_READY_TIMEOUT_MS = 180_000;
export const APP_READY_POLL_MS = 500;

export interface PlatformServices {
  /** `reused`: a sandbox with the same keys was already running on SANDBOX_PORT (e.g. `npm run sandbox`). */
  sandbox?: { url: string; reused: boolean };
  engine?: EngineHandle;
  /**
   * Call once the app answers: registers its functions with the local engine, then starts the outbox
   * dispatcher. Events sent before the app's functions are registered would trigger nothing (Inngest's
   * semantics too), so the outbox holds them until then.
   */
  afterAppReady: () => Promise<void>;
  /** Env for the Next process so it reaches these parts. */
  childEnv: Record<string, string>;
  stop: () => Promise<void>;
}

/** The local engine's keys: it signs every call to /api/inngest with the signing key, and takes events only with the event key. */
export interface LocalInngestKeys {
  signingKey: string;
  eventKey: string;
}

/** No Inngest server configured (INNGEST_BASE_URL or a signing key for Cloud): the local engine runs. */
export function usesLocalEngineFromEnv(): boolean {
  // The app's own rule (inngest/client.ts), before the engine exists: no engine URL to point at yet.
  return usesLocalEngine({ baseUrl: env.INNGEST_BASE_URL, signingKey: env.INNGEST_SIGNING_KEY });
}

export async function startPlatformServices(opts: { databaseUrl: string; appUrl: string; anyPorts: boolean; localInngest?: LocalInngestKeys; log: (m: string) => void }): Promise<PlatformServices> {
  const childEnv: Record<string, string> = {};
  const stops: (() => Promise<void>)[] = [];
  let sandbox: PlatformServices["sandbox"];
  let engine: EngineHandle | undefined;
  try {
    if (env.PSP_MODE === "sandbox") {
      // Its state persists in the platform's database (schema `sandbox`), so a restart remembers every PaymentIntent.
      const fromEnv = { ...sandboxOptionsFromEnv(opts.appUrl), databaseUrl: opts.databaseUrl };
      const reused = opts.anyPorts ? undefined : await reuseRunningSandbox(fromEnv.port!, fromEnv, opts.appUrl, opts.log);
      if (reused) {
        sandbox = { url: reused, reused: true };
      } else {
        const started = await startSandbox(opts.anyPorts ? { ...fromEnv, port: 0, publicUrl: undefined } : fromEnv);
        stops.unshift(() => started.stop());
        sandbox = { url: started.url, reused: false };
      }
      childEnv.SANDBOX_URL = sandbox.url;
    }
    const keys = opts.localInngest;
    if (usesLocalEngineFromEnv()) {
      if (!keys) throw new Error("The local Inngest engine needs its signing and event keys");
      if (!opts.anyPorts) await assertPortFree(env.INNGEST_ENGINE_PORT, "the local Inngest engine, INNGEST_ENGINE_PORT");
      engine = await startEngine({ databaseUrl: opts.databaseUrl, port: opts.anyPorts ? 0 : env.INNGEST_ENGINE_PORT, appUrl: `${opts.appUrl}/api/inngest`, resyncMs: ENGINE_RESYNC_MS, signingKey: keys.signingKey, eventKey: keys.eventKey, log: opts.log });
      stops.unshift(() => engine!.stop());
      // INNGEST_BASE_URL, not INNGEST_DEV: `npm start` is production, where INNGEST_DEV is refused (server/startup/guard.ts).
      Object.assign(childEnv, { INNGEST_BASE_URL: engine.url!, INNGEST_LOCAL_ENGINE: "true", INNGEST_SIGNING_KEY: keys.signingKey, INNGEST_EVENT_KEY: keys.eventKey });
    }
    const client = createInngestClient({ ...inngestConfigFromEnv(), ...(engine && keys ? { baseUrl: engine.url!, localEngine: true, signingKey: keys.signingKey, eventKey: keys.eventKey } : {}) });
    const handle = createDb(opts.databaseUrl, { max: 2 });
    stops.push(() => handle.close());
    let dispatcher: OutboxDispatcher | undefined;
    const afterAppReady = async () => {
      if (engine) await engine.engine.syncApp(`${opts.appUrl}/api/inngest`);
      dispatcher = startOutboxDispatcher({ db: handle.db, send: async (events) => client.send(events), log: opts.log });
    };
    stops.unshift(async () => dispatcher?.stop());
    return {
      sandbox,
      engine,
      afterAppReady,
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

/**
 * SANDBOX_PORT is taken: if a PayBridge sandbox with the same keys answers there (`npm run sandbox`, or
 * `start:sandbox`), use it and point its Stripe webhooks at this app; anything else is refused with a message
 * naming the port and its holder. Returns the sandbox's URL, or undefined when the port is free.
 */
async function reuseRunningSandbox(port: number, options: Parameters<typeof startSandbox>[0], appUrl: string, log: (m: string) => void): Promise<string | undefined> {
  if (await isPortFree(port)) return undefined;
  const url = `http://127.0.0.1:${port}`;
  const probe = await probeSandbox(url, { ...SANDBOX_DEFAULTS, ...options });
  if (probe.kind === "same") {
    const target = `${appUrl}/api/webhooks/stripe`;
    if (!probe.identity!.webhookTargets.stripe.includes(target)) {
      await fetch(`${url}/_sandbox/webhooks/targets`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ stripe: [...probe.identity!.webhookTargets.stripe, target] }) });
    }
    log(`[services] reusing the PSP sandbox already running on ${url} (pid ${probe.identity!.pid})`);
    console.log(`[dev] reusing the PSP sandbox already running on ${url} (pid ${probe.identity!.pid})`);
    return url;
  }
  if (probe.kind === "other_keys") {
    throw new Error(`A PayBridge PSP sandbox (pid ${probe.identity!.pid}) runs on port ${port} (SANDBOX_PORT) with other keys than this app's STRIPE_*/DARAJA_* settings. Stop it, or give both the same keys.`);
  }
  await assertPortFree(port, "the PSP sandbox, SANDBOX_PORT");
  return undefined;
}
