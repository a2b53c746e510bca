// Stripe connector: PaymentIntents (Payment Element client_secret, server confirm), capture, cancel,
// refunds (create, retrieve, cancel), disputes (retrieve, evidence, close) and evidence files, Connect transfers +
// payouts, balance transactions. Every call carries the caller's
// deterministic idempotency key (writes), a timeout, and is recorded in psp_attempts.
import type Stripe from "stripe";
import type { Money } from "@/server/money";
import { type AttemptRecorder, type CallFacts, recordedCall } from "../attempts";
import { PspError } from "../errors";
import type { CardDecline, ConfirmPaymentInput, CreatePaymentInput, DisputeEvidenceInput, PaymentResult, PayoutInput, PayoutResult, PspConnector, PspDispute, RefundInput, RefundResult, SettlementPage } from "../types";
import { disputeToPsp, evidenceSummary, evidenceToStripe, refundToResult } from "./refunds-disputes";
import { balanceTransactionToRow, chargeToCardDecline, payoutToResult, paymentIntentToResult, stripeErrorToPspError, toStripeAmount, toStripeCurrency, transferToPayout } from "./transform";

export const SETTLEMENT_PAGE_SIZE = 100;
/** Stripe's largest list page. */
export const STRIPE_LIST_LIMIT_MAX = 100;
const SANDBOX_FAULT_HEADER = "Sandbox-Fault";

type Opts = { idempotencyKey?: string; sandboxFault?: string };

export class StripeConnector implements PspConnector {
  readonly psp = "stripe" as const;

  constructor(
    private readonly stripe: Stripe,
    private readonly record: AttemptRecorder,
    /** Sandbox faults only travel in sandbox mode, never to api.stripe.com. */
    private readonly allowSandboxFaults: boolean,
  ) {}

  private requestOptions(o: Opts): Stripe.RequestOptions {
    const headers = this.allowSandboxFaults && o.sandboxFault ? { [SANDBOX_FAULT_HEADER]: o.sandboxFault } : undefined;
    return { ...(o.idempotencyKey ? { idempotencyKey: o.idempotencyKey } : {}), ...(headers ? { headers } : {}) };
  }

  private call<T>(operation: string, request: Record<string, unknown>, o: Opts, fn: (opts: Stripe.RequestOptions) => Promise<T>, objectId: (r: T) => string | undefined): Promise<T> {
    const onOk = (r: T): CallFacts => ({ outcome: "ok", responseStatus: 200, pspObjectId: objectId(r), pspRequestId: (r as { lastResponse?: { requestId?: string } }).lastResponse?.requestId });
    return recordedCall(this.record, { psp: "stripe", operation, idempotencyKey: o.idempotencyKey, request }, () => fn(this.requestOptions(o)), onOk, errorFacts);
  }

  /** A card decline (402) comes back as a result with `failure`, not as an exception. */
  private async payment(operation: string, request: Record<string, unknown>, o: Opts, fn: (opts: Stripe.RequestOptions) => Promise<Stripe.PaymentIntent>): Promise<PaymentResult> {
    try {
      return paymentIntentToResult(await this.call(operation, request, o, fn, (pi) => pi.id));
    } catch (err) {
      const declined = (err as { type?: string; raw?: { payment_intent?: Stripe.PaymentIntent } }).raw?.payment_intent;
      if ((err as { type?: string }).type === "StripeCardError" && declined) return paymentIntentToResult(declined);
      throw stripeErrorToPspError(err);
    }
  }

  createPayment(input: CreatePaymentInput): Promise<PaymentResult> {
    if (input.paymentMethod?.type === "mpesa_phone") throw new PspError("stripe", "invalid_request", "Stripe cannot take an M-Pesa phone payment");
    const params: Stripe.PaymentIntentCreateParams = {
      amount: toStripeAmount(input.amount),
      currency: toStripeCurrency(input.amount),
      capture_method: input.captureMethod ?? "automatic",
      description: input.description,
      metadata: { ...input.metadata, reference: input.reference },
      ...(input.paymentMethod ? { payment_method: input.paymentMethod.token, confirm: true, return_url: input.returnUrl } : { automatic_payment_methods: { enabled: true } }),
      ...(input.destination ? { transfer_data: { destination: input.destination.account }, application_fee_amount: input.destination.applicationFee ? toStripeAmount(input.destination.applicationFee) : undefined } : {}),
    };
    const summary = { amount: params.amount, currency: params.currency, reference: input.reference, capture: params.capture_method, confirm: !!params.confirm, destination: input.destination?.account };
    return this.payment("payment_intent.create", summary, input, (opts) => this.stripe.paymentIntents.create(params, opts));
  }

