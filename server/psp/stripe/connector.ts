// Stripe connector: PaymentIntents (Payment Element client_secret, server confirm), capture, cancel,
// refunds (create, retrieve, cancel), disputes (retrieve, evidence, close) and evidence files, Connect (accounts,
// transfers and their reversals, payouts on connected accounts), funds availability, balance transactions. Every call carries the caller's
// deterministic idempotency key (writes), a timeout, and is recorded in psp_attempts.
import type Stripe from "stripe";
import { AppError } from "@/server/errors";
import type { Money } from "@/server/money";
import { type AttemptRecorder, type CallFacts, recordedCall } from "../attempts";
import { PspError } from "../errors";
import type { CardDecline, ConfirmPaymentInput, CreatePaymentInput, DisputeEvidenceInput, FundsAvailability, PaymentResult, PayoutInput, PayoutResult, PspConnector, PspDispute, RefundInput, RefundResult, SettlementPage, StripeConnectOps } from "../types";
import { disputeToPsp, evidenceSummary, evidenceToStripe, refundToResult } from "./refunds-disputes";
import { balanceTransactionToRow, chargeToCardDecline, fromStripeAmount, fundsAvailabilityOf, payoutToRecord, payoutToResult, paymentIntentToResult, stripeErrorToPspError, toStripeAmount, toStripeCurrency, transferToPayout, transferToRecord } from "./transform";

export const SETTLEMENT_PAGE_SIZE = 100;
/** Stripe's largest list page. */
export const STRIPE_LIST_LIMIT_MAX = 100;
const SANDBOX_FAULT_HEADER = "Sandbox-Fault";

type Opts = { idempotencyKey?: string; sandboxFault?: string; /** A connected account (acct_…): the Stripe-Account header. */ stripeAccount?: string };

