// The one interface every PSP connector implements (STYLE 17). Amounts are Money (bigint minor units);
// statuses are normalized so the payment engine never branches on a PSP's own vocabulary.
import type { Money } from "@/server/money";

export type PspName = "stripe" | "mpesa";

/**
 * requires_payment_method: nothing charged yet (or the last attempt declined; see `failure`).
 * requires_action: the buyer must act (3DS). pending: the PSP is working (STK push sent, refund pending).
 * authorized: funds held, capture pending. succeeded / failed / canceled: final.
 */
export type PaymentStatus = "requires_payment_method" | "requires_action" | "pending" | "authorized" | "succeeded" | "failed" | "canceled";

export interface PspFailure {
  /** PSP code: card_declined, expired_card, 1032, 2001, … */
  code: string;
  declineCode?: string;
  message: string;
}

export interface PaymentResult {
  psp: PspName;
  /** pi_… for Stripe, ws_CO_… (CheckoutRequestID) for M-Pesa. */
  pspReference: string;
  status: PaymentStatus;
  /** Absent when the PSP's answer does not carry it (an M-Pesa STK query). */
  amount?: Money;
  /** Stripe Payment Element secret, handed to the hosted checkout only. */
  clientSecret?: string;
  nextActionUrl?: string;
  failure?: PspFailure;
  /** The PSP's receipt for a completed payment (M-Pesa MpesaReceiptNumber, Stripe charge id). */
  receipt?: string;
  /** The card that paid (a succeeded card payment, when the PSP's answer carries its charge): brand and last 4 digits only. */
  card?: { brand: string; last4: string };
  /** A declined card's fingerprint (Stripe `card.fingerprint`: one per card number, never the number), when the PSP gives it. */
  cardFingerprint?: string;
}

/** One declined card payment on a PaymentIntent (a failed Stripe charge). */
export interface CardDecline {
  /** ch_… */
  chargeId: string;
  code: string;
  declineCode?: string;
  /** Stripe `card.fingerprint`: recognises the same card across payments without its number. */
  fingerprint?: string;
  createdAt: Date;
}

export type PaymentMethodInput = { type: "card_token"; token: string } | { type: "mpesa_phone"; phone: string };

export interface CreatePaymentInput {
  amount: Money;
  /** Deterministic: per payment order + attempt (the caller builds it). */
  idempotencyKey: string;
  /** Our id for the payment (payment order id): metadata on Stripe, AccountReference on M-Pesa. */
  reference: string;
  description?: string;
  metadata?: Record<string, string>;
  captureMethod?: "automatic" | "manual";
  paymentMethod?: PaymentMethodInput;
  /** Stripe Connect destination charge. */
  destination?: { account: string; applicationFee?: Money };
  returnUrl?: string;
  /** Per-request sandbox fault (tests only; ignored in live mode). */
  sandboxFault?: string;
}

export interface ConfirmPaymentInput {
  pspReference: string;
  paymentMethodToken: string;
  idempotencyKey: string;
  returnUrl?: string;
  offSession?: boolean;
  sandboxFault?: string;
}

export interface RefundInput {
  pspReference: string;
  amount: Money;
  idempotencyKey: string;
  /** M-Pesa reversals need the receipt of the original payment. */
  receipt?: string;
  /** Our refund id (rfd_…): Stripe metadata `refund_id`, so the PSP's object names ours. */
  reference?: string;
  reason?: "duplicate" | "fraudulent" | "requested_by_customer";
  sandboxFault?: string;
}

/** Stripe's refund statuses; M-Pesa reversals are pending until their (verified) result. */
export type PspRefundStatus = "pending" | "requires_action" | "succeeded" | "failed" | "canceled";

export interface RefundResult {
  /** re_… (Stripe) or the reversal's ConversationID (M-Pesa). */
  pspRefundId: string;
  status: PspRefundStatus;
  amount: Money;
  /** Stripe's failure_reason (declined, expired_or_canceled_card, insufficient_funds, …), when failed or canceled. */
  failureReason?: string;
  failure?: PspFailure;
  /** The PaymentIntent (Stripe) the refund belongs to, when the PSP's answer carries it. */
  pspPaymentReference?: string;
}

/** Stripe's dispute statuses. */
export type PspDisputeStatus = "warning_needs_response" | "warning_under_review" | "warning_closed" | "needs_response" | "under_review" | "won" | "lost";

