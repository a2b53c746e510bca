import { Engine, type EngineOptions } from "./engine";
import { createEngineHandler, listen } from "./server";
import { httpTransport, type Transport } from "./transport";

// startEngine: the engine plus (optionally) its HTTP server, and a sync loop that keeps the app's
// functions registered (the app may start after the engine and re-register on hot reload).

export const APP_SYNC_RETRY_MS = 2000;
export const APP_RESYNC_MS = 15_000;

export interface StartEngineOptions extends Omit<EngineOptions, "transport"> {
  /** The app's serve() URL (e.g. http://localhost:3000/api/inngest); used with the HTTP transport. */
  appUrl?: string;
  /** In-process transport (tests); `appUrl` is then only the URL handed to the SDK. */
  transport?: Transport;
  /** Listen for the SDK's event API and register calls (0 = any free port). Omit for no HTTP server. */
  port?: number;
  /** Re-sync the app periodically (dev hot reload). */
  resyncMs?: number;
}

export interface EngineHandle {
  /** Base URL of the HTTP server (what INNGEST_DEV / INNGEST_BASE_URL point at), if listening. */
  url: string | undefined;
  engine: Engine;
  /** Fetch-style handler of the engine's HTTP API, for in-process clients. */
  fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  stop: () => Promise<void>;
}

export async function startEngine(opts: StartEngineOptions): Promise<EngineHandle> {
  const engine = new Engine({ ...opts, transport: opts.transport ?? httpTransport() });
  const handler = createEngineHandler(engine);
  const http = opts.port !== undefined ? await listen(handler, opts.port) : undefined;
  engine.start();
  let stopped = false;
  let syncTimer: NodeJS.Timeout | undefined;
  const log = opts.log ?? (() => {});
  const syncLoop = async (): Promise<void> => {
    if (stopped || !opts.appUrl) return;
    let next = opts.resyncMs;
    try {
      const n = await engine.syncApp(opts.appUrl);
      log(`[engine] synced ${n} function(s) from ${opts.appUrl}`);
    } catch (e) {
      log(`[engine] sync of ${opts.appUrl} failed (retrying): ${e instanceof Error ? e.message : String(e)}`);
      next = APP_SYNC_RETRY_MS;
    }
    if (!stopped && next) syncTimer = setTimeout(() => void syncLoop(), next);
  };
  if (opts.appUrl) void syncLoop();
  return {
    url: http?.url,
    engine,
    fetch: (input, init) => handler(input instanceof Request ? input : new Request(input, init)),
    stop: async () => {
      stopped = true;
      clearTimeout(syncTimer);
      const closed = new Promise<void>((resolve) => (http ? http.server.close(() => resolve()) : resolve()));
      http?.server.closeAllConnections();
      await closed;
      await engine.stop();
    },
  };
}

export { Engine } from "./engine";
export { RegistrationError } from "./registry";
export { inProcessTransport, httpTransport, type Transport } from "./transport";
export { exponentialBackoff, inngestBackoff } from "./time";
