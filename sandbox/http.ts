// The sandbox's HTTP core: routing, body parsing, fault application and the two error shapes
// (Stripe `{error:{type,code,…}}`, Daraja `{requestId,errorCode,errorMessage}`).
import { createHash, randomBytes } from "node:crypto";
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import qs from "qs";
import { FAULT_HEADER, type FaultRules, type FaultSet, mergeFaults, parseFaults, type RequestFault } from "./faults";

export const MAX_BODY_BYTES = 1_000_000;
/** multipart/form-data (Stripe file uploads): a 10 MB file plus its part headers. */
export const MAX_MULTIPART_BYTES = 10 * 1024 * 1024 + 64 * 1024;
/** qs limits: Stripe bodies nest a few levels and lists (expand[0..n]) stay short. */
const QS_OPTIONS = { arrayLimit: 1000, depth: 10, parameterLimit: 5000 } as const;

export interface SandboxRequest {
  method: string;
  path: string;
  query: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  /** The body as text; for multipart, a canonical digest of its parts (so an idempotent retry matches). */
  rawBody: string;
  /** Form-encoded (Stripe) or JSON (Daraja) body, parsed; multipart file parts are `UploadedFile`s. */
  body: Record<string, unknown>;
  faults: FaultSet;
  requestId: string;
}

/** A file part of a multipart/form-data body. */
export interface UploadedFile {
  filename: string;
  contentType: string;
  data: Buffer;
}

export function isUploadedFile(v: unknown): v is UploadedFile {
  return typeof v === "object" && v !== null && Buffer.isBuffer((v as UploadedFile).data);
}

export interface SandboxResponse {
  status: number;
  /** JSON-encoded unless a string or a Buffer (sent as-is). */
  body: unknown;
  headers?: Record<string, string>;
  /** Default application/json; strings with another type are sent as-is. */
  contentType?: string;
}

export type Handler = (req: SandboxRequest, params: string[]) => Promise<SandboxResponse> | SandboxResponse;
export interface Route {
  method: string;
  pattern: RegExp;
  handle: Handler;
}

/** A Stripe API error; `toResponse` gives the body the SDK parses into its error classes. */
export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: "card_error" | "invalid_request_error" | "api_error" | "idempotency_error" | "rate_limit_error",
    readonly code: string | undefined,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
  toResponse(): SandboxResponse {
    const error = { type: this.type, code: this.code, message: this.message, doc_url: this.code ? `https://stripe.com/docs/error-codes/${this.code}` : undefined, ...this.extra };
    return { status: this.status, body: { error }, headers: this.headers };
  }
}

export class DarajaApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
  toResponse(requestId: string): SandboxResponse {
    return { status: this.status, body: { requestId, errorCode: this.errorCode, errorMessage: this.message } };
  }
}

export function stripeNotFound(kind: string, id: string, param = "id"): StripeApiError {
  return new StripeApiError(404, "invalid_request_error", "resource_missing", `No such ${kind}: '${id}'`, { param });
}

/** The body, or `tooLarge` (the rest is read and dropped, so the request still gets an answer). */
function readBody(req: IncomingMessage, limit: number): Promise<{ data: Buffer; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    req.on("end", () => resolve({ data: Buffer.concat(chunks), tooLarge: size > limit }));
    req.on("error", reject);
  });
}

function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (!raw) return {};
  if (contentType?.includes("application/json")) {
    const parsed: unknown = JSON.parse(raw);
    return parsed && typeof parsed === "object" ? (parsed as Record<string, unknown>) : {};
  }
  return qs.parse(raw, QS_OPTIONS) as Record<string, unknown>;
}

const CRLF = Buffer.from("\r\n");

/**
 * multipart/form-data as the stripe SDK sends it (RFC 7578): text parts are parsed like a form body (brackets
 * nest), file parts become UploadedFile. `digest` stands for the body in idempotency fingerprints: the SDK's
 * random boundary differs between two calls with the same parameters.
 */