/** One balance movement of a dispute (Stripe's dispute balance_transactions): a withdrawal (< 0) or a reinstatement (> 0). */
export interface PspDisputeMovement {
  /** txn_… */
  id: string;
  /** Signed: the disputed amount taken (< 0) or given back (> 0). */
  amount: Money;
  /** The dispute fee, as a positive amount, charged (withdrawal) or returned (reinstatement). */
  fee: Money;
  kind: "withdrawal" | "reinstatement";
  createdAt: Date;
}

/** The evidence we send: Stripe's `evidence` text fields (a subset) and an uploaded file. */
export interface DisputeEvidenceInput {
  customerName?: string;
  customerEmailAddress?: string;
  productDescription?: string;
  uncategorizedText?: string;
  refundPolicyDisclosure?: string;
  shippingTrackingNumber?: string;
  /** file_… from uploadDisputeFile. */
  uncategorizedFile?: string;
}

export interface PspDispute {
  psp: PspName;
  /** dp_… */
  pspDisputeId: string;
  pspChargeId: string;
  /** The disputed PaymentIntent. */
  pspPaymentReference: string;
  amount: Money;
  status: PspDisputeStatus;
  reason: string;
  /** evidence_details.due_by. */
  evidenceDueBy?: Date;
  /** evidence_details.submission_count > 0. */
  evidenceSubmitted: boolean;
  isChargeRefundable: boolean;
  /** Oldest first. */
  movements: PspDisputeMovement[];
  createdAt: Date;
}


export interface PayoutInput {
  amount: Money;
  idempotencyKey: string;
  /** Stripe: connected account (acct_…) for a transfer, or "platform" for a bank payout. M-Pesa: phone (2547…). */
  destination: string;
  reference: string;
  sandboxFault?: string;
}

export interface PayoutResult {
  pspPayoutId: string;
  status: "pending" | "paid" | "failed";
  amount: Money;
  failure?: PspFailure;
}

// Payouts (server/payouts/execution.ts). Stripe pays a seller in two calls: a Connect transfer from the platform's
// balance to the seller's connected account (transfer_group = the payout's pspKey), then a payout on that account
// (Stripe-Account header; metadata payout_key = pspKey). Daraja pays by one B2C BusinessPayment whose
// OriginatorConversationID is the pspKey; its outcome comes only by the Result callback or Transaction Status.

export type PspPayoutStatus = "pending" | "in_transit" | "paid" | "failed" | "canceled";

/** A payout object at the PSP (Stripe po_… on a connected account). */
export interface PspPayoutRecord {
  id: string;
  status: PspPayoutStatus;
  amount: Money;
  /** Stripe failure_code (account_closed, no_account, insufficient_funds, …) and failure_message, when failed. */
  failureCode?: string;
  failureMessage?: string;
  arrivalDate?: Date;
  /** metadata.payout_key: our payout's pspKey. */
  payoutKey?: string;
  balanceTransaction?: string;
  created: Date;
}

/** A Connect transfer (tr_…). */
export interface PspTransferRecord {
  id: string;
  amount: Money;
  /** amount_reversed, minor units. */
  amountReversed: bigint;
  destination: string;
  transferGroup?: string;
  created: Date;
}

/** Stripe Connect operations the payout executor uses (the Stripe connector's `connect`). */
export interface StripeConnectOps {
  /** The connected account, to check a destination before saving it. not_found -> PspError (not retryable). */
  getAccount(input: { accountId: string }): Promise<{ id: string; payoutsEnabled: boolean }>;
  createTransfer(input: { amount: Money; destination: string; transferGroup: string; idempotencyKey: string; metadata: Record<string, string> }): Promise<PspTransferRecord>;
  /** GET /v1/transfers?transfer_group=…: every transfer ever made for this payout (the look-up before any re-send). */
  findTransfers(input: { transferGroup: string }): Promise<PspTransferRecord[]>;
  /** Reverses what is left of a transfer (money back to the platform), idempotently. */
  reverseTransfer(input: { transferId: string; idempotencyKey: string; metadata: Record<string, string> }): Promise<{ id: string; amount: Money }>;
  /** A payout on the connected account (Stripe-Account header). */
  createPayout(input: { account: string; amount: Money; idempotencyKey: string; metadata: Record<string, string>; method: "standard" | "instant"; description?: string }): Promise<PspPayoutRecord>;
  /** The connected account's payouts created since `createdAfter` whose metadata.payout_key is `payoutKey`. */
  findPayouts(input: { account: string; payoutKey: string; createdAfter: Date }): Promise<PspPayoutRecord[]>;
  getPayout(input: { account: string; payoutId: string }): Promise<PspPayoutRecord>;
}

