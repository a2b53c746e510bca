// How the engine reaches the app's serve() endpoint. HTTP for the dev server and e2e; in-process for unit
// tests: the route handlers exported by serve() are called with a Web `Request`, no socket involved.

export interface TransportRequest {
  url: string;
  method: "POST" | "PUT" | "GET";
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}
export interface TransportResponse {
  status: number;
  headers: Headers;
  body: string;
}
export interface Transport {
  send(req: TransportRequest): Promise<TransportResponse>;
}

export function httpTransport(fetchImpl: typeof fetch = fetch): Transport {
  return {
    async send(req) {
      const res = await fetchImpl(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        signal: AbortSignal.timeout(req.timeoutMs),
      });
      return { status: res.status, headers: res.headers, body: await res.text() };
    },
  };
}

type RouteHandler = (req: Request) => Promise<Response> | Response;
export interface RouteHandlers {
  GET?: RouteHandler;
  POST: RouteHandler;
  PUT: RouteHandler;
}

export class TransportTimeoutError extends Error {
  constructor(ms: number) {
    super(`The app did not answer within ${ms} ms`);
    this.name = "TransportTimeoutError";
  }
}

export function inProcessTransport(handlers: RouteHandlers): Transport {
  return {
    async send(req) {
      const handler = handlers[req.method];
      if (!handler) return { status: 405, headers: new Headers(), body: "" };
      const request = new Request(req.url, { method: req.method, headers: req.headers, body: req.body });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TransportTimeoutError(req.timeoutMs)), req.timeoutMs);
      });
      try {
        const res = await Promise.race([Promise.resolve(handler(request)), timeout]);
        return { status: res.status, headers: res.headers, body: await res.text() };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
