// M-Pesa connector over Daraja: STK push (pay-in), STK query (status), B2C (payout), reversal (refund),
// transaction status (receipt confirmation). Daraja callbacks are unsigned hints; server/webhooks
// confirms them by fetch before anything moves.
import { parse } from "csv-parse/sync";
import type { Money } from "@/server/money";
import { PspError } from "../errors";
import type { ConfirmPaymentInput, CreatePaymentInput, MpesaB2cOps, PaymentResult, PayoutInput, PayoutResult, PspConnector, RefundInput, RefundResult, SettlementPage, SettlementRow } from "../types";
import { type DarajaClient, DarajaHttpError, toPspError } from "./client";
import { fromDarajaAmount, maskPhone, type MpesaCallbackKind, normalizePhone, STK_PENDING_ERROR, stkStatusOf, toDarajaAmount } from "./transform";

export const ACCOUNT_REFERENCE_MAX = 12;
/** Daraja's Occasion / Remarks take up to 100 characters: a payout id (pyo_…) fits whole. */
export const B2C_OCCASION_MAX = 100;
export const TRANSACTION_DESC_MAX = 13;

export interface DarajaConnectorDeps {
  client: DarajaClient;
  /** Absolute callback URL (with its secret path token) for each kind of Daraja callback. */
  callbackUrl: (kind: MpesaCallbackKind) => string;
  /** STK push has no idempotency key at Daraja: a prior successful push with our key is reused. */
  findPriorStkPush: (idempotencyKey: string) => Promise<string | undefined>;
  /**
   * What our successful STK push with this CheckoutRequestID put on the wire (psp_attempts summary, see
   * transform.ts pushedAmount). STK query answers carry no amount: this is the amount a success moved.
   */
  findStkPushAmount: (checkoutRequestId: string) => Promise<Money | undefined>;
  /** Where the org statement CSV comes from (sandbox: its export; live: an uploaded file). */
  statementCsv?: () => Promise<string>;
}

export class DarajaConnector implements PspConnector {
  readonly psp = "mpesa" as const;
  constructor(private readonly deps: DarajaConnectorDeps) {}

  async createPayment(input: CreatePaymentInput): Promise<PaymentResult> {
    if (input.paymentMethod?.type !== "mpesa_phone") throw new PspError("mpesa", "invalid_request", "M-Pesa needs a phone number");
    const prior = await this.deps.findPriorStkPush(input.idempotencyKey);
    if (prior) return { psp: "mpesa", pspReference: prior, status: "pending", amount: input.amount };
    const phone = normalizePhone(input.paymentMethod.phone);
    const amount = toDarajaAmount(input.amount);
    const c = this.deps.client;
    const body = {
      ...c.stkCredentials(),
      TransactionType: "CustomerPayBillOnline",
      Amount: amount,
      PartyA: phone,
      PartyB: c.config.shortcode,
      PhoneNumber: phone,
      CallBackURL: this.deps.callbackUrl("stk"),
      AccountReference: input.reference.slice(-ACCOUNT_REFERENCE_MAX),
      TransactionDesc: (input.description ?? "Payment").slice(0, TRANSACTION_DESC_MAX),
    };
    // The summary keeps what verification needs later: amount (minor units, and the exact wire Amount that a
    // success moves: getPaymentStatus reports it), shortcode, masked phone, our reference.
    const summary = { amount_minor: input.amount.amount.toString(), amount_sent_kes: amount, currency: input.amount.currency, shortcode: c.config.shortcode, phone: maskPhone(phone), reference: input.reference };
    try {
      const r = await c.post("/mpesa/stkpush/v1/processrequest", body, { operation: "stk_push", idempotencyKey: input.idempotencyKey, summary, objectId: (x) => x.CheckoutRequestID as string, sandboxFault: input.sandboxFault });
      return { psp: "mpesa", pspReference: String(r.CheckoutRequestID), status: "pending", amount: input.amount };
    } catch (err) {
      throw toPspError(err);
    }
  }

  async confirmPayment(_input: ConfirmPaymentInput): Promise<PaymentResult> {
    throw new PspError("mpesa", "invalid_request", "M-Pesa payments are confirmed by the customer on their phone");
  }

  /** STK payments settle at once; "capture" just reports the status. */
  capturePayment(input: { pspReference: string; amount?: Money; idempotencyKey: string }): Promise<PaymentResult> {
    return this.getPaymentStatus(input);
  }

