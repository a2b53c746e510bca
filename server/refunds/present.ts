// STUB (lead): the refunds helper replaces this file.
import type { Refund, RefundView } from "./types";

export function presentRefund(_refund: Refund, _order: { paymentOrderId: string; sellerReference: string }): RefundView {
  throw new Error("not implemented yet (issue 12: being built)");
}
