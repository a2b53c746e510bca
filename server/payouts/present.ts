// The public API's (and the merchant webhooks') view of a payout: snake_case, amounts as decimal strings.
import type { payoutDestinations, payoutItems } from "@/db/schema";
import { formatMoney, money } from "@/server/money";
import type { Payout, PayoutDestinationView, PayoutItemView, PayoutView } from "./types";

type DestinationRow = Pick<typeof payoutDestinations.$inferSelect, "psp" | "stripeAccountId" | "phoneLast3">;
type ItemRow = typeof payoutItems.$inferSelect;

export function presentDestination(d: DestinationRow): PayoutDestinationView {
  return d.psp === "stripe" ? { type: "stripe_account", account: d.stripeAccountId ?? "" } : { type: "mpesa_phone", phone_last3: d.phoneLast3 ?? "" };
}

export function presentPayoutItem(item: ItemRow, paymentOrderPublicId: string | null): PayoutItemView {
  return {
    object: "payout_item",
    kind: item.kind,
    amount: formatMoney(money(item.amount, item.currency)),
    currency: item.currency,
    description: item.description,
    payment_order_id: paymentOrderPublicId,
    source_type: item.sourceType ?? null,
    source_id: item.sourceId ?? null,
    occurred_at: item.occurredAt.toISOString(),
  };
}

export function presentPayout(p: Payout, ctx: { sellerReference: string; destination: DestinationRow; items?: PayoutItemView[] }): PayoutView {
  return {
    object: "payout",
    id: p.id,
    seller_account: ctx.sellerReference,
    amount: formatMoney(money(p.amount, p.currency)),
    currency: p.currency,
    status: p.status,
    method: p.method,
    origin: p.origin,
    destination: presentDestination(ctx.destination),
    failure_code: p.failureCode ?? null,
    failure_message: p.failureMessage ?? null,
    arrival_date: p.arrivalDate?.toISOString() ?? null,
    paid_at: p.paidAt?.toISOString() ?? null,
    approved_at: p.approvedAt?.toISOString() ?? null,
    description: p.description ?? null,
    metadata: p.metadata ?? {},
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
    ...(ctx.items ? { items: ctx.items } : {}),
  };
}
