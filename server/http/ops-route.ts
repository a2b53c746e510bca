import type { Db } from "@/db/client";
import { loadAccess, requireOps } from "@/server/auth/access";
import { crossOriginRefusal } from "@/server/auth/request-origin";
import { AppError } from "@/server/errors";
import { log } from "@/server/observability/log";
import { createContextFromHeaders } from "@/server/trpc/context";
import { errorBody, toAppError } from "./errors";

// The wrapper for the ops console's few non-tRPC route handlers (downloads, uploads): the same checks as
// opsProcedure (server/trpc/init.ts) — cross-origin refusal, the Auth.js session checked against the user's row,
// the ops role — then the handler. Failures answer in the REST error shape (server/http/session-route.ts).

export interface OpsRouteContext {
  db: Db;
  userId: string;
  requestId: string;
}

export function sessionOpsRoute(handler: (req: Request, ctx: OpsRouteContext) => Promise<Response>) {
  return async (req: Request): Promise<Response> => {
    let requestId = "unknown";
    try {
      const refusal = crossOriginRefusal(req);
      if (refusal) throw new AppError("forbidden", refusal);
      const ctx = await createContextFromHeaders(req.headers);
      requestId = ctx.requestId;
      if (!ctx.userId) throw new AppError("unauthenticated");
      requireOps(await loadAccess(ctx.db, ctx.userId, ctx.session));
      return await handler(req, { db: ctx.db, userId: ctx.userId, requestId });
    } catch (err) {
      const e = toAppError(err);
      if (e.code === "internal") log.error({ err, requestId, path: new URL(req.url).pathname }, "ops route internal error");
      return Response.json(errorBody(e, requestId), { status: e.httpStatus, headers: { "request-id": requestId, "cache-control": "no-store" } });
    }
  };
}
