import { randomUUID } from "node:crypto";
import type { z } from "zod";
import type { Db } from "@/db/client";
import { recordApiRequest } from "@/server/api-log/record";
import { authenticateApiKeyCounted, type ApiKeyKind, type ApiKeyPrincipal } from "@/server/api-keys/keys";
import { env } from "@/server/env.js";
import { AppError } from "@/server/errors";
import {
  beginIdempotentRequest,
  finishWithError,
  releaseIdempotencyKey,
  requestFingerprint,
  responseText,
  startLockHeartbeat,
  validateIdempotencyKey,
  type IdempotencyRef,
} from "@/server/idempotency/idempotency";
import { log, withLogContext } from "@/server/observability/log";
import { metrics } from "@/server/observability/metrics";
import { consumeClientRateLimit, rateLimitResult, type RateLimitResult } from "@/server/rate-limit/consume";
import { clientIpFromHeaders } from "./client-ip";
import { errorBody, toAppError, validationError } from "./errors";

// The one wrapper for /api/v1 route handlers. Small steps, in order: request id -> IP rate limit ->
// API key and key kind, with the key's rate limit (one statement) -> path parameters -> JSON body -> Idempotency-Key (POST) -> handler. Handlers get
// a typed context scoped to the key's merchant; they never authenticate or parse headers themselves.
// Wrong methods and unknown /api/v1 paths answer in the same error shape (route-fallbacks.ts).

export const API_BODY_MAX_BYTES = 256 * 1024;
/** Deeper JSON is refused (400) before anything walks it recursively (the request fingerprint does). */
export const API_BODY_MAX_DEPTH = 64;

export interface ApiContext<P, I> {
  db: Db;
  req: Request;
  params: P;
  principal: ApiKeyPrincipal;
  requestId: string;
  /** The body, validated by the route's schema (before idempotency: invalid requests are not stored). */
  input: I;
  /** Present on idempotent (POST) routes: pass to the service so its last phase stores the response. */
  idempotency?: IdempotencyRef;
}
export interface ApiResult {
  status: number;
  body: unknown;
}
export interface ApiRouteOptions<I, P = unknown> {
  /** Which key kind may call: secret keys for server-to-server, publishable for the browser. */
  keyKinds: ApiKeyKind[];
  idempotent?: boolean;
  /** The body's schema, or one per key (e.g. live-mode keys are held to stricter rules). */
  input?: z.ZodType<I> | ((principal: ApiKeyPrincipal) => z.ZodType<I>);
  /** The path parameters' schema: a malformed one is a 400 naming it, before any query. */
  params?: z.ZodType<P>;
  /** Requests per minute; default from env (API_RATE_LIMIT_PER_KEY / _PER_IP). */
  limits?: { perKey?: number; perIp?: number };
}

export function newRequestId(): string {
  return `req_${randomUUID().replaceAll("-", "")}`;
}

/** A JSON response; its text is what an idempotent request stores, so a replay sends the same bytes. */
function jsonText(status: number, text: string, requestId: string, extra: Record<string, string> = {}): Response {
  return new Response(text, { status, headers: { "content-type": "application/json", "request-id": requestId, "cache-control": "no-store", ...extra } });
}

/** A JSON answer of /api/v1: the bytes an idempotent replay would send, with the request id and no-store. */
export function json(status: number, body: unknown, requestId: string, extra: Record<string, string> = {}): Response {
  return jsonText(status, responseText(body), requestId, extra);
}

function assertAllowed(r: RateLimitResult, limit: number): void {
  if (!r.allowed) throw new AppError("rate_limited", `Rate limit of ${limit} requests per minute exceeded`, { details: { retryAfterS: r.resetS } });
}

