// One payout with its composition (payout_items, frozen when the payout was built, summing exactly to its amount),
// for GET /api/v1/payouts/{id}, the dashboard's payout page (payouts.get) and the CSV export. Merchant scoped:
// another merchant's payout id is not_found.
import { asc, eq, inArray } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { paymentOrders, payoutItems, payoutTransitions, users } from "@/db/schema";
import { loadMerchantPayout, toPayoutView } from "./list-payouts";
import { presentPayoutItem } from "./present";
import type { PayoutItemView, PayoutStatus, PayoutView } from "./types";

export interface PayoutDetail {
  payout: PayoutView;
  seller: { id: string; name: string; reference: string };
  items: PayoutItemView[];
  /** Oldest first. `actor`: the member's name (or email) who moved it; null for the system / PSP. */
  transitions: { from: PayoutStatus | null; to: PayoutStatus; reason: string; at: string; actor: string | null }[];
  requestedBy: string | null;
  approvedBy: string | null;
  /** The caller may approve it: waiting for approval, an admin, and not the member who requested it. */
  canApprove: boolean;
}

/** The composition in display order, each item with the merchant's payment_order_id where it has one. */
export async function loadPayoutItemViews(db: DbOrTx, payoutId: string): Promise<PayoutItemView[]> {
  const rows = await db
    .select({ item: payoutItems, paymentOrderId: paymentOrders.paymentOrderId })
    .from(payoutItems)
    .leftJoin(paymentOrders, eq(paymentOrders.id, payoutItems.paymentOrderId))
    .where(eq(payoutItems.payoutId, payoutId))
    .orderBy(asc(payoutItems.position), asc(payoutItems.id));
  return rows.map((r) => presentPayoutItem(r.item, r.paymentOrderId ?? null));
}

/** GET /api/v1/payouts/{id}: the public view with `items`. */
export async function getPayoutApiView(db: DbOrTx, merchantId: string, payoutId: string): Promise<PayoutView> {
  const row = await loadMerchantPayout(db, merchantId, payoutId);
  const items = await loadPayoutItemViews(db, row.payout.id);
  return { ...toPayoutView(row), items };
}

/** The public view without items (what POST /api/v1/payouts answers, and the dashboard's request). */
export async function getPayoutView(db: DbOrTx, merchantId: string, payoutId: string): Promise<PayoutView> {
  return toPayoutView(await loadMerchantPayout(db, merchantId, payoutId));
}

const displayName = (u: { name: string | null; email: string } | undefined) => (u ? u.name?.trim() || u.email : null);

export async function getPayoutDetail(db: DbOrTx, caller: { merchantId: string; userId: string; role: "merchant_admin" | "merchant_viewer" }, payoutId: string): Promise<PayoutDetail> {
  const row = await loadMerchantPayout(db, caller.merchantId, payoutId);
  const p = row.payout;
  const [items, transitions] = await Promise.all([
    loadPayoutItemViews(db, p.id),
    db.select().from(payoutTransitions).where(eq(payoutTransitions.payoutId, p.id)).orderBy(asc(payoutTransitions.at), asc(payoutTransitions.id)),
  ]);
  const userIds = [...new Set([p.requestedByUserId, p.approvedByUserId, ...transitions.map((t) => t.actorUserId)].filter((x): x is string => !!x))];
  const people = userIds.length ? await db.select({ id: users.id, name: users.name, email: users.email }).from(users).where(inArray(users.id, userIds)) : [];
  const byId = new Map(people.map((u) => [u.id, u]));
  const who = (id: string | null | undefined) => (id ? displayName(byId.get(id)) : null);
  return {
    payout: toPayoutView(row),
    seller: { id: p.sellerId, name: row.sellerName, reference: row.sellerReference },
    items,
    transitions: transitions.map((t) => ({ from: t.fromStatus, to: t.toStatus, reason: t.reason, at: t.at.toISOString(), actor: who(t.actorUserId) })),
    requestedBy: who(p.requestedByUserId),
    approvedBy: who(p.approvedByUserId),
    canApprove: p.status === "pending_approval" && caller.role === "merchant_admin" && p.requestedByUserId !== caller.userId,
  };
}
