import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx } from "@/db/client";
import { paymentOrders } from "@/db/schema";
import { doubleChargeStatusByCheckout, type DoubleCharge } from "./double-charges";
import { loadOrders, presentOrder, type PaymentOrderView } from "./present";

export const PAYMENT_LIST_PAGE_MAX = 100;

export const ZListPaymentOrdersInput = z.object({
  status: z.enum(["NOT_STARTED", "EXECUTING", "SUCCESS", "FAILED"]).optional(),
  /** The internal id of the last row of the previous page (ids sort by creation time). */
  cursor: z.string().optional(),
  limit: z.number().int().min(1).max(PAYMENT_LIST_PAGE_MAX).default(25),
});
export type TListPaymentOrdersInput = z.infer<typeof ZListPaymentOrdersInput>;

/**
 * The dashboard's row: the public API's shape plus our internal id (the page cursor) and whether the order's
 * checkout was charged twice (its double-charge status, for a badge). The REST API's shape is unchanged.
 */
export type PaymentOrderListItem = PaymentOrderView & { id: string; doubleCharge: DoubleCharge["status"] | null };

/** Newest first, keyset-paginated, always scoped to one merchant. */
export async function listPaymentOrders(db: DbOrTx, merchantId: string, input: TListPaymentOrdersInput): Promise<{ items: PaymentOrderListItem[]; nextCursor: string | null }> {
  const filters: SQL[] = [eq(paymentOrders.merchantId, merchantId)];
  if (input.status) filters.push(eq(paymentOrders.status, input.status));
  if (input.cursor) filters.push(lt(paymentOrders.id, input.cursor));
  const rows = await loadOrders(db, and(...filters)!, { order: [desc(paymentOrders.id)], limit: input.limit + 1 });
  const page = rows.slice(0, input.limit);
  const doubleCharged = await doubleChargeStatusByCheckout(db, { merchantId, checkoutIds: page.map((r) => r.checkoutId) });
  return {
    items: page.map((r) => ({ ...presentOrder(r), id: r.id, doubleCharge: doubleCharged.get(r.checkoutId) ?? null })),
    nextCursor: rows.length > input.limit ? page[page.length - 1]!.id : null,
  };
}
