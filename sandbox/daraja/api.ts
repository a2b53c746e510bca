// The Daraja (M-Pesa) side of the sandbox: OAuth, STK push + callback, STK query, B2C + result,
// transaction status + result, reversal. Phone numbers choose the outcome (last digits), like the
// fault table in docs/sandbox.md. Callbacks are unsigned JSON, exactly as Daraja sends them.
import { randomBytes } from "node:crypto";
import type { RequestFault } from "../faults";
import { DarajaApiError, type Route, type SandboxRequest, type SandboxResponse } from "../http";
import { formatMinor } from "../minor-units";
import { Persistence } from "../persistence";
import type { WebhookDispatcher } from "../webhooks";

export const TOKEN_TTL_S = 3599;
/** How far a request Timestamp may drift from Nairobi time before "Invalid Timestamp". */
export const TIMESTAMP_TOLERANCE_MS = 10 * 60_000;
const EAT_OFFSET_MS = 3 * 3600_000;

export interface DarajaOptions {
  dispatcher: WebhookDispatcher;
  consumerKey: string;
  consumerSecret: string;
  shortcode: string;
  passkey: string;
  b2cShortcode: string;
  /** Time the "customer" takes at the phone before the callback (and before STK query stops saying pending). */
  stkDelayMs: number;
  /** Delay before B2C / transaction-status / reversal results are posted. */
  resultDelayMs: number;
  later: (ms: number, fn: () => void) => void;
  clockOffsetS: () => number;
  /** Where tokens, STK pushes and command answers are kept (default: memory only). */
  persistence?: Persistence;
}

export interface StkRecord {
  merchantRequestId: string;
  checkoutRequestId: string;
  shortcode: string;
  amount: number;
  phone: string;
  status: "pending" | "done";
  resultCode: number;
  resultDesc: string;
  receipt?: string;
  transactionDate?: number;
  /** Fully reversed (nothing left to reverse). */
  reversed: boolean;
  /** Shillings reversed so far (partial reversals add up; absent on records stored before partial reversals). */
  reversedAmount?: number;
}

/** One reversal request, by its OriginatorConversationID (what Transaction Status answers about). */
export interface ReversalRecord {
  originatorConversationId: string;
  conversationId: string;
  /** The receipt asked to be reversed (TransactionID of the request). */
  receipt: string;
  amount: number;
  status: "pending" | "completed" | "failed";
  resultCode?: number | string;
  resultDesc?: string;
  /** The reversal's own M-Pesa transaction id, once processed. */
  transactionId?: string;
  completedAt?: string;
}

/**
 * One B2C payment request as Daraja got it (kept per ConversationID: a request repeated with the same
 * OriginatorConversationID is answered from the first and counted in `duplicates`, never paid twice). Listed by
 * `b2cRequests()` / `GET /_sandbox/daraja/b2c`: the crash test counts these, not our own rows.
 */
export interface B2cRecord {
  originatorConversationId: string;
  conversationId: string;
  commandId: string;
  partyA: string;
  partyB: string;
  /** Whole shillings, as sent. */
  amount: number;
  occasion: string;
  remarks: string;
  /** pending: accepted, not yet processed; not_processed: accepted and lost (a fault), Daraja has no transaction. */
  status: "pending" | "completed" | "failed" | "not_processed";
  resultCode?: number;
  resultDesc?: string;
  /** The M-Pesa transaction id (the receipt on success). */
  transactionId?: string;
  receipt?: string;
  /** TransactionCompletedDateTime as posted ("DD.MM.YYYY HH:mm:ss", Nairobi time). */
  completedAt?: string;
  /** Sandbox-clock ms when processed: completedAt, and Transaction Status's FinalisedTime (absent on records stored before it). */
  completedAtMs?: number;
  /** Whether a Result (or QueueTimeout) callback was posted. */
  resultPosted: boolean;
  /** Sandbox-clock ms when accepted. */
  requestedAt: number;
  /** Repeats of this request (same OriginatorConversationID) answered from the first. */
  duplicates: number;
}

/** The B2C shortcode's accounts, in cents (the Account Balance query and B2C Results report them). */
export interface B2cBalances {
  working: number;
  utility: number;
  chargesPaid: number;
}