/** Daraja B2C operations (the Daraja connector's `b2c`). */
export interface MpesaB2cOps {
  /** BusinessPayment: the synchronous answer only means accepted (ConversationID); the outcome comes by callback. */
  sendPayment(input: { amount: Money; phone: string; originatorConversationId: string; reference: string; sandboxFault?: string }): Promise<{ conversationId: string }>;
  /** Transaction Status of a B2C payment by its OriginatorConversationID; the answer comes by callback (b2c_status). */
  requestStatus(input: { originatorConversationId: string; idempotencyKey: string }): Promise<void>;
  /** Account Balance query; the answer comes by callback (b2c_balance). */
  requestBalance?(input: { idempotencyKey: string }): Promise<void>;
}

/** When a charge's funds are available at the PSP (settlement). null: the PSP does not say (use the fallback). */
export interface FundsAvailability {
  available: boolean;
  availableOn: Date;
}

export type SettlementRowType = "charge" | "refund" | "refund_failure" | "transfer" | "transfer_reversal" | "payout" | "payout_failure" | "dispute" | "other";

export interface SettlementRow {
  pspTransactionId: string;
  type: SettlementRowType;
  gross: Money;
  fee: Money;
  net: Money;
  /** The PSP object behind the movement (ch_…, re_…, receipt). */
  sourceId: string;
  createdAt: Date;
  availableOn?: Date;
  payoutId?: string;
}

export interface SettlementPage {
  rows: SettlementRow[];
  nextCursor?: string;
}

export interface ParsedWebhook {
  psp: PspName;
  /** Unique per PSP: Stripe evt_…, or a derived id for Daraja (see daraja/transform.ts). */
  eventId: string;
  type: string;
  objectId?: string;
  payload: Record<string, unknown>;
}

export interface PspConnector {
  readonly psp: PspName;
  createPayment(input: CreatePaymentInput): Promise<PaymentResult>;
  confirmPayment(input: ConfirmPaymentInput): Promise<PaymentResult>;
  capturePayment(input: { pspReference: string; amount?: Money; idempotencyKey: string }): Promise<PaymentResult>;
  cancelPayment(input: { pspReference: string; idempotencyKey: string }): Promise<PaymentResult>;
  refundPayment(input: RefundInput): Promise<RefundResult>;
  /** The refund as the PSP has it now (Stripe). M-Pesa has no refund lookup: its reversal results arrive by callback. */
  getRefund?(input: { pspRefundId: string }): Promise<RefundResult>;
  /** Cancels a pending / requires_action refund (Stripe). */
  cancelRefund?(input: { pspRefundId: string; idempotencyKey: string }): Promise<RefundResult>;
  /** Disputes (Stripe): read one (with its balance movements), submit evidence once, accept (close), upload a file. */
  getDispute?(input: { pspDisputeId: string }): Promise<PspDispute>;
  submitDisputeEvidence?(input: { pspDisputeId: string; evidence: DisputeEvidenceInput; idempotencyKey: string }): Promise<PspDispute>;
  closeDispute?(input: { pspDisputeId: string; idempotencyKey: string }): Promise<PspDispute>;
  uploadDisputeFile?(input: { fileName: string; contentType: string; data: Uint8Array; idempotencyKey: string }): Promise<{ fileId: string }>;
  createPayout(input: PayoutInput): Promise<PayoutResult>;
  /** Stripe Connect transfers and payouts (payouts issue). */
  readonly connect?: StripeConnectOps;
  /** Daraja B2C (payouts issue). */
  readonly b2c?: MpesaB2cOps;
  /** Stripe: whether the payment's charge funds are available (its balance transaction's status / available_on). */
  getFundsAvailability?(input: { pspReference: string }): Promise<FundsAvailability | null>;
  getPaymentStatus(input: { pspReference: string }): Promise<PaymentResult>;
  /** Card PSPs: the declined charges of a payment, newest first (at most `limit`). */
  listCardDeclines?(input: { pspReference: string; limit: number }): Promise<CardDecline[]>;
  listSettlement(input: { since?: Date; cursor?: string; limit?: number }): Promise<SettlementPage>;
}