  async cancelPayment(_input: { pspReference: string; idempotencyKey: string }): Promise<PaymentResult> {
    throw new PspError("mpesa", "invalid_request", "an STK push cannot be cancelled; let it time out or reverse it");
  }

  /**
   * STK query: the authority on an STK payment's outcome (callbacks are only hints). Its answer has no amount;
   * a success reports the amount our push sent for this CheckoutRequestID (none if we have no record of the
   * push, and then nothing is credited).
   */
  async getPaymentStatus(input: { pspReference: string; sandboxFault?: string }): Promise<PaymentResult> {
    const c = this.deps.client;
    let r: Record<string, unknown>;
    try {
      r = await c.post("/mpesa/stkpushquery/v1/query", { ...c.stkCredentials(), CheckoutRequestID: input.pspReference }, { operation: "stk_query", summary: { checkout_request_id: input.pspReference }, objectId: () => input.pspReference, sandboxFault: input.sandboxFault });
    } catch (err) {
      if (err instanceof DarajaHttpError && err.errorCode === STK_PENDING_ERROR) return { psp: "mpesa", pspReference: input.pspReference, status: "pending" };
      throw toPspError(err);
    }
    const code = Number(r.ResultCode);
    const status = stkStatusOf(code);
    if (status !== "succeeded") return { psp: "mpesa", pspReference: input.pspReference, status, failure: { code: String(code), message: String(r.ResultDesc ?? "") } };
    return { psp: "mpesa", pspReference: input.pspReference, status, amount: await this.deps.findStkPushAmount(input.pspReference) };
  }

  /** Reversal of the original receipt; the outcome arrives at the reversal ResultURL. */
  async refundPayment(input: RefundInput): Promise<RefundResult> {
    if (!input.receipt) throw new PspError("mpesa", "invalid_request", "an M-Pesa reversal needs the original receipt");
    const c = this.deps.client;
    const body = { Initiator: c.config.initiatorName, SecurityCredential: c.config.securityCredential, CommandID: "TransactionReversal", TransactionID: input.receipt, Amount: toDarajaAmount(input.amount), ReceiverParty: c.config.shortcode, RecieverIdentifierType: "11", ResultURL: this.deps.callbackUrl("reversal_result"), QueueTimeOutURL: this.deps.callbackUrl("reversal_timeout"), Remarks: "Refund", Occasion: input.pspReference.slice(0, 20), OriginatorConversationID: input.idempotencyKey };
    try {
      const r = await c.post("/mpesa/reversal/v1/request", body, { operation: "reversal", idempotencyKey: input.idempotencyKey, summary: { receipt: input.receipt, amount_minor: input.amount.amount.toString() }, objectId: (x) => x.ConversationID as string, sandboxFault: input.sandboxFault });
      return { pspRefundId: String(r.ConversationID), status: "pending", amount: input.amount };
    } catch (err) {
      throw toPspError(err);
    }
  }

  /** B2C to a phone. OriginatorConversationID is our idempotency key: Daraja dedupes on it. */
  async createPayout(input: PayoutInput): Promise<PayoutResult> {
    const { conversationId } = await this.sendB2cPayment({ amount: input.amount, phone: input.destination, originatorConversationId: input.idempotencyKey, reference: input.reference, sandboxFault: input.sandboxFault });
    return { pspPayoutId: conversationId, status: "pending", amount: input.amount };
  }

  /**
   * Daraja B2C for seller payouts (server/payouts/execution.ts). Every call leaves a psp_attempts row whose
   * idempotency key is the OriginatorConversationID: `b2c.payment_request` (the payment; its ConversationID is the
   * row's psp_object_id), `b2c.transaction_status` (summary.original_conversation_id names the payment asked about),
   * `b2c.account_balance`. The outcomes arrive by callback (server/webhooks/psp-events/mpesa-b2c-result.ts).
   */
  readonly b2c: MpesaB2cOps = {
    sendPayment: (input) => this.sendB2cPayment(input),
    requestStatus: async (input) => void (await this.requestB2cStatus(input)),
    requestBalance: async (input) => void (await this.requestAccountBalance(input)),
  };

