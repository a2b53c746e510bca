import type { Db } from "@/db/client";
import { loadAccess, resolveMerchantScope, type MerchantRole, type MerchantScope } from "@/server/auth/access";
import { crossOriginRefusal } from "@/server/auth/request-origin";
import { AppError } from "@/server/errors";
import { log } from "@/server/observability/log";
import { createContextFromHeaders } from "@/server/trpc/context";
import { errorBody, toAppError } from "./errors";

// The wrapper for the dashboard's few non-tRPC route handlers (downloads): the same session and merchant-scope
// resolution as merchantProcedure (server/trpc/init.ts) — cross-origin refusal, the Auth.js session checked
// against the user's row, the pb_merchant cookie or x-merchant-id header, the minimum role — then the handler
// with a typed merchant. Failures answer in the REST error shape; another merchant's scope is 404.

export interface SessionRouteContext {
  db: Db;
  userId: string;
  merchant: MerchantScope;
  requestId: string;
}

/** What a session route's caller is, once its session is checked: the authorization step of one kind of route. */
type Authorize<C> = (base: { db: Db; userId: string; requestId: string; access: Awaited<ReturnType<typeof loadAccess>>; requestedMerchantId: string | undefined }) => C;

/**
 * The shared body of the session route wrappers (this file's sessionMerchantRoute, ops-route.ts sessionOpsRoute):
 * cross-origin refusal, the session checked against the user's row, `authorize` (throws to refuse), then the handler.
 * Failures answer in the REST error shape with the request id, never cached; a rate limit carries Retry-After.
 */
export function sessionRoute<C>(kind: string, authorize: Authorize<C>, handler: (req: Request, ctx: C) => Promise<Response>) {
  return async (req: Request): Promise<Response> => {
    let requestId = "unknown";
    try {
      const refusal = crossOriginRefusal(req);
      if (refusal) throw new AppError("forbidden", refusal);
      const ctx = await createContextFromHeaders(req.headers);
      requestId = ctx.requestId;
      if (!ctx.userId) throw new AppError("unauthenticated");
      const access = await loadAccess(ctx.db, ctx.userId, ctx.session);
      return await handler(req, authorize({ db: ctx.db, userId: ctx.userId, requestId, access, requestedMerchantId: ctx.requestedMerchantId }));
    } catch (err) {
      const e = toAppError(err);
      if (e.code === "internal") log.error({ err, requestId, path: new URL(req.url).pathname }, `${kind} route internal error`);
      const retryAfterS = (e.details as { retryAfterS?: unknown } | undefined)?.retryAfterS;
      const retryAfter: Record<string, string> = typeof retryAfterS === "number" ? { "retry-after": String(retryAfterS) } : {};
      return Response.json(errorBody(e, requestId), { status: e.httpStatus, headers: { "request-id": requestId, "cache-control": "no-store", ...retryAfter } });
    }
  };
}

export function sessionMerchantRoute(minRole: MerchantRole, handler: (req: Request, ctx: SessionRouteContext) => Promise<Response>) {
  return sessionRoute(
    "dashboard",
    ({ db, userId, requestId, access, requestedMerchantId }): SessionRouteContext => ({ db, userId, requestId, merchant: resolveMerchantScope(access, requestedMerchantId, minRole) }),
    handler,
  );
}

/** A CSV file download: never cached, never sniffed as something else, with the request id to quote to support. */
export function csvDownload(body: BodyInit, filename: string, requestId: string): Response {
  return new Response(body, {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${filename}"`,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      "request-id": requestId,
    },
  });
}