/** A body must be sent as application/json; a charset parameter, if any, must be utf-8 (RFC 8259). */
function assertJsonContentType(header: string | null): void {
  const [type = "", ...params] = (header ?? "").split(";");
  const charsetOk = params.every((p) => {
    const [name = "", value = ""] = p.split("=");
    return name.trim().toLowerCase() !== "charset" || value.trim().replace(/^"(.*)"$/, "$1").toLowerCase() === "utf-8";
  });
  if (type.trim().toLowerCase() !== "application/json" || !charsetOk) {
    const got = header ? JSON.stringify(header.slice(0, 100)) : "none";
    throw new AppError("unsupported_media_type", `Content-Type must be application/json (optionally with charset=utf-8); got ${got}`);
  }
}

/** Iterative, so a hostile nesting depth cannot overflow the stack here. */
function deeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth > max) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

/** What the request log keeps of a call: filled in as the wrapper learns it. */
interface LogFacts {
  principal?: ApiKeyPrincipal;
  /** The body as parsed, or its raw text when it did not parse. */
  requestBody?: unknown;
}

async function readJson(req: Request, facts: LogFacts): Promise<unknown> {
  const text = await req.text();
  facts.requestBody = text.length > API_BODY_MAX_BYTES ? text.slice(0, API_BODY_MAX_BYTES) : text || undefined;
  if (Buffer.byteLength(text) > API_BODY_MAX_BYTES) throw new AppError("payload_too_large", `Request bodies are limited to ${API_BODY_MAX_BYTES} bytes`);
  if (!text) return {};
  assertJsonContentType(req.headers.get("content-type"));
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AppError("validation_failed", "The request body is not valid JSON", { details: { fields: [{ path: "(body)", message: "is not valid JSON" }] } });
  }
  if (deeperThan(body, API_BODY_MAX_DEPTH)) {
    throw new AppError("validation_failed", `The request body is nested deeper than ${API_BODY_MAX_DEPTH} levels`, { details: { fields: [{ path: "(body)", message: `is nested deeper than ${API_BODY_MAX_DEPTH} levels` }] } });
  }
  facts.requestBody = body;
  return body;
}

/**
 * After the request took its Idempotency-Key, a refusal is stored as the key's answer: it gets its own code,
 * `request_rejected`, so a client can tell it from `validation_failed` (never stored; fix and retry with the key).
 */
function asStoredRefusal(err: AppError): AppError {
  if (err.code !== "validation_failed") return err;
  return new AppError("request_rejected", err.message, { userMessage: err.userMessage, details: err.details, cause: err });
}

function bearer(req: Request): string | null {
  const h = req.headers.get("authorization");
  return h?.startsWith("Bearer ") ? h.slice(7).trim() : null;
}

/** Hands the decided call to the request log: reads a clone of the response, so the caller's body is untouched. */
function logRequest(getDb: () => Db, req: Request, res: Response, call: { requestId: string; startedMs: number; principal: ApiKeyPrincipal; requestBody: unknown }): void {
  const latencyMs = performance.now() - call.startedMs;
  const copy = res.clone();
  const build = async () => {
    const text = await copy.text();
    let responseBody: unknown = text || undefined;
    try {
      responseBody = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: the text is kept (redacted)
    }
    const errorCode = res.status >= 400 ? (responseBody as { error?: { code?: unknown } } | undefined)?.error?.code : null;
    return {
      merchantId: call.principal.merchantId,
      apiKeyId: call.principal.keyId,
      mode: call.principal.mode,
      method: req.method,
      path: new URL(req.url).pathname,
      status: res.status,
      idempotencyKey: req.headers.get("idempotency-key"),
      requestId: call.requestId,
      latencyMs,
      errorCode: typeof errorCode === "string" ? errorCode : null,
      requestBody: call.requestBody,
      responseBody,
    };
  };
  recordApiRequest(getDb, build, call.requestId);
}