  /**
   * BusinessPayment of `amount` to `phone`. The synchronous answer (ResponseCode 0) only means accepted: the
   * outcome is the Result at the b2c_result URL (or Transaction Status). Occasion carries `reference` (the payout id).
   */
  async sendB2cPayment(input: { amount: Money; phone: string; originatorConversationId: string; reference: string; sandboxFault?: string }): Promise<{ conversationId: string }> {
    const c = this.deps.client;
    const phone = normalizePhone(input.phone);
    const body = { ...c.initiator(), OriginatorConversationID: input.originatorConversationId, CommandID: "BusinessPayment", Amount: toDarajaAmount(input.amount), PartyA: c.config.b2cShortcode, PartyB: phone, Remarks: "Payout", QueueTimeOutURL: this.deps.callbackUrl("b2c_timeout"), ResultURL: this.deps.callbackUrl("b2c_result"), Occasion: input.reference.slice(0, B2C_OCCASION_MAX) };
    const summary = { amount_minor: input.amount.amount.toString(), amount_sent_kes: body.Amount, currency: input.amount.currency, phone: maskPhone(phone), reference: input.reference };
    try {
      const r = await c.post("/mpesa/b2c/v3/paymentrequest", body, { operation: "b2c.payment_request", idempotencyKey: input.originatorConversationId, summary, objectId: (x) => x.ConversationID as string, sandboxFault: input.sandboxFault });
      if (String(r.ResponseCode ?? "0") !== "0" || typeof r.ConversationID !== "string") throw new PspError("mpesa", "invalid_request", `B2C not accepted: ${String(r.ResponseDescription ?? r.ResponseCode)}`);
      return { conversationId: r.ConversationID };
    } catch (err) {
      throw toPspError(err);
    }
  }

  /**
   * Transaction Status of the B2C sent with `originatorConversationId` (as `OriginalConversationID`); the answer
   * (Completed with ReceiptNo / Amount / FinalisedTime, Failed, Pending, or ResultCode 404 "does not exist") arrives
   * at the b2c_status URL. `idempotencyKey` is the query's own OriginatorConversationID (b2cStatusOriginatorId).
   */
  requestB2cStatus(input: { originatorConversationId: string; idempotencyKey: string; sandboxFault?: string }): Promise<{ conversationId: string }> {
    const c = this.deps.client;
    return this.transactionStatusQuery({
      transactionId: "",
      originalConversationId: input.originatorConversationId,
      partyA: c.config.b2cShortcode,
      result: "b2c_status",
      timeout: "b2c_timeout",
      remarks: "Payout status",
      occasion: "payout",
      originatorConversationId: input.idempotencyKey,
      operation: "b2c.transaction_status",
      summary: { original_conversation_id: input.originatorConversationId },
      sandboxFault: input.sandboxFault,
    });
  }

  /** Account Balance of the B2C shortcode; the Result (AccountBalance "Working Account|KES|…&Utility Account|KES|…") arrives at the b2c_balance URL. */
  async requestAccountBalance(input: { idempotencyKey: string }): Promise<{ conversationId: string }> {
    const c = this.deps.client;
    const body = { Initiator: c.config.initiatorName, SecurityCredential: c.config.securityCredential, CommandID: "AccountBalance", PartyA: c.config.b2cShortcode, IdentifierType: "4", Remarks: "Balance", QueueTimeOutURL: this.deps.callbackUrl("b2c_timeout"), ResultURL: this.deps.callbackUrl("b2c_balance"), OriginatorConversationID: input.idempotencyKey };
    try {
      const r = await c.post("/mpesa/accountbalance/v1/query", body, { operation: "b2c.account_balance", idempotencyKey: input.idempotencyKey, summary: { party_a: c.config.b2cShortcode }, objectId: (x) => x.ConversationID as string });
      return { conversationId: String(r.ConversationID) };
    } catch (err) {
      throw toPspError(err);
    }
  }

  /** Asks Daraja to confirm a receipt; the answer arrives at the status ResultURL. */
  requestTransactionStatus(input: { receipt: string; originatorConversationId: string }): Promise<{ conversationId: string }> {
    return this.transactionStatusQuery({
      transactionId: input.receipt,
      partyA: this.deps.client.config.shortcode,
      result: "status_result",
      timeout: "status_timeout",
      remarks: "Verify",
      occasion: "verify",
      originatorConversationId: input.originatorConversationId,
      operation: "transaction_status",
      summary: { receipt: input.receipt },
    });
  }