  confirmPayment(input: ConfirmPaymentInput): Promise<PaymentResult> {
    const params: Stripe.PaymentIntentConfirmParams = { payment_method: input.paymentMethodToken, return_url: input.returnUrl, ...(input.offSession ? { off_session: true } : {}) };
    return this.payment("payment_intent.confirm", { payment_intent: input.pspReference }, input, (opts) => this.stripe.paymentIntents.confirm(input.pspReference, params, opts));
  }

  capturePayment(input: { pspReference: string; amount?: Money; idempotencyKey: string }): Promise<PaymentResult> {
    const params = input.amount ? { amount_to_capture: toStripeAmount(input.amount) } : {};
    return this.payment("payment_intent.capture", { payment_intent: input.pspReference, ...params }, input, (opts) => this.stripe.paymentIntents.capture(input.pspReference, params, opts));
  }

  cancelPayment(input: { pspReference: string; idempotencyKey: string }): Promise<PaymentResult> {
    return this.payment("payment_intent.cancel", { payment_intent: input.pspReference }, input, (opts) => this.stripe.paymentIntents.cancel(input.pspReference, {}, opts));
  }

  getPaymentStatus(input: { pspReference: string }): Promise<PaymentResult> {
    return this.payment("payment_intent.retrieve", { payment_intent: input.pspReference }, {}, (opts) => this.stripe.paymentIntents.retrieve(input.pspReference, { expand: ["latest_charge"] }, opts));
  }

  /** The PaymentIntent's failed charges (one per declined try), newest first. */
  async listCardDeclines(input: { pspReference: string; limit: number }): Promise<CardDecline[]> {
    const params: Stripe.ChargeListParams = { payment_intent: input.pspReference, limit: Math.min(input.limit, STRIPE_LIST_LIMIT_MAX) };
    try {
      const page = await this.call("charge.list", { payment_intent: input.pspReference, limit: params.limit }, {}, (opts) => this.stripe.charges.list(params, opts), () => undefined);
      return page.data.filter((ch) => ch.status === "failed").map(chargeToCardDecline);
    } catch (err) {
      throw stripeErrorToPspError(err);
    }
  }

  /** A recorded call whose SDK errors become PspError (refunds, disputes, files: no decline results here). */
  private async mapped<T, R>(operation: string, request: Record<string, unknown>, o: Opts, fn: (opts: Stripe.RequestOptions) => Promise<T>, objectId: (r: T) => string | undefined, map: (r: T) => R): Promise<R> {
    let answer: T;
    try {
      answer = await this.call(operation, request, o, fn, objectId);
    } catch (err) {
      throw stripeErrorToPspError(err);
    }
    return map(answer);
  }

  /** A refund of (part of) a PaymentIntent; metadata refund_id names our refund. The answer may still be pending. */
  refundPayment(input: RefundInput): Promise<RefundResult> {
    const params: Stripe.RefundCreateParams = {
      payment_intent: input.pspReference,
      amount: toStripeAmount(input.amount),
      ...(input.reason ? { reason: input.reason } : {}),
      ...(input.reference ? { metadata: { refund_id: input.reference } } : {}),
    };
    const summary = { payment_intent: input.pspReference, amount: params.amount, reason: input.reason, refund_id: input.reference };
    return this.mapped("refund.create", summary, input, (opts) => this.stripe.refunds.create(params, opts), (r) => r.id, refundToResult);
  }

  getRefund(input: { pspRefundId: string }): Promise<RefundResult> {
    return this.mapped("refund.retrieve", { refund: input.pspRefundId }, {}, (opts) => this.stripe.refunds.retrieve(input.pspRefundId, {}, opts), (r) => r.id, refundToResult);
  }

  /** Only a pending / requires_action refund can be canceled; Stripe refuses others (invalid_request). */
  cancelRefund(input: { pspRefundId: string; idempotencyKey: string }): Promise<RefundResult> {
    return this.mapped("refund.cancel", { refund: input.pspRefundId }, input, (opts) => this.stripe.refunds.cancel(input.pspRefundId, {}, opts), (r) => r.id, refundToResult);
  }

