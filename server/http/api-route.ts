import { randomUUID } from "node:crypto";
import type { z } from "zod";
import type { Db } from "@/db/client";
import { authenticateApiKey, type ApiKeyKind, type ApiKeyPrincipal } from "@/server/api-keys/keys";
import { env } from "@/server/env.js";
import { AppError } from "@/server/errors";
import {
  beginIdempotentRequest,
  finishWithError,
  releaseIdempotencyKey,
  requestFingerprint,
  validateIdempotencyKey,
  type IdempotencyRef,
} from "@/server/idempotency/idempotency";
import { consumeRateLimit } from "@/server/rate-limit/consume";
import { clientIpFromHeaders } from "./client-ip";
import { errorBody, toAppError, validationError } from "./errors";

// The one wrapper for /api/v1 route handlers. Small steps, in order: request id -> IP rate limit ->
// API key -> key rate limit -> JSON body -> Idempotency-Key (POST) -> handler. Handlers get a typed
// context scoped to the key's merchant; they never authenticate or parse headers themselves.

export const API_BODY_MAX_BYTES = 256 * 1024;

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
export interface ApiRouteOptions<I> {
  /** Which key kind may call: secret keys for server-to-server, publishable for the browser. */
  keyKinds: ApiKeyKind[];
  idempotent?: boolean;
  input?: z.ZodType<I>;
  /** Requests per minute; default from env (API_RATE_LIMIT_PER_KEY / _PER_IP). */
  limits?: { perKey?: number; perIp?: number };
}

function json(status: number, body: unknown, requestId: string, extra: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers: { "request-id": requestId, "cache-control": "no-store", ...extra } });
}

async function rateLimit(db: Db, bucket: string, limit: number): Promise<void> {
  const r = await consumeRateLimit(db, bucket, limit);
  if (!r.allowed) throw new AppError("rate_limited", `Rate limit of ${limit} requests per minute exceeded`, { details: { retryAfterS: r.resetS } });
}

async function readJson(req: Request): Promise<unknown> {
  const text = await req.text();
  if (Buffer.byteLength(text) > API_BODY_MAX_BYTES) throw new AppError("payload_too_large", `Request bodies are limited to ${API_BODY_MAX_BYTES} bytes`);
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError("validation_failed", "The request body is not valid JSON");
  }
}

function bearer(req: Request): string | null {
  const h = req.headers.get("authorization");
  return h?.startsWith("Bearer ") ? h.slice(7).trim() : null;
}

export function apiRoute<P, I = undefined>(getDb: () => Db, opts: ApiRouteOptions<I>, handler: (ctx: ApiContext<P, I>) => Promise<ApiResult>) {
  return async (req: Request, route: { params: Promise<P> }): Promise<Response> => {
    const requestId = `req_${randomUUID().replaceAll("-", "")}`;
    let idem: IdempotencyRef | undefined;
    const db = getDb();
    try {
      await rateLimit(db, `ip:${clientIpFromHeaders(req.headers)}`, opts.limits?.perIp ?? env.API_RATE_LIMIT_PER_IP);
      const principal = await authenticateApiKey(db, bearer(req));
      if (!opts.keyKinds.includes(principal.kind)) throw new AppError("forbidden", `This endpoint needs a ${opts.keyKinds.join(" or ")} key`);
      await rateLimit(db, `key:${principal.keyId}`, opts.limits?.perKey ?? env.API_RATE_LIMIT_PER_KEY);
      const body = req.method === "GET" ? undefined : await readJson(req);
      const parsed = opts.input ? opts.input.safeParse(body) : { success: true as const, data: undefined as I };
      if (!parsed.success) throw validationError(parsed.error);
      const path = new URL(req.url).pathname;
      if (opts.idempotent) {
        const key = validateIdempotencyKey(req.headers.get("idempotency-key"));
        const begun = await beginIdempotentRequest(db, { merchantId: principal.merchantId, key, method: req.method, path, requestHash: requestFingerprint(req.method, path, body) });
        if (begun.kind === "replay") return json(begun.response.status, begun.response.body, requestId, { "idempotent-replayed": "true" });
        idem = begun.ref;
      }
      const result = await handler({ db, req, params: await route.params, principal, requestId, input: parsed.data, idempotency: idem });
      return json(result.status, result.body, requestId);
    } catch (raw) {
      const err = toAppError(raw);
      if (err.code === "internal") console.error(JSON.stringify({ level: "error", msg: "api internal error", requestId, error: String((raw as Error)?.stack ?? raw) }));
      const body = errorBody(err, requestId);
      if (idem) {
        // 4xx from the handler is deterministic: store it for the key. 5xx: release so a retry resumes.
        // Both leave an already-finished record alone (its stored answer stands).
        if (err.httpStatus < 500) await finishWithError(db, idem, { status: err.httpStatus, body }).catch(() => {});
        else await releaseIdempotencyKey(db, idem).catch(() => {});
      }
      const retryAfter = err.details?.retryAfterS;
      return json(err.httpStatus, body, requestId, retryAfter ? { "retry-after": String(retryAfter) } : {});
    }
  };
}
