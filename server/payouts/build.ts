// STUB (lead) — owner: slice P6 (building). Creating payouts: the set-based scheduled run and manual requests
// (maker-checker), approval and cancellation. Every payout is created in one transaction with: netSellerDebt,
// its composition (payout_items, summing exactly to its amount), its hold (placeHold, reference = payout id),
// the payout.created merchant event and (when `pending`) the payout/execute outbox event.
import type { Db } from "@/db/client";
import { AppError } from "@/server/errors";
import type { Payout } from "./state-machine";
import type { ManualPayoutInput } from "./types";

export interface DuePayoutsResult {
  created: Payout[];
  /** Sellers looked at that got no payout (nothing due, below minimum, held, no destination). */
  skipped: number;
}

/** Creates every payout due at `now` (schedules in the merchant's time zone), in batches. Two concurrent runs create each payout once. */
export async function createDuePayouts(_db: Db, _opts: { now?: Date; batchSize?: number; sellerIds?: readonly string[] } = {}): Promise<DuePayoutsResult> {
  throw new AppError("internal", "STUB (lead): createDuePayouts");
}

/** A manual (dashboard) or API payout. At or above the merchant's threshold it waits for a second admin (pending_approval). */
export async function requestManualPayout(_db: Db, _input: ManualPayoutInput): Promise<Payout> {
  throw new AppError("internal", "STUB (lead): requestManualPayout");
}

/** Maker-checker: a different admin approves; pending_approval -> pending, then sent. */
export async function approvePayout(_db: Db, _input: { merchantId: string; payoutId: string; approverUserId: string }): Promise<Payout> {
  throw new AppError("internal", "STUB (lead): approvePayout");
}

/** Rejects a payout waiting for approval, or cancels one not yet sent: canceled, hold released. */
export async function cancelPayout(_db: Db, _input: { merchantId: string; payoutId: string; userId: string; reason?: string }): Promise<Payout> {
  throw new AppError("internal", "STUB (lead): cancelPayout");
}
