import { and, eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { disputes, disputeStatus } from "@/db/schema";
import { apiRoute, type ApiRouteOptions } from "@/server/http/api-route";
import { LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX, listBody, noSuchStartingAfter, parseQuery, ZListLimit, zObjectId } from "@/server/http/api-list";
import { encodeCursor, getDisputeView, listDisputes } from "./list-disputes";

// /api/v1/disputes handlers (thin: parse, call the disputes domain, answer). Disputes are created from PSP events
// only: the API reads them. The zod schemas here are also what the OpenAPI document describes.

type Limits = Pick<ApiRouteOptions<unknown>, "limits">;

export const ZDisputeId = zObjectId("dsp", "a dispute");
const ZDisputePath = z.object({ id: ZDisputeId });

export const ZListDisputesQuery = z.strictObject({
  status: z.enum(disputeStatus.enumValues).optional().describe("Only disputes in this status."),
  limit: ZListLimit.describe(`How many disputes per page: 1–${LIST_LIMIT_MAX}, default ${LIST_LIMIT_DEFAULT}.`),
  starting_after: ZDisputeId.optional().describe("A dispute id: the page starts after it (the last `id` of the previous page, when `has_more`)."),
});

/** GET /api/v1/disputes/{id} — one dispute. Secret key. */
export function getDisputeRoute(getDb: () => Db, extra: Limits = {}) {
  return apiRoute<{ id: string }>(getDb, { keyKinds: ["secret"], params: ZDisputePath, ...extra }, async (ctx) => ({
    status: 200,
    body: await getDisputeView(ctx.db, ctx.principal.merchantId, ctx.params.id),
  }));
}

/** GET /api/v1/disputes — the merchant's disputes, newest first, filtered by status, paged with starting_after. Secret key. */
export function listDisputesRoute(getDb: () => Db, extra: Limits = {}) {
  return apiRoute<Record<string, never>>(getDb, { keyKinds: ["secret"], ...extra }, async (ctx) => {
    const q = parseQuery(ctx.req, ZListDisputesQuery);
    const merchantId = ctx.principal.merchantId;
    let cursor: string | undefined;
    if (q.starting_after) {
      const [row] = await ctx.db.select({ id: disputes.id }).from(disputes).where(and(eq(disputes.merchantId, merchantId), eq(disputes.id, q.starting_after)));
      if (!row) throw noSuchStartingAfter("dispute", q.starting_after);
      cursor = encodeCursor("created", row.id);
    }
    const page = await listDisputes(ctx.db, merchantId, { status: q.status, sort: "created", cursor, limit: q.limit ?? LIST_LIMIT_DEFAULT });
    return { status: 200, body: listBody(ctx.req, page.data, page.hasMore) };
  });
}
