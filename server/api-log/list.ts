import { and, between, desc, eq, like, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx } from "@/db/client";
import { apiRequestLog } from "@/db/schema";
import { AppError } from "@/server/errors";
import { API_LOG_IDEMPOTENCY_KEY_MAX, API_LOG_PATH_MAX } from "./record";

// Developers → API requests: the merchant's api_request_log, newest first, keyset-paginated. Every query is
// scoped to one merchant; another merchant's row is not_found. The list leaves the bodies out (they can be
// 16 KB each); getApiRequest returns one row with them.

export const API_LOG_PAGE_MAX = 100;
export const API_LOG_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;
export const API_LOG_STATUS_CLASSES = ["2xx", "4xx", "5xx"] as const;
/** Rows are kept this long (server/maintenance/sweep.ts). */
export const API_LOG_RETENTION_DAYS = 30;

export const ZListApiRequestsInput = z.object({
  status: z.enum(API_LOG_STATUS_CLASSES).optional(),
  method: z.enum(API_LOG_METHODS).optional(),
  /** A path prefix, e.g. /api/v1/payments. */
  path: z.string().trim().max(API_LOG_PATH_MAX).optional(),
  idempotencyKey: z.string().trim().max(API_LOG_IDEMPOTENCY_KEY_MAX).optional(),
  /** The id of the last row of the previous page. */
  cursor: z.string().max(64).optional(),
  limit: z.number().int().min(1).max(API_LOG_PAGE_MAX).default(25),
});
export type TListApiRequestsInput = z.infer<typeof ZListApiRequestsInput>;

export const ZGetApiRequestInput = z.object({ id: z.string().min(1).max(64) });

const STATUS_RANGE: Record<(typeof API_LOG_STATUS_CLASSES)[number], [number, number]> = { "2xx": [200, 299], "4xx": [400, 499], "5xx": [500, 599] };

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

const listColumns = {
  id: apiRequestLog.id,
  createdAt: apiRequestLog.createdAt,
  mode: apiRequestLog.mode,
  method: apiRequestLog.method,
  path: apiRequestLog.path,
  status: apiRequestLog.status,
  idempotencyKey: apiRequestLog.idempotencyKey,
  requestId: apiRequestLog.requestId,
  latencyMs: apiRequestLog.latencyMs,
  errorCode: apiRequestLog.errorCode,
  checkoutId: apiRequestLog.checkoutId,
};

export async function listApiRequests(db: DbOrTx, merchantId: string, input: TListApiRequestsInput) {
  const filters: SQL[] = [eq(apiRequestLog.merchantId, merchantId)];
  if (input.status) filters.push(between(apiRequestLog.status, ...STATUS_RANGE[input.status]));
  if (input.method) filters.push(eq(apiRequestLog.method, input.method));
  if (input.path) filters.push(like(apiRequestLog.path, `${escapeLike(input.path)}%`));
  if (input.idempotencyKey) filters.push(eq(apiRequestLog.idempotencyKey, input.idempotencyKey));
  if (input.cursor) {
    // (created_at, id) of the cursor row, of this merchant only: a foreign cursor matches nothing.
    filters.push(
      sql`(${apiRequestLog.createdAt}, ${apiRequestLog.id}) < (select c.created_at, c.id from api_request_log c where c.id = ${input.cursor} and c.merchant_id = ${merchantId})`,
    );
  }
  const rows = await db
    .select(listColumns)
    .from(apiRequestLog)
    .where(and(...filters))
    .orderBy(desc(apiRequestLog.createdAt), desc(apiRequestLog.id))
    .limit(input.limit + 1);
  const items = rows.slice(0, input.limit);
  return { items, nextCursor: rows.length > input.limit ? items[items.length - 1]!.id : null };
}

/** One row with its (redacted) bodies. */
export async function getApiRequest(db: DbOrTx, merchantId: string, id: string) {
  const [row] = await db
    .select({ ...listColumns, requestBody: apiRequestLog.requestBody, responseBody: apiRequestLog.responseBody })
    .from(apiRequestLog)
    .where(and(eq(apiRequestLog.id, id), eq(apiRequestLog.merchantId, merchantId)));
  if (!row) throw new AppError("not_found", "API request not found");
  return row;
}