export function parseMultipart(data: Buffer, contentType: string): { body: Record<string, unknown>; digest: string } {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!boundary) throw new Error("multipart/form-data without a boundary");
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]!.trim()}`);
  const fields: string[] = [];
  const files: Record<string, UploadedFile> = {};
  const digest = createHash("sha256");
  let pos = data.indexOf(delimiter);
  if (pos < 0) throw new Error("multipart/form-data body without its boundary");
  for (;;) {
    pos += delimiter.length;
    if (data.subarray(pos, pos + 2).toString() === "--") break; // the closing delimiter
    if (data.subarray(pos, pos + 2).equals(CRLF)) pos += 2;
    const next = data.indexOf(delimiter, pos);
    if (next < 0) throw new Error("multipart/form-data body cut short");
    const part = data.subarray(pos, next - 2); // without the CRLF before the delimiter
    const split = part.indexOf("\r\n\r\n");
    if (split < 0) throw new Error("multipart/form-data part without headers");
    const headers = part.subarray(0, split).toString("utf8");
    const content = part.subarray(split + 4);
    const disposition = /content-disposition:[^\r\n]*/i.exec(headers)?.[0] ?? "";
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    if (name === undefined) throw new Error("multipart/form-data part without a name");
    const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
    if (filename !== undefined) {
      const type = /content-type:\s*([^\r\n]*)/i.exec(headers)?.[1]?.trim() ?? "application/octet-stream";
      files[name] = { filename: filename.replace(/%22/g, '"'), contentType: type, data: Buffer.from(content) }; // the SDK writes " as %22
      digest.update(`${name}\u0000${filename}\u0000${type}\u0000`).update(content).update("\u0000");
    } else {
      fields.push(`${encodeURIComponent(name)}=${encodeURIComponent(content.toString("utf8"))}`);
      digest.update(`${name}\u0000`).update(content).update("\u0000");
    }
    pos = next;
  }
  const body = { ...(qs.parse(fields.join("&"), QS_OPTIONS) as Record<string, unknown>), ...files };
  return { body, digest: `multipart:${digest.digest("hex")}` };
}

function faultResponse(fault: RequestFault, stripe: boolean, requestId: string): SandboxResponse | undefined {
  const daraja = (status: number, code: string, msg: string) => new DarajaApiError(status, code, msg).toResponse(requestId);
  switch (fault.kind) {
    case "status": {
      const headers: Record<string, string> = fault.shouldRetry === undefined ? {} : { "stripe-should-retry": String(fault.shouldRetry) };
      if (!stripe) return { ...daraja(fault.status, `${fault.status}.003.01`, "Internal Server Error"), headers };
      const code = fault.status === 409 ? "lock_timeout" : undefined;
      return new StripeApiError(fault.status, "api_error", code, "Sandbox fault: injected server error", {}, headers).toResponse();
    }
    case "rate_limit": {
      const headers = { "retry-after": String(fault.retryAfterS) };
      if (!stripe) return { ...daraja(429, "429.001.01", "Spike arrest violation"), headers };
      return new StripeApiError(429, "invalid_request_error", "rate_limit", "Too many requests hit the API too quickly.", {}, headers).toResponse();
    }
    case "lock_timeout":
      return new StripeApiError(429, "invalid_request_error", "lock_timeout", "This object cannot be accessed right now because another API request or Stripe process is currently accessing it.", {}, { "stripe-should-retry": "true" }).toResponse();
    default:
      return undefined;
  }
}

export interface ServerDeps {
  routes: Route[];
  rules: FaultRules;
  /** Wraps a matched handler (Stripe idempotency); returns the response and whether the work committed. */
  wrap: (req: SandboxRequest, run: () => Promise<SandboxResponse>) => Promise<SandboxResponse>;
  onHang: (res: ServerResponse) => void;
  /** Sees every request as it arrives, before faults apply (the sandbox's request log). */
  onRequest?: (method: string, path: string) => void;
  /** Stores what the request changed; awaited before the answer is sent (persistence). */
  commit?: () => Promise<void>;
}

async function dispatch(deps: ServerDeps, req: SandboxRequest): Promise<SandboxResponse> {
  const stripe = req.path.startsWith("/v1/");
  for (const route of deps.routes) {
    if (route.method !== req.method) continue;
    const m = route.pattern.exec(req.path);
    if (!m) continue;
    const run = async () => {
      try {
        return await route.handle(req, m.slice(1).map(decodeURIComponent));
      } catch (err) {
        if (err instanceof StripeApiError) return err.toResponse();
        if (err instanceof DarajaApiError) return err.toResponse(req.requestId);
        throw err;
      }
    };
    return stripe ? deps.wrap(req, run) : run();
  }
  if (stripe) return new StripeApiError(404, "invalid_request_error", undefined, `Unrecognized request URL (${req.method}: ${req.path}).`).toResponse();
  return { status: 404, body: { requestId: req.requestId, errorCode: "404.001.01", errorMessage: "Resource not found" } };
}

function send(res: ServerResponse, reply: SandboxResponse, requestId: string, truncate: boolean): void {
  const text = typeof reply.body === "string" || Buffer.isBuffer(reply.body) ? reply.body : JSON.stringify(reply.body);
  const headers: Record<string, string> = {
    "content-type": reply.contentType ?? "application/json",
    "request-id": requestId,
    ...corsHeaders(),
    ...(reply.headers ?? {}),
  };
  if (truncate) {
    res.writeHead(reply.status, { ...headers, "content-length": String(Buffer.byteLength(text)) });
    const half = Math.max(1, Math.floor(text.length / 2));
    res.write(typeof text === "string" ? text.slice(0, half) : text.subarray(0, half));
    res.socket?.destroy();
    return;
  }
  res.writeHead(reply.status, headers);
  res.end(text);
}

/** The card field and stripe.js stand-in run in the browser on another origin; they call us with a publishable key. */
function corsHeaders(): Record<string, string> {
  return {
    "access-control-allow-origin": "*",
    "access-control-allow-headers": "authorization, content-type, stripe-version, idempotency-key, sandbox-fault",
    "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function requestFaults(deps: ServerDeps, method: string, path: string, headers: IncomingHttpHeaders, body: Record<string, unknown>): FaultSet {
  const header = headers[FAULT_HEADER];
  const metadata = (body.metadata as Record<string, unknown> | undefined)?.sandbox_fault;
  return mergeFaults(
    parseFaults(Array.isArray(header) ? header.join(",") : header),
    parseFaults(typeof metadata === "string" ? metadata : undefined),
    deps.rules.take(method, path),
  );
}

async function handle(deps: ServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const requestId = `req_${randomBytes(8).toString("hex")}`;
  const url = new URL(req.url ?? "/", "http://sandbox");
  const method = (req.method ?? "GET").toUpperCase();
  deps.onRequest?.(method, url.pathname);
  if (method === "OPTIONS") return send(res, { status: 204, body: "" }, requestId, false);
  const contentType = req.headers["content-type"];
  const multipart = contentType?.toLowerCase().startsWith("multipart/form-data") ?? false;
  const { data, tooLarge } = await readBody(req, multipart ? MAX_MULTIPART_BYTES : MAX_BODY_BYTES);
  if (tooLarge) {
    const message = multipart ? "The file you uploaded is too large. The maximum size is 10 MB." : "Request body too large.";
    return send(res, new StripeApiError(400, "invalid_request_error", "parameter_invalid", message, multipart ? { param: "file" } : {}).toResponse(), requestId, false);
  }
  let rawBody = multipart ? "" : data.toString("utf8");
  let body: Record<string, unknown>;
  let faults: FaultSet;
  try {
    if (multipart) ({ body, digest: rawBody } = parseMultipart(data, contentType!));
    else body = parseBody(rawBody, contentType);
    faults = requestFaults(deps, method, url.pathname, req.headers, body);
  } catch (err) {
    const message = err instanceof Error ? err.message : "bad request";
    return send(res, new StripeApiError(400, "invalid_request_error", "parameter_invalid", message).toResponse(), requestId, false);
  }
  const query = qs.parse(url.search.slice(1), QS_OPTIONS) as Record<string, unknown>;
  const sreq: SandboxRequest = { method, path: url.pathname, query, headers: req.headers, rawBody, body, faults, requestId };
  for (const f of faults.request) {
    if (f.kind === "latency") await sleep(f.ms + Math.round(Math.random() * f.jitterMs));
    if (f.kind === "reset") return void req.socket.destroy();
    if (f.kind === "hang" && !f.afterCommit) return deps.onHang(res);
    const early = faultResponse(f, url.pathname.startsWith("/v1/"), requestId);
    if (early) return send(res, early, requestId, false);
  }
  let reply = await dispatch(deps, sreq);
  try {
    await deps.commit?.();
  } catch (err) {
    console.error("[sandbox] storing the change failed", err);
    // Not stored, so not acknowledged: the client retries (its Idempotency-Key replays the in-memory answer).
    reply = new StripeApiError(500, "api_error", undefined, "Sandbox could not store the change; retry the request").toResponse();
  }
  if (faults.request.some((f) => f.kind === "hang" && f.afterCommit)) return deps.onHang(res);
  send(res, reply, requestId, faults.request.some((f) => f.kind === "truncate"));
}

export function createHttpServer(deps: ServerDeps): http.Server {
  return http.createServer((req, res) => {
    handle(deps, req, res).catch((err: unknown) => {
      console.error("[sandbox] handler failed", err);
      if (!res.headersSent) send(res, new StripeApiError(500, "api_error", undefined, "Sandbox internal error").toResponse(), "req_internal", false);
      else res.end();
    });
  });
}
