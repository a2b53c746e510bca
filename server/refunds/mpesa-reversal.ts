// M-Pesa refunds are Daraja reversals (connector.refundPayment; the refund's idempotency key is the reversal's
// OriginatorConversationID, so a resent request is deduplicated by Daraja). Their outcome arrives as a Result
// callback, verified by Transaction Status (server/webhooks/psp-events/mpesa-reversal-result.ts). When it does not
// arrive, the refund execution calls requestReversalStatus on each timeout: a Transaction Status query about the
// reversal (never a second reversal), answered by callback and applied the same way.
import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { refunds } from "@/db/schema";
import { AppError } from "@/server/errors";
import { type ConnectorFor, darajaConnectorOf } from "@/server/psp";
import { reversalStatusOriginatorId } from "@/server/psp/daraja/transform";

/**
 * An M-Pesa reversal whose result has not arrived: asks Daraja's Transaction Status (never a second reversal).
 * The answer comes back as a callback, verified and applied as a refund.updated effect. checkNo makes the
 * status query's OriginatorConversationID unique per check (a retried step with the same checkNo is deduplicated
 * by Daraja). A refund no longer open, or not M-Pesa's, asks nothing.
 */
export async function requestReversalStatus(db: Db, connectorFor: ConnectorFor, refundId: string, checkNo: number): Promise<void> {
  const [refund] = await db.select().from(refunds).where(eq(refunds.id, refundId)).limit(1);
  if (!refund) throw new AppError("not_found", `Refund ${refundId} not found`);
  if (refund.psp !== "mpesa") return;
  if (refund.status !== "pending" && refund.status !== "requires_action") return;
  await darajaConnectorOf(connectorFor(db, "mpesa")).requestReversalStatus({
    originatorConversationId: refund.idempotencyKey,
    statusOriginatorId: reversalStatusOriginatorId(refund.id, `t${checkNo}`),
    receipt: refund.pspPaymentReference,
  });
}
