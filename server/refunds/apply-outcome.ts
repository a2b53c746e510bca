// STUB (lead): the refunds helper replaces this file.
import type { Tx } from "@/db/client";
import type { Refund, RefundOutcome } from "./types";

/** Applies a PSP outcome to a refund in the caller's tx (state machine, reversal on failure, merchant events). */
export async function applyRefundOutcome(_tx: Tx, _refundId: string, _outcome: RefundOutcome, _reason: string): Promise<{ changed: boolean; refund: Refund }> {
  throw new Error("not implemented yet (issue 12: being built)");
}
