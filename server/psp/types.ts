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
  reason?: "duplicate" | "fraudulent" | "requested_by_customer";
  sandboxFault?: string;
}

export interface RefundResult {
  pspRefundId: string;
  status: "pending" | "succeeded" | "failed";
  amount: Money;
  failure?: PspFailure;
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
  createPayout(input: PayoutInput): Promise<PayoutResult>;
  getPaymentStatus(input: { pspReference: string }): Promise<PaymentResult>;
  /** Card PSPs: the declined charges of a payment, newest first (at most `limit`). */
  listCardDeclines?(input: { pspReference: string; limit: number }): Promise<CardDecline[]>;
  listSettlement(input: { since?: Date; cursor?: string; limit?: number }): Promise<SettlementPage>;
}
