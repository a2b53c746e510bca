// STUB (lead): the disputes helper replaces this file.
import type { Dispute, DisputeView } from "./types";

export function presentDispute(_dispute: Dispute, _orders: { paymentOrderInternalId: string; paymentOrderId: string; sellerReference: string }[], _now?: Date): DisputeView {
  throw new Error("not implemented yet (issue 12: being built)");
}
