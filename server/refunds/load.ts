// Reads shared by the refunds domain's writers and readers.
import { eq } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { paymentOrders, sellers } from "@/db/schema";
import { presentRefund } from "./present";
import type { Refund, RefundView } from "./types";

/** The merchant-facing references of a refund's order (its payment_order_id and seller account). */
export async function refundOrderRefs(db: DbOrTx, refund: Pick<Refund, "paymentOrderId">): Promise<{ paymentOrderId: string; sellerReference: string }> {
  const [row] = await db
    .select({ paymentOrderId: paymentOrders.paymentOrderId, sellerReference: sellers.reference })
    .from(paymentOrders)
    .innerJoin(sellers, eq(sellers.id, paymentOrders.sellerId))
    .where(eq(paymentOrders.id, refund.paymentOrderId));
  if (!row) throw new Error(`Payment order ${refund.paymentOrderId} of a refund vanished`);
  return row;
}

export async function presentRefundRow(db: DbOrTx, refund: Refund): Promise<RefundView> {
  return presentRefund(refund, await refundOrderRefs(db, refund));
}
