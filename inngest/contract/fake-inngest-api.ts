import { createServer, type Server } from "node:http";

// A stand-in for Inngest's API (the part the SDK calls back: POST /v1/checkpoint/{runId}/async and
// POST /fn/register), answering as inngest/inngest does (fixtures/checkpoint.json, fixtures/sync.json) and
// recording what the SDK sent. Not the app's infrastructure: it plays Inngest, the other side of the contract.

export interface Recorded {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface FakeAnswer {
  status: number;
  body?: unknown;
}

export interface FakeInngestApi {
  url: string;
  requests: Recorded[];
  /** What POST /v1/checkpoint/{runId}/async answers (default: 200, empty body, as checkpoint.go on success). */
  checkpoint: FakeAnswer;
  /** What POST /fn/register answers (default: 200 {ok: true, modified: true}, SDK_SPEC 4.3.4). */
  register: FakeAnswer;
  close(): Promise<void>;
}

export async function startFakeInngestApi(): Promise<FakeInngestApi> {
  const api: Omit<FakeInngestApi, "url" | "close"> = { requests: [], checkpoint: { status: 200 }, register: { status: 200, body: { ok: true, modified: true } } };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      api.requests.push({ method: req.method ?? "", path, headers, body: Buffer.concat(chunks).toString("utf8") });
      const answer = req.method === "POST" && /^\/v1\/checkpoint\/[^/]+\/async$/.test(path) ? api.checkpoint : req.method === "POST" && path === "/fn/register" ? api.register : { status: 404, body: { error: "Not found" } };
      res.writeHead(answer.status, answer.body === undefined ? {} : { "content-type": "application/json" });
      res.end(answer.body === undefined ? "" : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return Object.assign(api, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}
