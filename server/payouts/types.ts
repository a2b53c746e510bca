// The payouts domain's shared shapes (the contract between building, execution, settlement, API and dashboard).
import type { PayoutInterval, PayoutItemKind } from "@/db/schema";
import type { Payout, PayoutStatus } from "./state-machine";

export type { Payout, PayoutInterval, PayoutItemKind, PayoutStatus };

/** Where the payout goes, as the API shows it (never the full phone). */
export type PayoutDestinationView = { type: "stripe_account"; account: string } | { type: "mpesa_phone"; phone_last3: string };

/** One line of a payout's composition. Amounts are signed decimal strings ("-12.50"). */
export interface PayoutItemView {
  object: "payout_item";
  kind: PayoutItemKind;
  amount: string;
  currency: string;
  description: string;
  /** The merchant's payment_order_id (payment, fee items). */
  payment_order_id: string | null;
  /** What the item is about: refund (rfd_…), dispute (dsp_…), payout (pyo_…) … */
  source_type: string | null;
  source_id: string | null;
  occurred_at: string;
}

/** The public API's (and merchant webhooks') view of a payout. Stripe-like; amounts as decimal strings. */
export interface PayoutView {
  object: "payout";
  id: string;
  seller_account: string;
  amount: string;
  currency: string;
  status: PayoutStatus;
  method: "standard" | "instant";
  origin: "scheduled" | "manual" | "api";
  destination: PayoutDestinationView;
  /** Stripe's failure_code (account_closed, no_account, insufficient_funds, …) or Daraja's ResultCode. */
  failure_code: string | null;
  failure_message: string | null;
  arrival_date: string | null;
  paid_at: string | null;
  /** Maker-checker: who approved it and when (null when no approval was needed or it is still waiting). */
  approved_at: string | null;
  description: string | null;
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string;
  /** GET /api/v1/payouts/{id} only: the composition, summing exactly to `amount`. */
  items?: PayoutItemView[];
}

/** What the PSP said about a payout, applied by applyPayoutOutcome (server/payouts/apply-outcome.ts). */
export interface PayoutOutcome {
  /** pending: the PSP has no record of it (safe to send again); unknown: a call's outcome is not known. */
  status: "pending" | "unknown" | "in_transit" | "paid" | "failed" | "canceled";
  pspTransferId?: string;
  pspPayoutId?: string;
  pspTransferReversalId?: string;
  pspReceipt?: string;
  failureCode?: string;
  failureMessage?: string;
  arrivalDate?: Date;
  paidAt?: Date;
  /** The amount the PSP reports paying (Daraja TransactionAmount), checked against ours. */
  pspAmount?: bigint;
}

export interface ManualPayoutInput {
  merchantId: string;
  /** Our seller id (sel_…), already scoped to the merchant by the caller. */
  sellerId: string;
  currency: string;
  /** Minor units; omitted = everything that may be paid out now. */
  amount?: bigint;
  method?: "standard" | "instant";
  description?: string;
  metadata?: Record<string, string>;
  origin: "manual" | "api";
  requestedByUserId?: string;
  /** Exactly one payout per key (the dashboard sends one per form submission; the API its Idempotency-Key). */
  idempotencyKey: string;
}

/** A seller's payout schedule (sellers.payout_* columns). */
export interface PayoutSchedule {
  interval: PayoutInterval;
  /** 1 = Monday .. 7 = Sunday */
  weeklyAnchor: number;
  /** 1..31 */
  monthlyAnchor: number;
  delayDays: number;
  minimumAmount: bigint;
}

/** A destination as execution needs it (decrypted). */
export type PayoutDestination = { id: string; sellerId: string; psp: "stripe"; stripeAccountId: string } | { id: string; sellerId: string; psp: "mpesa"; phone: string };
