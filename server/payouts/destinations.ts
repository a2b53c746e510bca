// STUB (lead) — owner: slice P7 (API + destinations). A seller's payout destination: a Stripe connected account
// (checked at the PSP) or an M-Pesa phone (encrypted). Setting one disables the old one, sets
// sellers.payouts_held_until = now + 24 h and writes an audit row, in one transaction.
import type { DbOrTx, Db } from "@/db/client";
import { AppError } from "@/server/errors";
import type { ConnectorFor } from "@/server/psp";
import type { PayoutDestination } from "./types";

export type DestinationInput = { psp: "stripe"; stripeAccountId: string } | { psp: "mpesa"; phone: string };

export async function setPayoutDestination(_db: Db, _connectorFor: ConnectorFor, _input: { merchantId: string; sellerId: string; destination: DestinationInput; userId: string | null }): Promise<{ id: string; heldUntil: Date }> {
  throw new AppError("internal", "STUB (lead): setPayoutDestination");
}

/** The destination a payout names, decrypted for execution. */
export async function loadPayoutDestination(_db: DbOrTx, _destinationId: string): Promise<PayoutDestination> {
  throw new AppError("internal", "STUB (lead): loadPayoutDestination");
}
