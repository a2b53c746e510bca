import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx } from "@/db/client";
import { paymentOrders } from "@/db/schema";
import { loadOrders, presentOrder, type PaymentOrderView } from "./present";

export const PAYMENT_LIST_PAGE_MAX = 100;

export const ZListPaymentOrdersInput = z.object({
  status: z.enum(["NOT_STARTED", "EXECUTING", "SUCCESS", "FAILED"]).optional(),
  /** The internal id of the last row of the previous page (ids sort by creation time). */
  cursor: z.string().optional(),
  limit: z.number().int().min(1).max(PAYMENT_LIST_PAGE_MAX).default(25),
});
export type TListPaymentOrdersInput = z.infer<typeof ZListPaymentOrdersInput>;

/** Newest first, keyset-paginated, always scoped to one merchant. */
export async function listPaymentOrders(db: DbOrTx, merchantId: string, input: TListPaymentOrdersInput): Promise<{ items: (PaymentOrderView & { id: string })[]; nextCursor: string | null }> {
  const filters: SQL[] = [eq(paymentOrders.merchantId, merchantId)];
  if (input.status) filters.push(eq(paymentOrders.status, input.status));
  if (input.cursor) filters.push(lt(paymentOrders.id, input.cursor));
  const rows = await loadOrders(db, and(...filters)!, { order: [desc(paymentOrders.id)], limit: input.limit + 1 });
  const page = rows.slice(0, input.limit);
  return {
    items: page.map((r) => ({ ...presentOrder(r), id: r.id })),
    nextCursor: rows.length > input.limit ? page[page.length - 1]!.id : null,
  };
}