  /**
   * Asks Daraja's Transaction Status about a reversal by the OriginatorConversationID it was sent with (given as
   * `OriginalConversationID`, Daraja's alternative to TransactionID): the answer (Completed / Failed, amount,
   * ReasonType Reversal) arrives at the status ResultURL. Never a second reversal. `statusOriginatorId` makes each
   * query its own (Daraja dedupes on it).
   */
  requestReversalStatus(input: { originatorConversationId: string; statusOriginatorId: string; receipt?: string }): Promise<{ conversationId: string }> {
    return this.transactionStatusQuery({
      transactionId: "",
      originalConversationId: input.originatorConversationId,
      partyA: this.deps.client.config.shortcode,
      result: "status_result",
      timeout: "status_timeout",
      remarks: "Reversal status",
      occasion: "reversal",
      originatorConversationId: input.statusOriginatorId,
      operation: "transaction_status",
      summary: { reversal: input.originatorConversationId, ...(input.receipt ? { receipt: input.receipt } : {}) },
    });
  }

  /**
   * One Transaction Status query (requestB2cStatus, requestTransactionStatus, requestReversalStatus): of a receipt
   * (TransactionID), or of a request by the OriginatorConversationID it was sent with (`originalConversationId`,
   * TransactionID empty). `originatorConversationId` is the query's own, and its psp_attempts idempotency key.
   */
  private async transactionStatusQuery(q: {
    transactionId: string;
    originalConversationId?: string;
    partyA: string;
    result: MpesaCallbackKind;
    timeout: MpesaCallbackKind;
    remarks: string;
    occasion: string;
    originatorConversationId: string;
    operation: string;
    summary: Record<string, unknown>;
    sandboxFault?: string;
  }): Promise<{ conversationId: string }> {
    const c = this.deps.client;
    const body = {
      Initiator: c.config.initiatorName,
      SecurityCredential: c.config.securityCredential,
      CommandID: "TransactionStatusQuery",
      TransactionID: q.transactionId,
      ...(q.originalConversationId !== undefined ? { OriginalConversationID: q.originalConversationId } : {}),
      PartyA: q.partyA,
      IdentifierType: "4",
      ResultURL: this.deps.callbackUrl(q.result),
      QueueTimeOutURL: this.deps.callbackUrl(q.timeout),
      Remarks: q.remarks,
      Occasion: q.occasion,
      OriginatorConversationID: q.originatorConversationId,
    };
    try {
      const r = await c.post("/mpesa/transactionstatus/v1/query", body, { operation: q.operation, idempotencyKey: q.originatorConversationId, summary: q.summary, objectId: (x) => x.ConversationID as string, sandboxFault: q.sandboxFault });
      return { conversationId: String(r.ConversationID) };
    } catch (err) {
      throw toPspError(err);
    }
  }

  async listSettlement(input: { since?: Date; cursor?: string; limit?: number }): Promise<SettlementPage> {
    if (!this.deps.statementCsv) throw new PspError("mpesa", "invalid_request", "no M-Pesa statement source configured (Daraja has no statement API)");
    const rows = parseMpesaStatement(await this.deps.statementCsv()).filter((r) => !input.since || r.createdAt >= input.since);
    return { rows };
  }
}

/**
 * Org statement CSV (EAT times, shillings) -> settlement rows. Fees are not itemized on it. A Reversed line (the
 * sandbox writes it after the receipt's Completed line, withdrawing what was reversed) is a refund; a Completed
 * Withdrawn line a payout (B2C). Amounts are magnitudes, as before.
 */
export function parseMpesaStatement(csv: string): SettlementRow[] {
  const records = parse(csv, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  const zero = fromDarajaAmount("0")!;
  return records.map((r) => {
    const paidIn = (r["Paid In"] ?? "").trim();
    const withdrawn = (r["Withdrawn"] ?? "").trim();
    const amount = fromDarajaAmount((paidIn || withdrawn || "0").replace(/^-/, "").replace(/,/g, "")) ?? zero;
    const when = new Date(`${(r["Completion Time"] ?? "").replace(" ", "T")}+03:00`);
    const type = r["Transaction Status"] === "Reversed" ? "refund" : !paidIn && withdrawn ? "payout" : "charge";
    return { pspTransactionId: r["Receipt No."] ?? r["Receipt"] ?? "", type, gross: amount, fee: zero, net: amount, sourceId: r["Linked Transaction ID"] ?? "", createdAt: when };
  });
}
