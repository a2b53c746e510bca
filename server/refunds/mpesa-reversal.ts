// STUB (lead): the M-Pesa helper replaces this file.
import type { Db } from "@/db/client";
import type { ConnectorFor } from "@/server/psp";

/**
 * An M-Pesa reversal whose result has not arrived: asks Daraja's Transaction Status (never a second reversal).
 * The answer comes back as a callback, verified and applied as a refund.updated effect. checkNo makes the
 * status query's OriginatorConversationID unique per check.
 */
export async function requestReversalStatus(_db: Db, _connectorFor: ConnectorFor, _refundId: string, _checkNo: number): Promise<void> {
  throw new Error("not implemented yet (issue 12: being built)");
}
