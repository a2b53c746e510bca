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

/**
 * How a request to the app failed before any answer came back, when the failure says the app did not run it:
 * - `unreachable`: nothing listened or the host was not found (connection refused, DNS, no route, connect
 *   timeout). The request was never delivered.
 * - `connection_lost`: the connection closed or reset before the response headers (the app restarted, or a
 *   keep-alive socket was closed under us). The app may have started on it, so it is capped by the caller.
 * A timeout after the request was sent is neither: the app may have run it, so it stays an ordinary attempt.
 */
export type TransportFailureKind = "unreachable" | "connection_lost";

const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL", "UND_ERR_CONNECT_TIMEOUT",
]);
const CONNECTION_LOST_CODES = new Set(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CLOSED", "ECONNABORTED"]);

export class AppTransportError extends Error {
  constructor(
    readonly kind: TransportFailureKind,
    readonly code: string,
    cause: unknown,
  ) {
    super(`${kind === "unreachable" ? "The app is unreachable" : "The connection to the app was lost before it answered"} (${code})`, { cause });
    this.name = "AppTransportError";
  }
}

/** The first network error code in `e`'s cause chain (undici wraps it: TypeError "fetch failed" → cause). */
function networkCode(e: unknown): string | undefined {
  for (let cur: unknown = e, depth = 0; cur && typeof cur === "object" && depth < 5; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === "string" && (UNREACHABLE_CODES.has(code) || CONNECTION_LOST_CODES.has(code))) return code;
    const inner = (cur as { errors?: unknown[] }).errors; // AggregateError (several addresses tried)
    if (Array.isArray(inner)) for (const x of inner) {
      const c = networkCode(x);
      if (c) return c;
    }
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Classifies an error thrown while waiting for the response headers; undefined = an ordinary failure. */
export function transportFailureOf(e: unknown): AppTransportError | undefined {
  if (e instanceof AppTransportError) return e;
  const name = (e as { name?: unknown } | null)?.name;
  if (name === "TimeoutError" || name === "AbortError") return undefined;
  const code = networkCode(e);
  if (!code) return undefined;
  return new AppTransportError(UNREACHABLE_CODES.has(code) ? "unreachable" : "connection_lost", code, e);
}

export function httpTransport(fetchImpl: typeof fetch = fetch): Transport {
  return {
    async send(req) {
      let res: Response;
      try {
        res = await fetchImpl(req.url, {
          method: req.method,
          headers: req.headers,
          body: req.body,
          signal: AbortSignal.timeout(req.timeoutMs),
        });
      } catch (e) {
        // Only failures before the headers: once the app answered, a broken body is an ordinary attempt.
        throw transportFailureOf(e) ?? e;
      }
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