/** The utility account a fresh sandbox starts with: 10,000,000 KES, so payouts never run dry unless a test wants it. */
export const B2C_START_UTILITY_CENTS = 10_000_000 * 100;

/** B2C ResultCode 1: the utility account cannot cover the payment (also forced by a PartyB ending in 0001). */
export const B2C_INSUFFICIENT = { code: 1, desc: "The balance is insufficient for the transaction." };

/** B2C result codes by `PartyB` suffix (docs/sandbox.md); any other phone is paid. */
export const B2C_PHONE_OUTCOMES: { suffix: string; code: number; desc: string }[] = [
  { suffix: "2001", code: 2001, desc: "The initiator information is invalid." },
  { suffix: "2040", code: 2040, desc: "Credit Party customer type (Unregistered or Registered Customer) can't be supported by the service." },
  { suffix: "0001", ...B2C_INSUFFICIENT },
  { suffix: "0008", code: 8, desc: "The receiver's account would exceed its maximum balance." },
  { suffix: "0017", code: 17, desc: "Internal failure: the payment was not made." },
];

/** Daraja's reversal result codes the sandbox answers with (a success is ResultCode 0). */
export const REVERSAL_FAILURES: Record<string, { code: number | string; desc: string }> = {
  R000001: { code: "R000001", desc: "The transaction has already been reversed." },
  R000002: { code: "R000002", desc: "The OriginalTransactionID is invalid." },
  "2001": { code: 2001, desc: "The initiator information is invalid." },
  "11": { code: 11, desc: "The DebitParty is in an invalid state." },
};

export const PHONE_OUTCOMES: { suffix: string; code: number; desc: string; callback: boolean }[] = [
  { suffix: "1032", code: 1032, desc: "Request cancelled by user", callback: true },
  { suffix: "1037", code: 1037, desc: "DS timeout user cannot be reached", callback: false },
  { suffix: "2001", code: 2001, desc: "The initiator information is invalid.", callback: true },
  { suffix: "0001", code: 1, desc: "The balance is insufficient for the transaction.", callback: true },
];
const SUCCESS = { code: 0, desc: "The service request is processed successfully.", callback: true };
/** Sandbox convention (not a documented Daraja code): a receipt or transaction we do not know. */
export const UNKNOWN_TRANSACTION_CODE = 404;

export function outcomeForPhone(phone: string): { code: number; desc: string; callback: boolean } {
  return PHONE_OUTCOMES.find((o) => phone.endsWith(o.suffix)) ?? SUCCESS;
}

/** YYYYMMDDHHmmss in Nairobi time (EAT, UTC+3, no DST). */
export function eatTimestamp(ms: number): string {
  return new Date(ms + EAT_OFFSET_MS).toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

function parseEatTimestamp(ts: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(ts);
  if (!m) return undefined;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) - EAT_OFFSET_MS;
}

/** "DD.MM.YYYY HH:mm:ss" in Nairobi time, as B2C Results carry TransactionCompletedDateTime. */
function b2cDateTime(ms: number): string {
  const t = eatTimestamp(ms);
  return `${t.slice(6, 8)}.${t.slice(4, 6)}.${t.slice(0, 4)} ${t.slice(8, 10)}:${t.slice(10, 12)}:${t.slice(12, 14)}`;
}

/** "DD.MM.YYYY HH:mm:ss" -> "YYYYMMDDHHmmss" (both Nairobi time): only for a B2C record stored before `completedAtMs`. */
function eatFromB2c(text: string): string {
  const m = /^(\d{2})\.(\d{2})\.(\d{4}) (\d{2}):(\d{2}):(\d{2})$/.exec(text);
  return m ? `${m[3]}${m[2]}${m[1]}${m[4]}${m[5]}${m[6]}` : "";
}

const rand = (n: number) => randomBytes(n).toString("hex").toUpperCase();
const receipt = () => `S${rand(5).slice(0, 9)}`;

export interface DarajaApi {
  routes: Route[];
  stk: Map<string, StkRecord>;
  reversals: Map<string, ReversalRecord>;
  /** Every B2C request, by ConversationID. */
  b2c: Map<string, B2cRecord>;
  b2cBalances: () => B2cBalances;
  /** Sets the B2C accounts (cents); omitted ones are kept. */
  setB2cBalances: (b: Partial<B2cBalances>) => B2cBalances;
  expireTokens: () => void;
}

