import { formatMoney, money } from "@/server/money";
import { DISPUTE_RESPONDABLE_STATUSES } from "./state-machine";
import type { Dispute, DisputeView } from "./types";

// The public API's (and merchant webhooks') view of a dispute: snake_case, amounts as decimal strings.

/** The orders a dispute covers, as the view names them (internal id -> the merchant's payment_order_id, seller reference). */
export interface DisputeOrderRef {
  paymentOrderInternalId: string;
  paymentOrderId: string;
  sellerReference: string;
}

/** Whether the merchant can still submit evidence or accept the loss (status, deadline, not answered yet). */
export function isRespondable(d: Pick<Dispute, "status" | "evidenceDueBy" | "evidenceSubmittedAt" | "acceptedAt">, now: Date = new Date()): boolean {
  return DISPUTE_RESPONDABLE_STATUSES.includes(d.status) && !d.evidenceSubmittedAt && !d.acceptedAt && (!d.evidenceDueBy || d.evidenceDueBy.getTime() > now.getTime());
}

export function presentDispute(dispute: Dispute, orders: DisputeOrderRef[], now: Date = new Date()): DisputeView {
  const byId = new Map(orders.map((o) => [o.paymentOrderInternalId, o]));
  const cur = dispute.currency;
  return {
    object: "dispute",
    id: dispute.id,
    checkout_id: dispute.checkoutId,
    payment_orders: dispute.allocation.map((a) => {
      const o = byId.get(a.paymentOrderId);
      return {
        payment_order_id: o?.paymentOrderId ?? a.paymentOrderId,
        seller_account: o?.sellerReference ?? a.sellerId,
        amount: formatMoney(money(BigInt(a.amount), cur)),
        fee: formatMoney(money(BigInt(a.fee), cur)),
      };
    }),
    amount: formatMoney(money(dispute.amount, cur)),
    fee: formatMoney(money(dispute.fee, cur)),
    currency: cur,
    status: dispute.status,
    reason: dispute.reason,
    is_inquiry: dispute.isInquiry,
    evidence_due_by: dispute.evidenceDueBy?.toISOString() ?? null,
    evidence_submitted_at: dispute.evidenceSubmittedAt?.toISOString() ?? null,
    accepted_at: dispute.acceptedAt?.toISOString() ?? null,
    respondable: isRespondable(dispute, now),
    created_at: dispute.createdAt.toISOString(),
    updated_at: dispute.updatedAt.toISOString(),
  };
}
