/**
 * Wallet: balances read from the ledger's materialized balance rows, and holds for payouts.
 *
 *   getWallet(db, sellerId, currency, { asOf? }) -> { pending, available, onHold, owed } (Money, normal direction;
 *     `owed` is the seller's debt from refunds/disputes larger than their balance).
 *   lockSellerFunds / sellerDebitLines / netSellerDebt / releaseToAvailable: taking money back from a seller
 *     (available, then pending, then a debt) and netting a debt (seller-funds.ts).
 *   getBalance(db, accountRef, { asOf? }) -> Money: any account now, or as of a timestamp (from entries).
 *   placeHold(tx, { sellerId, amount, reference }) -> WalletHold: reserves available balance; idempotent on
 *     `reference` (use the payout id). Not enough available -> AppError "conflict", reason "insufficient_funds".
 *   releaseHold(tx, holdId) -> back to available (payout failed). captureHold(tx, holdId) -> to
 *     payouts_in_transit (payout sent). Both idempotent; the other transition after one is a 409.
 *
 * Every hold transition is a ledger posting in the caller's transaction (see holds.ts).
 */
export { getBalance, getWallet, type SellerWallet } from "./get-balance";
export { HOLD_TRANSITIONS, captureHold, findHoldByReference, placeHold, releaseHold, type HoldStatus, type WalletHold } from "./holds";
export { lockSellerFunds, netSellerDebt, releaseToAvailable, sellerDebitLines, type SellerDebit } from "./seller-funds";
