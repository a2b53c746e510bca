import type { Db } from "@/db/client";
import { requireOps } from "@/server/auth/access";
import { sessionRoute } from "./session-route";

// The wrapper for the ops console's few non-tRPC route handlers (downloads, uploads): the same checks as
// opsProcedure (server/trpc/init.ts) — cross-origin refusal, the Auth.js session checked against the user's row,
// the ops role — then the handler. Failures answer in the REST error shape (server/http/session-route.ts).

export interface OpsRouteContext {
  db: Db;
  userId: string;
  requestId: string;
}

export function sessionOpsRoute(handler: (req: Request, ctx: OpsRouteContext) => Promise<Response>) {
  return sessionRoute(
    "ops",
    ({ db, userId, requestId, access }): OpsRouteContext => {
      requireOps(access);
      return { db, userId, requestId };
    },
    handler,
  );
}
