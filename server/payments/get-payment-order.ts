import { and, eq } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { paymentOrders } from "@/db/schema";
import { AppError } from "@/server/errors";
import { loadOrders, orderHistory, presentOrder, type PaymentOrderView } from "./present";

export interface PaymentOrderWithHistory extends PaymentOrderView {
  history: { from: string | null; to: string; reason: string; at: string }[];
}

/** One payment order by the merchant's own id, with its full state history. Another merchant's id is 404. */
export async function getPaymentOrder(db: DbOrTx, merchantId: string, paymentOrderId: string): Promise<PaymentOrderWithHistory> {
  const [order] = await loadOrders(db, and(eq(paymentOrders.merchantId, merchantId), eq(paymentOrders.paymentOrderId, paymentOrderId))!);
  if (!order) throw new AppError("not_found", `No payment order with payment_order_id "${paymentOrderId}"`);
  const history = await orderHistory(db, [order.id]);
  return {
    ...presentOrder(order),
    history: history.map((h) => ({ from: h.fromStatus, to: h.toStatus, reason: h.reason, at: h.at.toISOString() })),
  };
}
