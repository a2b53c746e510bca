// STUB (lead) — owner: slice P4 (execution). The PSP-facing steps of a payout, each run inside one durable step
// (inngest/functions/payouts.ts). Before any send the PSP is asked whether the payout exists (Stripe: transfers by
// transfer_group = pspKey, payouts on the connected account by metadata.payout_key; Daraja: a B2C that may have
// left is never resent until Transaction Status says Daraja has no such payment).
import type { Db } from "@/db/client";
import { AppError } from "@/server/errors";
import type { ConnectorFor } from "@/server/psp";
import type { PayoutStatus } from "./state-machine";

/** JSON-safe step result. `done`: paid, failed or canceled (paid may still fail later: sync-payout follows it). */
export interface PayoutStepResult {
  payoutId: string;
  status: PayoutStatus;
  done: boolean;
}

export async function sendPayout(_db: Db, _connectorFor: ConnectorFor, _payoutId: string): Promise<PayoutStepResult> {
  throw new AppError("internal", "STUB (lead): sendPayout");
}

/** Asks the PSP where the payout is and applies it (Stripe: getPayout; Daraja on a timeout: Transaction Status). */
export async function checkPayout(_db: Db, _connectorFor: ConnectorFor, _payoutId: string, _opts: { timedOut: boolean; checkNo: number }): Promise<PayoutStepResult> {
  throw new AppError("internal", "STUB (lead): checkPayout");
}

/** The janitor: settles unknown payouts (and stale pending / in-transit ones) by asking the PSP; within 15 minutes. */
export async function reconcileOpenPayouts(_db: Db, _connectorFor: ConnectorFor, _opts: { now?: Date; limit?: number } = {}): Promise<{ checked: number; resent: number }> {
  throw new AppError("internal", "STUB (lead): reconcileOpenPayouts");
}
