// STUB (lead): the refunds helper replaces this file.
import type { Db } from "@/db/client";
import type { ConnectorFor } from "@/server/psp";
import type { RefundView } from "./types";

/** Cancels a pending / requires_action refund at the PSP (Stripe only) and applies the answer. */
export async function cancelRefund(_db: Db, _connectorFor: ConnectorFor, _merchantId: string, _refundId: string): Promise<RefundView> {
  throw new Error("not implemented yet (issue 12: being built)");
}
