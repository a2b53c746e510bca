// Holds reserve part of a seller's available balance for a payout. Each transition is a ledger posting, so
// the reservation is visible in the ledger and balance == sum(entries) covers it:
//   place:   debit seller_payable_available, credit seller_payable_on_hold
//   release: debit seller_payable_on_hold,   credit seller_payable_available   (payout failed / cancelled)
//   capture: debit seller_payable_on_hold,   credit payouts_in_transit         (payout sent to the PSP)
// State machine: placed -> released | captured (terminal). A DB trigger refuses any other transition.
import { and, eq } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { walletHolds } from "@/db/schema";
import { AppError } from "@/server/errors";
import { accountFor } from "@/server/ledger/accounts";
import { postTransaction } from "@/server/ledger/post-transaction";
import type { PostTransactionInput } from "@/server/ledger";
import { isCurrencyCode, money, type Money } from "@/server/money";
import { lockSellerFunds } from "./seller-funds";

export type HoldStatus = (typeof walletHolds.$inferSelect)["status"];
export type WalletHold = typeof walletHolds.$inferSelect;

export const HOLD_TRANSITIONS: Readonly<Record<HoldStatus, readonly HoldStatus[]>> = {
  placed: ["released", "captured"],
  released: [],
  captured: [],
};

export const HOLD_SOURCE = { place: "wallet_hold.place", release: "wallet_hold.release", capture: "wallet_hold.capture" } as const;

/** The posting that places a hold: available -> on hold, under the hold's reference (placeHold; batched by payouts). */
export function holdPlacePosting(input: { sellerId: string; amount: Money; reference: string }): PostTransactionInput {
  const { sellerId, amount, reference } = input;
  return {
    source: HOLD_SOURCE.place,
    sourceId: reference,
    description: `Hold for ${reference}`,
    lines: [
      { account: accountFor.sellerAvailable(sellerId, amount.currency), side: "debit", amount },
      { account: accountFor.sellerOnHold(sellerId, amount.currency), side: "credit", amount },
    ],
    metadata: { reference },
  };
}

/** Reserves `amount` of the seller's available balance. Idempotent on `reference` (e.g. the payout id). */
export async function placeHold(tx: DbOrTx, input: { sellerId: string; amount: Money; reference: string }): Promise<WalletHold> {
  if (input.amount.amount <= 0n) throw new AppError("validation_failed", "hold amount must be positive");
  const existing = await findHoldByReference(tx, input.reference);
  if (existing) return assertSameHold(existing, input);
  const { sellerId, amount } = input;
  // Lowers available: serialized with refunds and disputes taking money back from this seller (seller-funds.ts).
  await lockSellerFunds(tx, [sellerId], amount.currency);
  const posted = await postTransaction(tx, holdPlacePosting(input));
  // A concurrent placeHold with the same reference waited on the posting's lock and replayed it; the
  // unique reference makes its insert a no-op, and both return the one hold.
  const [created] = await tx
    .insert(walletHolds)
    .values({ sellerId, reference: input.reference, currency: amount.currency, amount: amount.amount, placeTransactionId: posted.id })
    .onConflictDoNothing({ target: walletHolds.reference })
    .returning();
  return created ?? (await findHoldByReference(tx, input.reference))!;
}

export function releaseHold(tx: DbOrTx, holdId: string): Promise<WalletHold> {
  return transitionHold(tx, holdId, "released");
}

export function captureHold(tx: DbOrTx, holdId: string): Promise<WalletHold> {
  return transitionHold(tx, holdId, "captured");
}

/** The one function that moves a hold: locks it, posts the movement, records the new status. */
async function transitionHold(tx: DbOrTx, holdId: string, to: "released" | "captured"): Promise<WalletHold> {
  const [hold] = await tx.select().from(walletHolds).where(eq(walletHolds.id, holdId)).for("update");
  if (!hold) throw new AppError("not_found", `hold ${holdId} not found`);
  if (hold.status === to) return hold; // replay of the same transition
  if (!HOLD_TRANSITIONS[hold.status].includes(to)) {
    throw new AppError("conflict", `hold ${holdId} is ${hold.status}; it cannot be ${to}`, { details: { reason: "invalid_transition", status: hold.status } });
  }
  if (!isCurrencyCode(hold.currency)) throw new AppError("internal", `hold ${holdId} has unsupported currency ${hold.currency}`);
  const amount = money(hold.amount, hold.currency);
  const onHold = accountFor.sellerOnHold(hold.sellerId, hold.currency);
  const target = to === "released" ? accountFor.sellerAvailable(hold.sellerId, hold.currency) : accountFor.platform("payouts_in_transit", hold.currency);
  const posted = await postTransaction(tx, {
    source: to === "released" ? HOLD_SOURCE.release : HOLD_SOURCE.capture,
    sourceId: hold.id,
    description: `${to === "released" ? "Release" : "Capture"} of hold for ${hold.reference}`,
    lines: [
      { account: onHold, side: "debit", amount },
      { account: target, side: "credit", amount },
    ],
    metadata: { reference: hold.reference, holdId: hold.id },
  });
  const [updated] = await tx
    .update(walletHolds)
    .set({ status: to, settleTransactionId: posted.id, version: hold.version + 1 })
    .where(and(eq(walletHolds.id, hold.id), eq(walletHolds.status, "placed")))
    .returning();
  return updated!;
}

export async function findHoldByReference(tx: DbOrTx, reference: string): Promise<WalletHold | undefined> {
  const [hold] = await tx.select().from(walletHolds).where(eq(walletHolds.reference, reference));
  return hold;
}

function assertSameHold(hold: WalletHold, input: { sellerId: string; amount: Money; reference: string }): WalletHold {
  if (hold.sellerId !== input.sellerId || hold.amount !== input.amount.amount || hold.currency !== input.amount.currency) {
    throw new AppError("conflict", `hold reference ${input.reference} already used for a different hold`, { details: { reason: "idempotency_key_reused", holdId: hold.id } });
  }
  return hold;
}
