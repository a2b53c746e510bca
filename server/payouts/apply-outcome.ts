// STUB (lead) — owner: slice P4 (execution). Applies what the PSP said about a payout, with its money, in the
// caller's transaction (docs/payouts.md "Money"):
//   in_transit: the transition only (ids, arrival date).
//   paid:       captureHold (on_hold -> payouts_in_transit) + posting `payout.paid` (debit payouts_in_transit,
//               credit psp_clearing:<psp>); merchant event payout.paid.
//   failed / canceled with the hold placed: releaseHold (the exact reversal of the hold: available restored);
//               failure code + message kept; merchant event payout.failed / payout.canceled.
//   failed after paid: posting `payout.returned` (debit psp_clearing:<psp>, credit seller available).
//   A Daraja amount (pspAmount) that differs from ours: nothing moves; an ops exception (amount_mismatch).
import type { Tx } from "@/db/client";
import { AppError } from "@/server/errors";
import type { Payout } from "./state-machine";
import type { PayoutOutcome } from "./types";

export async function applyPayoutOutcome(_tx: Tx, _payoutId: string, _outcome: PayoutOutcome, _reason: string): Promise<{ payout: Payout; changed: boolean }> {
  throw new AppError("internal", "STUB (lead): applyPayoutOutcome");
}
