// STUB (lead): the refunds helper replaces this file.
import type { DbOrTx } from "@/db/client";
import type { ListRefundsInput, RefundPage, RefundView } from "./types";

/** One refund of this merchant (another merchant's id: not_found). */
export async function getRefundView(_db: DbOrTx, _merchantId: string, _refundId: string): Promise<RefundView> {
  throw new Error("not implemented yet (issue 12: being built)");
}

/** The merchant's refunds, newest first, keyset-paged. */
export async function listRefunds(_db: DbOrTx, _merchantId: string, _input: ListRefundsInput): Promise<RefundPage> {
  throw new Error("not implemented yet (issue 12: being built)");
}
