import { Inngest, type InngestFunction } from "inngest";
import { serve } from "inngest/next";
import type { Db } from "@/db/client";
import { waitFor } from "@/sandbox/testing";
import { serveOptions } from "../serve-options";
import { TEST_EVENT_KEY, TEST_SIGNING_KEY } from "./test-keys";
import { startEngine, type EngineHandle, type StartEngineOptions } from "./index";
import { exponentialBackoff } from "./time";
import { inProcessTransport, type RouteHandlers } from "./transport";

// Test wiring: an Inngest client + serve() handlers + the engine, connected in-process both ways (the
// engine calls the route handlers with a Request; the client's fetch goes to the engine's handler).

export const TEST_APP_URL = "http://app.test/api/inngest";
export { TEST_EVENT_KEY, TEST_SIGNING_KEY };
export const TEST_BACKOFF = exponentialBackoff(20, 200);

export interface TestApp {
  client: Inngest;
  handle: EngineHandle;
  handlers: RouteHandlers;
  stop: () => Promise<void>;
}

export function createTestClient(engineFetch: () => EngineHandle["fetch"] | undefined, id = "conformance"): Inngest {
  return new Inngest({
    id,
    isDev: false,
    signingKey: TEST_SIGNING_KEY,
    baseUrl: "http://engine.test/",
    eventKey: TEST_EVENT_KEY,
    logger: silentLogger,
    fetch: ((input: string | URL | Request, init?: RequestInit) => {
      const f = engineFetch();
      if (!f) throw new Error("engine not started");
      return f(input, init);
    }) as typeof fetch,
  });
}

export async function startTestApp(
  opts: { db: Db; functions: (client: Inngest) => InngestFunction.Any[]; clientId?: string } & Partial<StartEngineOptions>,
): Promise<TestApp> {
  // The client needs the engine's fetch and the engine needs the client's handlers: bind late.
  const ref: { handle?: EngineHandle } = {};
  const client = createTestClient(() => ref.handle?.fetch, opts.clientId);
  const served = serve({ client, functions: opts.functions(client), ...serveOptions(TEST_APP_URL) });
  // serve() types its handlers for Next (req, ctx); they only read the Web Request.
  const asRoute = (h: unknown) => h as RouteHandlers["POST"];
  const handlers: RouteHandlers = { GET: asRoute(served.GET), POST: asRoute(served.POST), PUT: asRoute(served.PUT) };
  const handle = await startEngine({
    backoff: TEST_BACKOFF,
    pollMs: 20,
    callTimeoutMs: 10_000,
    signingKey: TEST_SIGNING_KEY,
    eventKey: TEST_EVENT_KEY,
    ...opts,
    transport: inProcessTransport(handlers),
  });
  ref.handle = handle;
  await handle.engine.syncApp(TEST_APP_URL);
  return { client, handle, handlers, stop: () => handle.stop() };
}

/** Serves route handlers over HTTP (for an engine or a real Inngest server that calls the app by URL). */
export async function serveHandlersOverHttp(handlers: RouteHandlers, port = 0, host = "127.0.0.1") {
  const { listen } = await import("./server");
  const { server, url } = await listen(async (req) => {
    const h = handlers[req.method as keyof RouteHandlers];
    return h ? h(req) : new Response(null, { status: 405 });
  }, port, host);
  return {
    appUrl: `${url}/api/inngest`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

export const silentLogger = { info() {}, warn() {}, error() {}, debug() {} };

/**
 * Polls `check` until it returns a value (not undefined). The ceiling is generous on purpose (a busy CI
 * machine is slow, not wrong); `why` says what was last seen when it is reached anyway.
 */
export function pollUntil<T>(check: () => Promise<T | undefined> | T | undefined, opts: { ceilingMs?: number; stepMs?: number; why?: () => Promise<unknown> | unknown } = {}): Promise<T> {
  return waitFor(check, opts.ceilingMs ?? 120_000, opts.stepMs ?? 25, opts.why ?? (() => undefined));
}