  /** The dispute with its balance movements (Stripe sends balance_transactions as full objects, not expandable). */
  getDispute(input: { pspDisputeId: string }): Promise<PspDispute> {
    return this.mapped("dispute.retrieve", { dispute: input.pspDisputeId }, {}, (opts) => this.stripe.disputes.retrieve(input.pspDisputeId, {}, opts), (r) => r.id, disputeToPsp);
  }

  /** Sends the evidence and submits it (Stripe allows one submission). The record names the fields, not their text. */
  submitDisputeEvidence(input: { pspDisputeId: string; evidence: DisputeEvidenceInput; idempotencyKey: string }): Promise<PspDispute> {
    const params: Stripe.DisputeUpdateParams = { evidence: evidenceToStripe(input.evidence), submit: true };
    const summary = { dispute: input.pspDisputeId, submit: true, evidence_fields: evidenceSummary(input.evidence) };
    return this.mapped("dispute.update", summary, input, (opts) => this.stripe.disputes.update(input.pspDisputeId, params, opts), (r) => r.id, disputeToPsp);
  }

  /** Accepts the loss: the dispute closes as lost (an inquiry as warning_closed). */
  closeDispute(input: { pspDisputeId: string; idempotencyKey: string }): Promise<PspDispute> {
    return this.mapped("dispute.close", { dispute: input.pspDisputeId }, input, (opts) => this.stripe.disputes.close(input.pspDisputeId, {}, opts), (r) => r.id, disputeToPsp);
  }

  /** An evidence file (purpose dispute_evidence) for submitDisputeEvidence's uncategorizedFile. */
  uploadDisputeFile(input: { fileName: string; contentType: string; data: Uint8Array; idempotencyKey: string }): Promise<{ fileId: string }> {
    const params: Stripe.FileCreateParams = { purpose: "dispute_evidence", file: { data: input.data, name: input.fileName, type: input.contentType } };
    const summary = { purpose: "dispute_evidence", content_type: input.contentType, size: input.data.byteLength };
    return this.mapped("file.create", summary, input, (opts) => this.stripe.files.create(params, opts), (f) => f.id, (f) => ({ fileId: f.id }));
  }

  /** To a connected account (acct_…): a Connect transfer. "platform": a payout to the platform's bank. */
  async createPayout(input: PayoutInput): Promise<PayoutResult> {
    const amount = toStripeAmount(input.amount);
    const currency = toStripeCurrency(input.amount);
    const metadata = { reference: input.reference };
    try {
      if (input.destination === "platform") {
        const po = await this.call("payout.create", { amount, currency, reference: input.reference }, input, (opts) => this.stripe.payouts.create({ amount, currency, metadata }, opts), (r) => r.id);
        return payoutToResult(po);
      }
      const tr = await this.call("transfer.create", { amount, currency, destination: input.destination, reference: input.reference }, input, (opts) => this.stripe.transfers.create({ amount, currency, destination: input.destination, metadata }, opts), (r) => r.id);
      return transferToPayout(tr);
    } catch (err) {
      throw stripeErrorToPspError(err);
    }
  }

  async listSettlement(input: { since?: Date; cursor?: string; limit?: number }): Promise<SettlementPage> {
    const params: Stripe.BalanceTransactionListParams = {
      limit: Math.min(input.limit ?? SETTLEMENT_PAGE_SIZE, SETTLEMENT_PAGE_SIZE),
      ...(input.since ? { created: { gte: Math.floor(input.since.getTime() / 1000) } } : {}),
      ...(input.cursor ? { starting_after: input.cursor } : {}),
    };
    try {
      const page = await this.call("balance_transaction.list", { limit: params.limit, cursor: input.cursor }, {}, (opts) => this.stripe.balanceTransactions.list(params, opts), () => undefined);
      const rows = page.data.map(balanceTransactionToRow);
      return { rows, nextCursor: page.has_more ? page.data.at(-1)?.id : undefined };
    } catch (err) {
      throw stripeErrorToPspError(err);
    }
  }
}

function errorFacts(err: unknown): CallFacts {
  const e = err as { type?: string; statusCode?: number; code?: string; requestId?: string; detail?: { code?: string } };
  if (e.type === "StripeConnectionError") return { outcome: e.detail?.code === "ETIMEDOUT" ? "timeout" : "network_error", errorCode: e.detail?.code };
  if (typeof e.statusCode === "number") return { outcome: "psp_error", responseStatus: e.statusCode, errorCode: e.code ?? e.type, pspRequestId: e.requestId };
  return { outcome: "network_error", errorCode: e.type ?? "unknown" };
}