/** Pages of 100 read at most when looking a payout up on a connected account (10,000 payouts since createdAfter). */
export const FIND_PAYOUTS_PAGES_MAX = 100;
/** Pages of 100 read at most when listing a transfer group's transfers (one payout makes one transfer). */
export const FIND_TRANSFERS_PAGES_MAX = 10;

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
    return { ...(o.idempotencyKey ? { idempotencyKey: o.idempotencyKey } : {}), ...(o.stripeAccount ? { stripeAccount: o.stripeAccount } : {}), ...(headers ? { headers } : {}) };
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

  /**
   * Every page of a list (starting_after, STRIPE_LIST_LIMIT_MAX a page, at most `pagesMax` pages), each page a
   * recorded call, keeping the items that `match`. More pages than that throw (`tooMany()` says what): never
   * answer "none" from a partial read (the caller would pay again).
   */
  private async listMatching<T extends { id: string }>(q: {
    operation: string;
    summary: (after: string | undefined) => Record<string, unknown>;
    o: Opts;
    list: (page: { limit: number; starting_after?: string }, opts: Stripe.RequestOptions) => Promise<Stripe.ApiList<T>>;
    match: (item: T) => boolean;
    pagesMax: number;
    tooMany: () => string;
  }): Promise<T[]> {
    const found: T[] = [];
    let after: string | undefined;
    for (let page = 0; page < q.pagesMax; page++) {
      const params = { limit: STRIPE_LIST_LIMIT_MAX, ...(after ? { starting_after: after } : {}) };
      const list = await this.mapped(q.operation, q.summary(after), q.o, (opts) => q.list(params, opts), () => undefined, (l) => l);
      found.push(...list.data.filter(q.match));
      if (!list.has_more || list.data.length === 0) return found;
      after = list.data.at(-1)!.id;
    }
    throw new AppError("internal", q.tooMany());
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

  /**
   * Stripe Connect (server/payouts/execution.ts): a transfer from the platform's balance to the seller's connected
   * account (transfer_group = our pspKey), then a payout on that account (Stripe-Account header). The look-ups read
   * every page (bounded) and match our key themselves, so a filter the PSP ignored cannot hide or invent a payout.
   */
  readonly connect: StripeConnectOps = {
    getAccount: (input) =>
      this.mapped("account.retrieve", { account: input.accountId }, {}, (opts) => this.stripe.accounts.retrieve(input.accountId, {}, opts), (a) => a.id, (a) => ({ id: a.id, payoutsEnabled: a.payouts_enabled === true })),

    createTransfer: (input) => {
      const params: Stripe.TransferCreateParams = { amount: toStripeAmount(input.amount), currency: toStripeCurrency(input.amount), destination: input.destination, transfer_group: input.transferGroup, metadata: input.metadata };
      const summary = { amount: params.amount, currency: params.currency, destination: input.destination, transfer_group: input.transferGroup, metadata: input.metadata };
      return this.mapped("transfer.create", summary, input, (opts) => this.stripe.transfers.create(params, opts), (t) => t.id, transferToRecord);
    },

    findTransfers: async (input) => {
      const found = await this.listMatching({
        operation: "transfer.list",
        summary: (after) => ({ transfer_group: input.transferGroup, starting_after: after }),
        o: {},
        list: (page, opts) => this.stripe.transfers.list({ transfer_group: input.transferGroup, ...page }, opts),
        match: (t) => t.transfer_group === input.transferGroup,
        pagesMax: FIND_TRANSFERS_PAGES_MAX,
        tooMany: () => `stripe: more than ${FIND_TRANSFERS_PAGES_MAX} pages of transfers listed for transfer_group ${input.transferGroup}`,
      });
      return found.map(transferToRecord);
    },

    reverseTransfer: (input) => {
      // No amount: Stripe reverses what is left of the transfer.
      const params: Stripe.TransferCreateReversalParams = { metadata: input.metadata };
      return this.mapped("transfer.reversal.create", { transfer: input.transferId, metadata: input.metadata }, input, (opts) => this.stripe.transfers.createReversal(input.transferId, params, opts), (r) => r.id, (r) => ({ id: r.id, amount: fromStripeAmount(r.amount, r.currency) }));
    },

    createPayout: (input) => {
      const params: Stripe.PayoutCreateParams = { amount: toStripeAmount(input.amount), currency: toStripeCurrency(input.amount), metadata: input.metadata, method: input.method, ...(input.description ? { description: input.description } : {}) };
      const summary = { account: input.account, amount: params.amount, currency: params.currency, method: input.method, metadata: input.metadata };
      return this.mapped("payout.create", summary, { idempotencyKey: input.idempotencyKey, stripeAccount: input.account }, (opts) => this.stripe.payouts.create(params, opts), (p) => p.id, payoutToRecord);
    },

    findPayouts: async (input) => {
      const gte = Math.floor(input.createdAfter.getTime() / 1000);
      const found = await this.listMatching({
        operation: "payout.list",
        summary: (after) => ({ account: input.account, created_gte: gte, starting_after: after, payout_key: input.payoutKey }),
        o: { stripeAccount: input.account },
        list: (page, opts) => this.stripe.payouts.list({ created: { gte }, ...page }, opts),
        match: (p) => p.metadata?.payout_key === input.payoutKey,
        pagesMax: FIND_PAYOUTS_PAGES_MAX,
        tooMany: () => `stripe: more than ${FIND_PAYOUTS_PAGES_MAX} pages of payouts on ${input.account} since ${input.createdAfter.toISOString()}`,
      });
      return found.map(payoutToRecord);
    },

    getPayout: (input) =>
      this.mapped("payout.retrieve", { account: input.account, payout: input.payoutId }, { stripeAccount: input.account }, (opts) => this.stripe.payouts.retrieve(input.payoutId, {}, opts), (p) => p.id, payoutToRecord),
  };

  /** Settlement: the PaymentIntent's latest charge's balance transaction says whether (and when) its funds are available. */
  getFundsAvailability(input: { pspReference: string }): Promise<FundsAvailability | null> {
    return this.mapped(
      "payment_intent.retrieve",
      { payment_intent: input.pspReference, expand: "latest_charge.balance_transaction" },
      {},
      (opts) => this.stripe.paymentIntents.retrieve(input.pspReference, { expand: ["latest_charge.balance_transaction"] }, opts),
      (pi) => pi.id,
      fundsAvailabilityOf,
    );
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

  /**
   * One page of balance transactions with their sources expanded (a charge's payment_intent): the reconciliation
   * import (server/reconciliation/imports/stripe-api.ts). `created` is [gte, lt) in Unix seconds; `payout` and
   * `source` filter as at Stripe; `stripeAccount` reads a connected account's.
   */
  listBalanceTransactions(input: { createdGte?: number; createdLt?: number; payout?: string; source?: string; startingAfter?: string; limit?: number; stripeAccount?: string }): Promise<Stripe.ApiList<Stripe.BalanceTransaction>> {
    const created = input.createdGte !== undefined || input.createdLt !== undefined ? { created: { ...(input.createdGte !== undefined ? { gte: input.createdGte } : {}), ...(input.createdLt !== undefined ? { lt: input.createdLt } : {}) } } : {};
    const params: Stripe.BalanceTransactionListParams = {
      limit: Math.min(input.limit ?? STRIPE_LIST_LIMIT_MAX, STRIPE_LIST_LIMIT_MAX),
      expand: ["data.source"],
      ...created,
      ...(input.payout ? { payout: input.payout } : {}),
      ...(input.source ? { source: input.source } : {}),
      ...(input.startingAfter ? { starting_after: input.startingAfter } : {}),
    };
    const summary = { limit: params.limit, created_gte: input.createdGte, created_lt: input.createdLt, payout: input.payout, source: input.source, starting_after: input.startingAfter, account: input.stripeAccount };
    return this.mapped("balance_transaction.list", summary, { stripeAccount: input.stripeAccount }, (opts) => this.stripe.balanceTransactions.list(params, opts), () => undefined, (l) => l);
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

