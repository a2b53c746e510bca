// The dashboard's dispute page (server/disputes/router.ts `disputes.get`): the public view (getDisputeView, merchant
// scoped), plus what only the dashboard shows: the allocation in minor units with each order's seller, the status
// timeline (dispute_transitions, oldest first) and each affected seller's wallet now (available / pending / on hold /
// owed, from the ledger), so a withdrawal and a reinstatement are visible where they happen.
import { and, asc, eq, inArray } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { disputes, disputeTransitions, sellers } from "@/db/schema";
import { AppError } from "@/server/errors";
import { isCurrencyCode } from "@/server/money";
import { getWallet } from "@/server/wallet";
import { getDisputeView } from "./list-disputes";
import type { DisputeStatus, DisputeView } from "./types";

export interface DisputeDetail {
  view: DisputeView;
  /** Minor units as digit strings (the view's are decimal strings). */
  amountMinor: string;
  feeMinor: string;
  /** One row per order of the checkout the dispute covers, in the allocation's order. */
  allocation: { paymentOrderId: string; sellerId: string; sellerReference: string; amountMinor: string; feeMinor: string }[];
  timeline: { at: string; from: DisputeStatus | null; to: DisputeStatus; reason: string }[];
  /** The sellers' wallets now, in the dispute's currency (minor units). */
  wallets: { sellerId: string; sellerReference: string; sellerName: string; available: string; pending: string; onHold: string; owed: string }[];
  withdrawn: boolean;
  reinstated: boolean;
}

export async function getDisputeDetail(db: DbOrTx, merchantId: string, disputeId: string): Promise<DisputeDetail> {
  const [row] = await db
    .select()
    .from(disputes)
    .where(and(eq(disputes.id, disputeId), eq(disputes.merchantId, merchantId)));
  if (!row) throw new AppError("not_found", `Dispute ${disputeId} not found`);
  const view = await getDisputeView(db, merchantId, disputeId);
  const sellerIds = [...new Set(row.allocation.map((a) => a.sellerId))];
  const sellerRows = sellerIds.length
    ? await db
        .select({ id: sellers.id, reference: sellers.reference, name: sellers.name })
        .from(sellers)
        .where(and(inArray(sellers.id, sellerIds), eq(sellers.merchantId, merchantId)))
    : [];
  const sellerById = new Map(sellerRows.map((s) => [s.id, s]));
  const transitions = await db.select().from(disputeTransitions).where(eq(disputeTransitions.disputeId, row.id)).orderBy(asc(disputeTransitions.at), asc(disputeTransitions.id));
  const currency = row.currency;
  const wallets = isCurrencyCode(currency)
    ? await Promise.all(
        sellerRows.map(async (s) => {
          const w = await getWallet(db, s.id, currency);
          return { sellerId: s.id, sellerReference: s.reference, sellerName: s.name, available: w.available.amount.toString(), pending: w.pending.amount.toString(), onHold: w.onHold.amount.toString(), owed: w.owed.amount.toString() };
        }),
      )
    : [];
  return {
    view,
    amountMinor: row.amount.toString(),
    feeMinor: row.fee.toString(),
    allocation: row.allocation.map((a, i) => ({
      paymentOrderId: view.payment_orders[i]?.payment_order_id ?? a.paymentOrderId,
      sellerId: a.sellerId,
      sellerReference: sellerById.get(a.sellerId)?.reference ?? a.sellerId,
      amountMinor: a.amount,
      feeMinor: a.fee,
    })),
    timeline: transitions.map((t) => ({ at: t.at.toISOString(), from: t.fromStatus, to: t.toStatus, reason: t.reason })),
    wallets,
    withdrawn: row.withdrawalTransactionId !== null,
    reinstated: row.reinstatementTransactionId !== null,
  };
}
