// Reading refunds: always scoped to the caller's merchant (another merchant's id is not_found, never data).
// Keyset pages on (created_at, id) descending; the cursor names the last refund of the page (opaque to callers).
import { and, desc, eq, sql, type SQL } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { paymentOrders, refunds, sellers } from "@/db/schema";
import { AppError } from "@/server/errors";
import { presentRefund } from "./present";
import type { ListRefundsInput, RefundPage, RefundView } from "./types";

export const REFUNDS_PAGE_MAX = 100;
const CURSOR_PREFIX = "rc1.";
const REFUND_ID = /^rfd_[0-9A-HJKMNP-TV-Z]{26}$/;

export function encodeRefundCursor(refundId: string): string {
  return CURSOR_PREFIX + Buffer.from(refundId, "utf8").toString("base64url");
}

const badCursor = () => new AppError("validation_failed", "Invalid input: cursor: not a page cursor of this list; start again from the first page.", { details: { fields: [{ path: "cursor", message: "Not a page cursor of this list." }] } });

function decodeRefundCursor(cursor: string): string {
  if (!cursor.startsWith(CURSOR_PREFIX) || cursor.length > 100) throw badCursor();
  const id = Buffer.from(cursor.slice(CURSOR_PREFIX.length), "base64url").toString("utf8");
  if (!REFUND_ID.test(id)) throw badCursor();
  return id;
}

const selection = { refund: refunds, paymentOrderId: paymentOrders.paymentOrderId, sellerReference: sellers.reference };

function baseQuery(db: DbOrTx, where: SQL) {
  return db
    .select(selection)
    .from(refunds)
    .innerJoin(paymentOrders, eq(paymentOrders.id, refunds.paymentOrderId))
    .innerJoin(sellers, eq(sellers.id, refunds.sellerId))
    .where(where);
}

/** One refund of this merchant (another merchant's id: not_found). */
export async function getRefundView(db: DbOrTx, merchantId: string, refundId: string): Promise<RefundView> {
  const [row] = await baseQuery(db, and(eq(refunds.merchantId, merchantId), eq(refunds.id, refundId))!);
  if (!row) throw new AppError("not_found", "Refund not found");
  return presentRefund(row.refund, row);
}

/** The merchant's refunds, newest first, keyset-paged. */
export async function listRefunds(db: DbOrTx, merchantId: string, input: ListRefundsInput): Promise<RefundPage> {
  const limit = Math.max(1, Math.min(REFUNDS_PAGE_MAX, Math.floor(input.limit) || 1));
  const where: SQL[] = [eq(refunds.merchantId, merchantId)];
  if (input.paymentOrderId) where.push(eq(paymentOrders.paymentOrderId, input.paymentOrderId));
  if (input.status) where.push(eq(refunds.status, input.status));
  if (input.cursor) {
    const after = decodeRefundCursor(input.cursor);
    const [anchor] = await db.select({ id: refunds.id }).from(refunds).where(and(eq(refunds.merchantId, merchantId), eq(refunds.id, after)));
    if (!anchor) throw badCursor();
    where.push(sql`(${refunds.createdAt}, ${refunds.id}) < (select r.created_at, r.id from refunds r where r.id = ${after})`);
  }
  const rows = await baseQuery(db, and(...where)!)
    .orderBy(desc(refunds.createdAt), desc(refunds.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const hasMore = rows.length > limit;
  return { data: page.map((r) => presentRefund(r.refund, r)), hasMore, nextCursor: hasMore ? encodeRefundCursor(page[page.length - 1]!.refund.id) : null };
}
