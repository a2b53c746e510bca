import { createServer, type IncomingMessage, type Server } from "node:http";
import { timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { checkpointAsyncSteps } from "./checkpoint";
import type { Engine } from "./engine";
import { EventTooLargeError } from "./limits";
import { HEADER, hashSigningKey } from "./protocol";
import { RegistrationError } from "./registry";

// The engine's HTTP face, as the SDK expects Inngest's: `POST /e/:key` (event API), `POST /fn/register`
// (out-of-band sync) and `POST /v1/checkpoint/:runId/async` (the SDK's async checkpoints, checkpoint.ts).
// A fetch-style handler, adapted to node:http below.

export const MAX_BODY_BYTES = 5 * 1024 * 1024;

const eventSchema = z
  .object({ name: z.string().min(1), data: z.record(z.string(), z.unknown()).optional(), id: z.string().min(1).optional(), ts: z.number().optional(), v: z.string().optional() })
  .passthrough();
const registerSchema = z.object({ url: z.string().url(), appName: z.string().min(1), sdk: z.string().optional(), functions: z.array(z.unknown()) }).passthrough();

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

async function handleEvents(engine: Engine, req: Request, key: string): Promise<Response> {
  if (engine.eventKey && !safeEqual(key, engine.eventKey)) return json(401, { error: "Event key not found", status: 401 });
  let raw: unknown;
  try {
    raw = await req.json();
  } catch {
    return json(400, { error: "Cannot parse event payload as JSON", status: 400 });
  }
  const parsed = z.array(eventSchema).safeParse(Array.isArray(raw) ? raw : [raw]);
  if (!parsed.success) return json(400, { error: `Invalid event payload: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`, status: 400 });
  let ids: string[];
  try {
    ids = await engine.sendEvents(parsed.data, req.headers.get(HEADER.eventIdSeed));
  } catch (e) {
    // Inngest's event API answers an event over the size limit with 400 {ids, status, error} (eventstream ErrEventTooLarge).
    if (e instanceof EventTooLargeError) return json(400, { ids: [], status: 400, error: e.message });
    throw e;
  }
  return json(200, { ids, status: 200 });
}

/**
 * `Authorization: Bearer <hashed signing key>`, as the SDK sends it to /fn/register and the checkpoint API; during a
 * rotation the hashed fallback key is accepted too (the SDK retries with it on a 401). No key: no check.
 */
function authorized(engine: Engine, req: Request): boolean {
  if (!engine.signingKey) return true;
  const auth = req.headers.get("authorization") ?? "";
  return [engine.signingKey, engine.signingKeyFallback].some((key) => key !== undefined && safeEqual(auth, `Bearer ${hashSigningKey(key)}`));
}

async function handleCheckpointAsync(engine: Engine, req: Request, runId: string): Promise<Response> {
  if (!authorized(engine, req)) return json(401, { status: 401, error: "Unauthorized" });
  let raw: unknown;
  try {
    raw = await req.json();
  } catch {
    return json(400, { status: 400, error: "invalid request body: not JSON" });
  }
  const outcome = await checkpointAsyncSteps(engine.db, runId, raw);
  // Inngest answers a successful async checkpoint with an empty 200; the SDK only checks the status.
  if (outcome.status === 200) return new Response(null, { status: 200 });
  return json(outcome.status, { status: outcome.status, error: outcome.error, data: { run_id: runId } });
}

async function handleRegister(engine: Engine, req: Request): Promise<Response> {
  if (!authorized(engine, req)) return json(401, { status: 401, error: "Unauthorized" });
  const parsed = registerSchema.safeParse(await req.json().catch(() => null));
  if (!parsed.success) return json(400, { status: 400, error: "Invalid register payload" });
  try {
    await engine.register({ appId: parsed.data.appName, url: parsed.data.url, sdk: parsed.data.sdk, functions: parsed.data.functions });
  } catch (e) {
    if (e instanceof RegistrationError) return json(400, { status: 400, error: e.message });
    throw e;
  }
  return json(200, { status: 200, ok: true, modified: true });
}

export function createEngineHandler(engine: Engine): (req: Request) => Promise<Response> {
  return async (req) => {
    const url = new URL(req.url);
    try {
      const eventMatch = url.pathname.match(/^\/e\/([^/]+)\/?$/);
      if (req.method === "POST" && eventMatch) return await handleEvents(engine, req, decodeURIComponent(eventMatch[1] ?? ""));
      if (req.method === "POST" && url.pathname === "/fn/register") return await handleRegister(engine, req);
      const checkpointMatch = url.pathname.match(/^\/v1\/checkpoint\/([^/]+)\/async\/?$/);
      if (req.method === "POST" && checkpointMatch) return await handleCheckpointAsync(engine, req, checkpointMatch[1] ?? "");
      if (req.method === "GET" && url.pathname === "/health") return json(200, { status: "ok" });
      return json(404, { error: "Not found" });
    } catch (e) {
      // Our own failure: 500 so the SDK retries the send (same seed, same ids: no duplicates).
      console.error("[engine] request failed:", e);
      return json(500, { error: "Internal engine error", status: 500 });
    }
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error("Request body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function listen(handler: (req: Request) => Promise<Response>, port: number, host = "127.0.0.1"): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    void (async () => {
      try {
        const body = req.method === "GET" || req.method === "HEAD" ? undefined : await readBody(req);
        const headers = new Headers();
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
        const response = await handler(new Request(`http://${host}${req.url ?? "/"}`, { method: req.method, headers, body: body ? new Uint8Array(body) : undefined }));
        res.writeHead(response.status, Object.fromEntries(response.headers.entries()));
        res.end(Buffer.from(await response.arrayBuffer()));
      } catch (e) {
        res.writeHead(e instanceof Error && /too large/.test(e.message) ? 413 : 500).end();
      }
    })();
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const addr = server.address();
      const actual = typeof addr === "object" && addr ? addr.port : port;
      resolve({ server, url: `http://${host}:${actual}` });
    });
  });
}