export function createDarajaApi(opts: DarajaOptions): DarajaApi {
  const p = opts.persistence ?? new Persistence({});
  const tokens = p.map<number>("daraja_token");
  const stk = p.map<StkRecord>("daraja_stk");
  const byReceipt = new Map<string, StkRecord>();
  for (const rec of stk.values()) if (rec.receipt) byReceipt.set(rec.receipt, rec);
  const conversations = p.map<SandboxResponse>("daraja_conversation");
  const reversals = p.map<ReversalRecord>("daraja_reversal");
  const b2cRequests = p.map<B2cRecord>("daraja_b2c");
  /** The newest B2C request per OriginatorConversationID (what dedupe and Transaction Status read). */
  const b2cByOriginator = new Map<string, B2cRecord>();
  for (const rec of b2cRequests.values()) b2cByOriginator.set(rec.originatorConversationId, rec);
  const meta = p.map<B2cBalances>("daraja_b2c_balances");
  const balances = (): B2cBalances => meta.peek("b2c") ?? { working: 0, utility: B2C_START_UTILITY_CENTS, chargesPaid: 0 };
  const nowMs = () => Date.now() + opts.clockOffsetS() * 1000;
  const ok = (body: unknown): SandboxResponse => ({ status: 200, body });

  function requireToken(req: SandboxRequest): void {
    const auth = req.headers.authorization ?? "";
    const exp = tokens.get(auth.replace(/^Bearer /, ""));
    if (!auth.startsWith("Bearer ") || exp === undefined || exp < nowMs()) throw new DarajaApiError(401, "404.001.03", "Invalid Access Token");
  }

  function checkPassword(body: Record<string, unknown>): void {
    const ts = String(body.Timestamp ?? "");
    const at = parseEatTimestamp(ts);
    if (at === undefined || Math.abs(at - nowMs()) > TIMESTAMP_TOLERANCE_MS) throw new DarajaApiError(400, "400.002.02", "Bad Request - Invalid Timestamp");
    if (String(body.BusinessShortCode) !== opts.shortcode) throw new DarajaApiError(400, "400.002.02", "Bad Request - Invalid BusinessShortCode");
    const expected = Buffer.from(`${opts.shortcode}${opts.passkey}${ts}`).toString("base64");
    if (body.Password !== expected) throw new DarajaApiError(400, "400.002.02", "Bad Request - Invalid Password");
  }

  function stkPush(req: SandboxRequest): SandboxResponse {
    requireToken(req);
    const b = req.body;
    checkPassword(b);
    const amount = Number(b.Amount);
    if (!Number.isInteger(amount) || amount < 1) throw new DarajaApiError(400, "400.002.02", "Bad Request - Invalid Amount");
    const phone = String(b.PhoneNumber ?? "");
    if (!/^2547\d{8}$|^2541\d{8}$/.test(phone)) throw new DarajaApiError(400, "400.002.02", "Bad Request - Invalid PhoneNumber");
    const callbackUrl = String(b.CallBackURL ?? "");
    if (!/^https?:\/\//.test(callbackUrl)) throw new DarajaApiError(400, "400.002.02", "Bad Request - Invalid CallBackURL");
    const rec: StkRecord = { merchantRequestId: `${rand(2)}-${rand(4)}-1`, checkoutRequestId: `ws_CO_${eatTimestamp(nowMs())}${rand(4)}`, shortcode: opts.shortcode, amount, phone, status: "pending", resultCode: -1, resultDesc: "", reversed: false };
    stk.set(rec.checkoutRequestId, rec);
    const first = req.faults.webhook.some((f) => f.kind === "callback_first");
    const finish = () => completeStk(rec, callbackUrl, req);
    if (first) finish();
    else opts.later(opts.stkDelayMs, finish);
    return ok({ MerchantRequestID: rec.merchantRequestId, CheckoutRequestID: rec.checkoutRequestId, ResponseCode: "0", ResponseDescription: "Success. Request accepted for processing", CustomerMessage: "Success. Request accepted for processing" });
  }

  function completeStk(rec: StkRecord, callbackUrl: string, req: SandboxRequest): void {
    const outcome = outcomeForPhone(rec.phone);
    Object.assign(rec, { status: "done", resultCode: outcome.code, resultDesc: outcome.desc });
    if (outcome.code === 0) {
      rec.receipt = receipt();
      rec.transactionDate = Number(eatTimestamp(nowMs()));
      byReceipt.set(rec.receipt, rec);
    }
    stk.set(rec.checkoutRequestId, rec); // changed through the timer's reference: mark it for persistence
    if (!outcome.callback) return;
    const stkCallback: Record<string, unknown> = { MerchantRequestID: rec.merchantRequestId, CheckoutRequestID: rec.checkoutRequestId, ResultCode: outcome.code, ResultDesc: outcome.desc };
    if (outcome.code === 0) {
      stkCallback.CallbackMetadata = { Item: [{ Name: "Amount", Value: rec.amount }, { Name: "MpesaReceiptNumber", Value: rec.receipt }, { Name: "Balance" }, { Name: "TransactionDate", Value: rec.transactionDate }, { Name: "PhoneNumber", Value: Number(rec.phone) }] };
    }
    opts.dispatcher.darajaCallback(callbackUrl, rec.checkoutRequestId, "stk_callback", { Body: { stkCallback } }, req.faults.webhook);
  }

  function stkQuery(req: SandboxRequest): SandboxResponse {
    requireToken(req);
    checkPassword(req.body);
    const rec = stk.get(String(req.body.CheckoutRequestID ?? ""));
    if (!rec) throw new DarajaApiError(400, "400.002.02", "Bad Request - Invalid CheckoutRequestID");
    if (rec.status === "pending") throw new DarajaApiError(500, "500.001.1001", "The transaction is being processed");
    return ok({ ResponseCode: "0", ResponseDescription: "The service request has been accepted successsfully", MerchantRequestID: rec.merchantRequestId, CheckoutRequestID: rec.checkoutRequestId, ResultCode: String(rec.resultCode), ResultDesc: rec.resultDesc });
  }

  /**
   * B2C, transaction status and reversal share the accept-then-post-result shape. `result` runs when the result is
   * due and returns it, or null to post nothing (a lost result). Hooks: `validated` runs for a request that passed
   * the token and required-field checks, before the dedupe (false: forget the first answer to its
   * OriginatorConversationID, so this one is processed anew); `accepted` runs once, when a new request is accepted.
   */
  function asyncCommand(req: SandboxRequest, required: string[], result: (conversationId: string) => Record<string, unknown> | null, hooks: { validated?: (originator: string) => boolean; accepted?: (originator: string, conversationId: string) => void } = {}): SandboxResponse {
    requireToken(req);
    const b = req.body;
    for (const f of required) if (b[f] === undefined || b[f] === "") throw new DarajaApiError(400, "400.002.02", `Bad Request - Invalid ${f}`);
    const originator = String(b.OriginatorConversationID ?? `${rand(4)}-${rand(4)}-1`);
    if (hooks.validated?.(originator) === false) conversations.delete(originator);
    // Daraja dedupes on OriginatorConversationID: a retry gets the first answer and no second payment.
    const seen = conversations.get(originator);
    if (seen) return seen;
    const conversationId = `AG_${eatTimestamp(nowMs()).slice(0, 8)}_${rand(10).toLowerCase()}`;
    const reply = ok({ ConversationID: conversationId, OriginatorConversationID: originator, ResponseCode: "0", ResponseDescription: "Accept the service request successfully." });
    conversations.set(originator, reply);
    hooks.accepted?.(originator, conversationId);
    const resultUrl = String(b.ResultURL);
    opts.later(opts.resultDelayMs, () => {
      const outcome = result(conversationId);
      if (!outcome) return;
      const body = { Result: { ResultType: 0, OriginatorConversationID: originator, ConversationID: conversationId, ...outcome } };
      opts.dispatcher.darajaCallback(resultUrl, conversationId, String(b.CommandID), body, req.faults.webhook);
    });
    return reply;
  }

  const params = (kv: Record<string, unknown>) => ({ ResultParameters: { ResultParameter: Object.entries(kv).map(([Key, Value]) => ({ Key, Value })) } });
  const completed = () => new Date(nowMs() + EAT_OFFSET_MS).toISOString().replace("T", " ").slice(0, 19);

  const kesText = (cents: number) => formatMinor(cents, "kes");

  /**
   * B2C (v3 paymentrequest). Accepted at once; processed after `resultDelayMs`: the outcome by `PartyB` suffix
   * (B2C_PHONE_OUTCOMES), else ResultCode 1 when the utility account cannot cover it, else paid (the utility
   * account goes down). Deduplicated by OriginatorConversationID while Daraja has the transaction (pending, paid or
   * failed); a request Daraja lost before processing it (`not_processed`) is processed anew when sent again.
   */
  function b2c(req: SandboxRequest): SandboxResponse {
    const required = ["InitiatorName", "SecurityCredential", "CommandID", "Amount", "PartyA", "PartyB", "ResultURL", "QueueTimeOutURL"];
    if (String(req.body.PartyA) !== opts.b2cShortcode) throw new DarajaApiError(400, "400.002.02", "Bad Request - Invalid PartyA");
    const commandId = String(req.body.CommandID ?? "");
    if (commandId && !["BusinessPayment", "SalaryPayment", "PromotionPayment"].includes(commandId)) throw new DarajaApiError(400, "400.002.02", "Bad Request - Invalid CommandID");
    const amount = Number(req.body.Amount);
    if (req.body.Amount !== undefined && req.body.Amount !== "" && !(Number.isInteger(amount) && amount >= 10 && amount <= 250_000)) throw new DarajaApiError(400, "400.002.02", "Bad Request - Invalid Amount");
    const partyB = String(req.body.PartyB ?? "");
    if (partyB && !/^2547\d{8}$|^2541\d{8}$/.test(partyB)) throw new DarajaApiError(400, "400.002.02", "Bad Request - Invalid PartyB");
    const fault = req.faults.request.find((f): f is Extract<RequestFault, { kind: "mpesa_b2c" }> => f.kind === "mpesa_b2c");
    let rec: B2cRecord | undefined;
    return asyncCommand(req, required, () => (rec ? processB2c(rec, String(req.body.QueueTimeOutURL), fault, req) : null), {
      validated: (orig) => {
        const prior = b2cByOriginator.get(orig);
        if (!prior) return true;
        if (prior.status === "not_processed") return false; // lost before processing: Daraja has nothing to dedupe on
        prior.duplicates += 1;
        b2cRequests.set(prior.conversationId, prior);
        return true;
      },
      accepted: (orig, conversationId) => {
        rec = { originatorConversationId: orig, conversationId, commandId, partyA: String(req.body.PartyA), partyB, amount, occasion: String(req.body.Occasion ?? ""), remarks: String(req.body.Remarks ?? ""), status: "pending", resultPosted: false, requestedAt: nowMs(), duplicates: 0 };
        b2cRequests.set(conversationId, rec);
        b2cByOriginator.set(orig, rec);
      },
    });
  }

  /** Processes an accepted B2C when it is due; returns the Result to post (null: none, or posted elsewhere). */
  function processB2c(rec: B2cRecord, queueTimeoutUrl: string, fault: Extract<RequestFault, { kind: "mpesa_b2c" }> | undefined, req: SandboxRequest): Record<string, unknown> | null {
    if (fault?.mode === "no_result_not_done" || fault?.mode === "queue_timeout") {
      rec.status = "not_processed";
      if (fault.mode === "queue_timeout") {
        rec.resultPosted = true;
        const body = { Result: { ResultType: 1, ResultCode: 1037, ResultDesc: "The request timed out in the queue and was not processed.", OriginatorConversationID: rec.originatorConversationId, ConversationID: rec.conversationId, TransactionID: "" } };
        opts.dispatcher.darajaCallback(queueTimeoutUrl, rec.conversationId, "B2CQueueTimeout", body, req.faults.webhook);
      }
      b2cRequests.set(rec.conversationId, rec);
      return null;
    }
    const b = balances();
    const cents = rec.amount * 100;
    const phoneFailure = B2C_PHONE_OUTCOMES.find((o) => rec.partyB.endsWith(o.suffix));
    const failure = phoneFailure ?? (fault?.mode === "insufficient" || b.utility < cents ? B2C_INSUFFICIENT : undefined);
    const transactionId = receipt();
    rec.transactionId = transactionId;
    rec.completedAtMs = nowMs();
    rec.completedAt = b2cDateTime(rec.completedAtMs);
    rec.resultPosted = fault?.mode !== "no_result";
    let result: Record<string, unknown>;
    if (failure) {
      Object.assign(rec, { status: "failed", resultCode: failure.code, resultDesc: failure.desc });
      result = { ResultCode: failure.code, ResultDesc: failure.desc, TransactionID: transactionId };
    } else {
      const after = { ...b, utility: b.utility - cents };
      meta.set("b2c", after);
      Object.assign(rec, { status: "completed", resultCode: 0, resultDesc: SUCCESS.desc, receipt: transactionId });
      result = {
        ResultCode: 0,
        ResultDesc: SUCCESS.desc,
        TransactionID: transactionId,
        ...params({
          TransactionAmount: rec.amount,
          TransactionReceipt: transactionId,
          B2CRecipientIsRegisteredCustomer: "Y",
          B2CChargesPaidAccountAvailableFunds: Number(kesText(after.chargesPaid)),
          ReceiverPartyPublicName: `${rec.partyB} - Sandbox Customer`,
          TransactionCompletedDateTime: rec.completedAt,
          B2CUtilityAccountAvailableFunds: Number(kesText(after.utility)),
          B2CWorkingAccountAvailableFunds: Number(kesText(after.working)),
        }),
      };
    }
    b2cRequests.set(rec.conversationId, rec);
    return fault?.mode === "no_result" ? null : result;
  }

  /** What Transaction Status says about a B2C by its OriginatorConversationID, or undefined when it is no B2C of ours. */
  function b2cStatus(originator: string): Record<string, unknown> | undefined {
    const rec = b2cByOriginator.get(originator);
    if (!rec) return undefined;
    if (rec.status === "not_processed") return { ResultCode: UNKNOWN_TRANSACTION_CODE, ResultDesc: "The transaction does not exist.", TransactionID: "" };
    const status = rec.status === "completed" ? "Completed" : rec.status === "failed" ? "Failed" : "Pending";
    return {
      ResultCode: 0,
      ResultDesc: "The service request has been accepted successfully.",
      TransactionID: rec.transactionId ?? "",
      ...params({
        ReceiptNo: rec.receipt ?? "",
        Amount: rec.amount,
        TransactionStatus: status,
        ReasonType: "Business Payment to Customer via API",
        DebitPartyName: `${rec.partyA} - PayBridge Sandbox`,
        CreditPartyName: `${rec.partyB} - Sandbox Customer`,
        OriginatorConversationID: rec.originatorConversationId,
        ConversationID: rec.conversationId,
        FinalisedTime: rec.completedAtMs !== undefined ? Number(eatTimestamp(rec.completedAtMs)) : rec.completedAt ? Number(eatFromB2c(rec.completedAt)) : "",
      }),
    };
  }

  /** Account Balance of the B2C shortcode; the Result carries `AccountBalance` as Daraja formats it. */
  function accountBalance(req: SandboxRequest): SandboxResponse {
    const required = ["Initiator", "SecurityCredential", "CommandID", "PartyA", "IdentifierType", "ResultURL", "QueueTimeOutURL"];
    if (req.body.CommandID !== undefined && req.body.CommandID !== "AccountBalance") throw new DarajaApiError(400, "400.002.02", "Bad Request - Invalid CommandID");
    if (req.body.PartyA !== undefined && String(req.body.PartyA) !== opts.b2cShortcode && String(req.body.PartyA) !== opts.shortcode) throw new DarajaApiError(400, "400.002.02", "Bad Request - Invalid PartyA");
    return asyncCommand(req, required, () => {
      const b = balances();
      const line = (name: string, cents: number) => `${name}|KES|${kesText(cents)}|${kesText(cents)}|0.00|0.00`;
      const text = [line("Working Account", b.working), line("Float Account", 0), line("Utility Account", b.utility), line("Charges Paid Account", b.chargesPaid), line("Organization Settlement Account", 0)].join("&");
      return { ResultCode: 0, ResultDesc: SUCCESS.desc, TransactionID: receipt(), ...params({ AccountBalance: text, BOCompletedTime: Number(eatTimestamp(nowMs())) }) };
    });
  }

  /**
   * Transaction status of a receipt (TransactionID), or of a reversal by the OriginatorConversationID we sent it with
   * (OriginalConversationID, Daraja's alternative to TransactionID). Answered when the result is due, so it tells the
   * outcome as it is then.
   */
  function transactionStatus(req: SandboxRequest): SandboxResponse {
    const byConversation = req.body.OriginalConversationID !== undefined && req.body.OriginalConversationID !== "";
    const required = ["Initiator", "SecurityCredential", ...(byConversation ? [] : ["TransactionID"]), "PartyA", "ResultURL", "QueueTimeOutURL"];
    return asyncCommand(req, required, () => {
      if (byConversation && (req.body.TransactionID === undefined || req.body.TransactionID === "")) return b2cStatus(String(req.body.OriginalConversationID)) ?? reversalStatus(String(req.body.OriginalConversationID));
      const rec = byReceipt.get(String(req.body.TransactionID));
      if (!rec) return { ResultCode: UNKNOWN_TRANSACTION_CODE, ResultDesc: "The transaction receipt number does not exist.", TransactionID: String(req.body.TransactionID) };
      return { ResultCode: 0, ResultDesc: "The service request has been accepted successfully.", TransactionID: rec.receipt, ...params({ ReceiptNo: rec.receipt, Amount: rec.amount, TransactionStatus: rec.reversed ? "Reversed" : "Completed", CreditPartyName: `${rec.shortcode} - PayBridge Sandbox`, DebitPartyName: `${rec.phone} - Sandbox Customer`, FinalisedTime: rec.transactionDate, ReasonType: "Pay Bill Online" }) };
    });
  }

  /** What Transaction Status says about a reversal: its outcome (Completed / Failed / Pending), or unknown (404). */
  function reversalStatus(originator: string): Record<string, unknown> {
    const rev = reversals.get(originator);
    if (!rev) return { ResultCode: UNKNOWN_TRANSACTION_CODE, ResultDesc: "The transaction does not exist.", TransactionID: "" };
    const original = byReceipt.get(rev.receipt);
    const status = rev.status === "completed" ? "Completed" : rev.status === "failed" ? "Failed" : "Pending";
    return {
      ResultCode: 0,
      ResultDesc: "The service request has been accepted successfully.",
      TransactionID: rev.transactionId ?? "",
      ...params({ ReceiptNo: rev.transactionId ?? "", Amount: rev.amount, TransactionStatus: status, ReasonType: "Reversal", OriginalTransactionID: rev.receipt, DebitPartyName: `${original?.shortcode ?? opts.shortcode} - PayBridge Sandbox`, CreditPartyName: original ? `${original.phone} - Sandbox Customer` : "", FinalisedTime: rev.completedAt ?? "" }),
    };
  }

  /**
   * Reversal (CommandID TransactionReversal) of all or part of a receipt: several partial reversals may follow each
   * other while something is left. Deduplicated by OriginatorConversationID like every command (a retry reverses
   * nothing twice). Sandbox-Fault `mpesa_reversal=fail|no_result|no_result_not_done` (docs/sandbox.md).
   */
  function reversal(req: SandboxRequest): SandboxResponse {
    const required = ["Initiator", "SecurityCredential", "CommandID", "TransactionID", "Amount", "ReceiverParty", "RecieverIdentifierType", "ResultURL", "QueueTimeOutURL"];
    if (req.body.CommandID !== undefined && req.body.CommandID !== "TransactionReversal") throw new DarajaApiError(400, "400.002.02", "Bad Request - Invalid CommandID");
    const amount = Number(req.body.Amount);
    if (req.body.Amount !== undefined && req.body.Amount !== "" && !(Number.isInteger(amount) && amount >= 1)) throw new DarajaApiError(400, "400.002.02", "Bad Request - Invalid Amount");
    const fault = req.faults.request.find((f): f is Extract<RequestFault, { kind: "mpesa_reversal" }> => f.kind === "mpesa_reversal");
    let originatorOf = "";
    return asyncCommand(
      req,
      required,
      () => {
        const rev = reversals.get(originatorOf);
        if (!rev || fault?.mode === "no_result_not_done") return null;
        const result = completeReversal(rev, String(req.body.ReceiverParty), fault);
        return fault?.mode === "no_result" ? null : result;
      },
      {
        accepted: (originator, conversationId) => {
          originatorOf = originator;
          if (fault?.mode === "no_result_not_done") return; // accepted, then lost: Daraja never processed it
          reversals.set(originator, { originatorConversationId: originator, conversationId, receipt: String(req.body.TransactionID), amount, status: "pending" });
        },
      },
    );
  }

  function completeReversal(rev: ReversalRecord, receiverParty: string, fault: Extract<RequestFault, { kind: "mpesa_reversal" }> | undefined): Record<string, unknown> {
    const rec = byReceipt.get(rev.receipt);
    const left = rec ? rec.amount - (rec.reversedAmount ?? (rec.reversed ? rec.amount : 0)) : 0;
    const failure = fault?.mode === "fail" ? REVERSAL_FAILURES[fault.code ?? "R000002"]! : !rec || receiverParty !== rec.shortcode ? REVERSAL_FAILURES.R000002! : left <= 0 ? REVERSAL_FAILURES.R000001! : rev.amount > left ? REVERSAL_FAILURES["11"]! : undefined;
    const transactionId = receipt();
    const completedAt = completed();
    if (failure) {
      Object.assign(rev, { status: "failed", resultCode: failure.code, resultDesc: failure.desc, transactionId, completedAt });
      reversals.set(rev.originatorConversationId, rev);
      return { ResultCode: failure.code, ResultDesc: failure.desc, TransactionID: transactionId };
    }
    const r = rec!;
    r.reversedAmount = r.amount - left + rev.amount;
    r.reversed = r.reversedAmount >= r.amount;
    stk.touch(r.checkoutRequestId);
    Object.assign(rev, { status: "completed", resultCode: 0, resultDesc: SUCCESS.desc, transactionId, completedAt });
    reversals.set(rev.originatorConversationId, rev);
    return { ResultCode: 0, ResultDesc: SUCCESS.desc, TransactionID: transactionId, ...params({ DebitAccountBalance: `Utility Account|KES|${(r.amount - r.reversedAmount).toFixed(2)}|0.00|0.00|0.00`, Amount: rev.amount, TransCompletedTime: completedAt, OriginalTransactionID: r.receipt, Charge: 0, CreditPartyPublicName: `${r.phone} - Sandbox Customer`, DebitPartyPublicName: `${r.shortcode} - PayBridge Sandbox` }) };
  }

  function oauth(req: SandboxRequest): SandboxResponse {
    const auth = req.headers.authorization ?? "";
    const [key, secret] = Buffer.from(auth.replace(/^Basic /, ""), "base64").toString().split(":");
    if (req.query.grant_type !== "client_credentials") throw new DarajaApiError(400, "400.008.01", "Invalid grant type passed");
    if (!auth.startsWith("Basic ") || key !== opts.consumerKey || secret !== opts.consumerSecret) throw new DarajaApiError(400, "400.008.02", "Invalid Authentication passed");
    const token = randomBytes(21).toString("base64url");
    tokens.set(token, nowMs() + TOKEN_TTL_S * 1000);
    return ok({ access_token: token, expires_in: String(TOKEN_TTL_S) });
  }

  const routes: Route[] = [
    { method: "GET", pattern: /^\/oauth\/v1\/generate$/, handle: oauth },
    { method: "POST", pattern: /^\/mpesa\/stkpush\/v1\/processrequest$/, handle: stkPush },
    { method: "POST", pattern: /^\/mpesa\/stkpushquery\/v1\/query$/, handle: stkQuery },
    { method: "POST", pattern: /^\/mpesa\/b2c\/v3\/paymentrequest$/, handle: b2c },
    { method: "POST", pattern: /^\/mpesa\/transactionstatus\/v1\/query$/, handle: transactionStatus },
    { method: "POST", pattern: /^\/mpesa\/reversal\/v1\/request$/, handle: reversal },
    { method: "POST", pattern: /^\/mpesa\/accountbalance\/v1\/query$/, handle: accountBalance },
  ];
  return {
    routes,
    stk,
    reversals,
    b2c: b2cRequests,
    b2cBalances: balances,
    setB2cBalances: (next) => {
      const b = { ...balances(), ...next };
      meta.set("b2c", b);
      return b;
    },
    expireTokens: () => tokens.clear(),
  };
}