export function apiRoute<P, I = undefined>(getDb: () => Db, opts: ApiRouteOptions<I, P>, handler: (ctx: ApiContext<P, I>) => Promise<ApiResult>) {
  const serve = async (req: Request, route: { params: Promise<P> }, requestId: string, facts: LogFacts): Promise<Response> => {
    let idem: IdempotencyRef | undefined;
    let db: Db | undefined;
    try {
      db = getDb(); // inside the try: no database configured is a JSON 500 like any other failure
      const perIp = opts.limits?.perIp ?? env.API_RATE_LIMIT_PER_IP;
      assertAllowed(await consumeClientRateLimit(db, "ip", clientIpFromHeaders(req.headers), perIp), perIp);
      // The key and its rate-limit count in one statement (server/api-keys/keys.ts); a key this endpoint refuses is
      // not counted.
      const now = Date.now();
      const { principal, count } = await authenticateApiKeyCounted(db, bearer(req), opts.keyKinds, now);
      facts.principal = principal;
      if (!opts.keyKinds.includes(principal.kind)) throw new AppError("forbidden", `This endpoint needs a ${opts.keyKinds.join(" or ")} key`);
      const perKey = opts.limits?.perKey ?? env.API_RATE_LIMIT_PER_KEY;
      assertAllowed(rateLimitResult(count, perKey, now), perKey);
      let params: P = await route.params;
      if (opts.params) {
        const p = opts.params.safeParse(params);
        if (!p.success) throw validationError(p.error);
        params = p.data;
      }
      const body = req.method === "GET" || req.method === "HEAD" ? undefined : await readJson(req, facts);
      const schema = typeof opts.input === "function" ? opts.input(principal) : opts.input;
      const parsed = schema ? schema.safeParse(body) : { success: true as const, data: undefined as I };
      if (!parsed.success) throw validationError(parsed.error);
      const path = new URL(req.url).pathname;
      if (opts.idempotent) {
        const key = validateIdempotencyKey(req.headers.get("idempotency-key"));
        const begun = await beginIdempotentRequest(db, { merchantId: principal.merchantId, key, method: req.method, path, requestHash: requestFingerprint(req.method, path, body) });
        if (begun.kind === "replay") return jsonText(begun.response.status, begun.response.text, requestId, { "idempotent-replayed": "true" });
        idem = begun.ref;
      }
      const heartbeat = idem ? startLockHeartbeat(db, idem) : undefined;
      let result: ApiResult;
      try {
        result = await handler({ db, req, params, principal, requestId, input: parsed.data, idempotency: idem });
      } finally {
        await heartbeat?.stop();
      }
      return json(result.status, result.body, requestId);
    } catch (raw) {
      const err = idem ? asStoredRefusal(toAppError(raw)) : toAppError(raw);
      if (err.code === "internal" || err.code === "service_unavailable") {
        log[err.code === "internal" ? "error" : "warn"]({ err: raw, method: req.method, path: new URL(req.url).pathname }, err.code === "internal" ? "api internal error" : "api database unavailable");
        metrics().serverErrors.inc({ surface: "api_v1" });
      }
      const body = errorBody(err, requestId);
      if (idem && db) {
        // 4xx from the handler is deterministic: store it for the key. 5xx: release so a retry resumes.
        // Both leave an already-finished record alone (its stored answer stands).
        if (err.httpStatus < 500) await finishWithError(db, idem, { status: err.httpStatus, body }).catch(() => {});
        else await releaseIdempotencyKey(db, idem).catch(() => {});
      }
      const retryAfter = err.details?.retryAfterS;
      return json(err.httpStatus, body, requestId, retryAfter ? { "retry-after": String(retryAfter) } : {});
    }
  };
  // Every log line of the request carries its id (server/observability/log.ts). Once the response is decided,
  // an authenticated call gets its request-log row, written after and never awaited (server/api-log/record.ts).
  return (req: Request, route: { params: Promise<P> }): Promise<Response> => {
    const requestId = newRequestId();
    const startedMs = performance.now();
    const facts: LogFacts = {};
    return withLogContext({ requestId }, async () => {
      const res = await serve(req, route, requestId, facts);
      if (facts.principal) logRequest(getDb, req, res, { requestId, startedMs, principal: facts.principal, requestBody: facts.requestBody });
      return res;
    });
  };
}
