// Canceling a refund that the PSP has not completed (Stripe: pending / requires_action). The PSP decides: its answer
// is applied (canceled -> the money goes back to the seller). A refund Stripe refuses to cancel (it moved on
// meanwhile) is refreshed from Stripe and refused with refund_not_cancelable. M-Pesa reversals cannot be canceled.
import { and, eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { refunds } from "@/db/schema";
import { recordAudit } from "@/server/audit/record-audit";
import { AppError } from "@/server/errors";
import type { ConnectorFor } from "@/server/psp";
import { PspError } from "@/server/psp/errors";
import { applyRefundOutcome } from "./apply-outcome";
import { outcomeOf, syncRefund } from "./execution";
import { getRefundView } from "./list-refunds";
import type { RefundView } from "./types";

const notCancelable = (message: string) => new AppError("refund_not_cancelable", message);

/** Cancels a pending / requires_action refund at the PSP (Stripe only) and applies the answer. */
export async function cancelRefund(db: Db, connectorFor: ConnectorFor, merchantId: string, refundId: string, actor: { userId?: string } = {}): Promise<RefundView> {
  const [r] = await db.select().from(refunds).where(and(eq(refunds.merchantId, merchantId), eq(refunds.id, refundId)));
  if (!r) throw new AppError("not_found", "Refund not found");
  if (r.status !== "pending" && r.status !== "requires_action") throw notCancelable(`Refund ${r.id} is ${r.status}: only a pending refund (or one that requires action) can be canceled.`);
  if (r.psp !== "stripe") throw notCancelable("An M-Pesa reversal cannot be canceled once requested.");
  if (!r.pspRefundId) throw notCancelable(`Refund ${r.id} is still being sent to the payment provider; try again in a moment.`);
  const connector = connectorFor(db, "stripe");
  if (!connector.cancelRefund) throw notCancelable("This payment provider does not cancel refunds.");
  let answer;
  try {
    answer = await connector.cancelRefund({ pspRefundId: r.pspRefundId, idempotencyKey: `${r.idempotencyKey}:cancel` });
  } catch (err) {
    if (err instanceof PspError && !err.retryable) {
      const now = await syncRefund(db, connectorFor, r.id);
      throw notCancelable(`Refund ${r.id} is ${now.status} at the payment provider: it can no longer be canceled.`);
    }
    throw err;
  }
  await db.transaction(async (tx) => {
    await applyRefundOutcome(tx, r.id, outcomeOf(answer), "canceled_by_merchant");
    if (actor.userId) await recordAudit(tx, { actor: actor.userId, action: "refund.canceled", merchantId, target: { type: "refund", id: r.id }, data: { pspStatus: answer.status } });
  });
  return getRefundView(db, merchantId, r.id);
}
