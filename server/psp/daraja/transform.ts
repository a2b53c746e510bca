// Daraja wire shapes <-> our types. Pure functions, covered by fixture tests.
// Daraja quirks handled here: EAT timestamps, whole-shilling amounts, callback items read by Name,
// ResultCode a number in callbacks but a string in STK query answers.
import { createHash } from "node:crypto";
import { money, type Money } from "@/server/money";
import { PspError } from "../errors";
import type { ParsedWebhook, PaymentStatus } from "../types";

const EAT_OFFSET_MS = 3 * 3600_000;

/** YYYYMMDDHHmmss in Nairobi time (UTC+3, no DST). UTC here gives "400.002.02 Invalid Timestamp". */
export function eatTimestamp(at: Date): string {
  return new Date(at.getTime() + EAT_OFFSET_MS).toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

export function stkPassword(shortcode: string, passkey: string, timestamp: string): string {
  return Buffer.from(`${shortcode}${passkey}${timestamp}`).toString("base64");
}

/** Daraja's cap on one transaction (STK push, B2C, reversal), in whole shillings. */
export const MPESA_MAX_TRANSACTION_KES = 250_000;
export const MPESA_MAX_TRANSACTION_MINOR = BigInt(MPESA_MAX_TRANSACTION_KES) * 100n;

/** Why M-Pesa cannot move this amount in one transaction, or null when it can. */
export function mpesaAmountProblem(m: Money): string | null {
  if (m.currency !== "KES") return `M-Pesa takes KES only, not ${m.currency}`;
  if (m.amount <= 0n || m.amount % 100n !== 0n) return `M-Pesa takes whole shillings (got ${m.amount} cents)`;
  if (m.amount > MPESA_MAX_TRANSACTION_MINOR) return `M-Pesa takes at most ${MPESA_MAX_TRANSACTION_KES} KES per transaction (got ${m.amount / 100n} KES)`;
  return null;
}

/**
 * M-Pesa moves whole shillings (KES minor units a multiple of 100), at most MPESA_MAX_TRANSACTION_KES. The wire
 * amount is a JSON number: it is checked to be a safe integer equal to the bigint, never a rounded one.
 */
export function toDarajaAmount(m: Money): number {
  const problem = mpesaAmountProblem(m);
  if (problem) throw new PspError("mpesa", "invalid_request", problem);
  const shillings = Number(m.amount / 100n);
  if (!Number.isSafeInteger(shillings) || BigInt(shillings) * 100n !== m.amount) throw new PspError("mpesa", "invalid_request", `M-Pesa amount ${m.amount} cents is not exactly representable`);
  return shillings;
}

/**
 * Callback amounts arrive as 1, 1.0 or "1.00" shillings. A JSON number past Number.MAX_SAFE_INTEGER was already
 * rounded by JSON.parse, so it is refused (undefined), never read as some nearby amount.
 */
export function fromDarajaAmount(value: unknown): Money | undefined {
  if (typeof value === "number" && !(Number.isFinite(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER)) return undefined;
  const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(String(value ?? ""));
  if (!m) return undefined;
  return money(BigInt(m[1]!) * 100n + BigInt((m[2] ?? "0").padEnd(2, "0")), "KES");
}

/**
 * The amount an STK push put on the wire, from our psp_attempts summary of it: `amount_sent_kes` (the exact
 * `Amount` sent). Pushes recorded before that field existed sent `Number(amount_minor / 100)`, exact only
 * when the quotient is a safe integer: otherwise the wire amount is unknown (undefined), never guessed.
 */
export function pushedAmount(summary: Record<string, unknown> | undefined): Money | undefined {
  if (!summary) return undefined;
  const sent = summary.amount_sent_kes;
  if (sent !== undefined) return typeof sent === "number" && Number.isSafeInteger(sent) && sent > 0 ? money(BigInt(sent) * 100n, "KES") : undefined;
  const minor = typeof summary.amount_minor === "string" && /^\d{1,19}$/.test(summary.amount_minor) ? BigInt(summary.amount_minor) : undefined;
  if (summary.currency !== "KES" || minor === undefined || minor <= 0n || minor % 100n !== 0n || minor / 100n > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return money(minor, "KES");
}

/** "254712345678 - Jane Doe" (a Daraja party field) -> "254712345678"; undefined when it names no phone. */
export function partyPhone(value: unknown): string | undefined {
  const id = /^\s*(\S+)/.exec(String(value ?? ""))?.[1];
  return id && /^\+?[\d*]{9,}$/.test(id) ? id.replace(/^\+/, "") : undefined;
}

/** 07XXXXXXXX, +2547XXXXXXXX, 2547XXXXXXXX -> 2547XXXXXXXX. */
export function normalizePhone(phone: string): string {
  const digits = phone.replace(/[^\d]/g, "");
  const national = digits.startsWith("254") ? digits.slice(3) : digits.replace(/^0/, "");
  if (!/^[17]\d{8}$/.test(national)) throw new PspError("mpesa", "invalid_request", "not a Kenyan mobile number");
  return `254${national}`;
}

/** Phone numbers are personal data: keep the country code and the last 3 digits in records. */
export function maskPhone(phone: string): string {
  return phone.length > 6 ? `${phone.slice(0, 3)}${"*".repeat(phone.length - 6)}${phone.slice(-3)}` : "***";
}

export interface StkCallback {
  merchantRequestId: string;
  checkoutRequestId: string;
  resultCode: number;
  resultDesc: string;
  amount?: Money;
  receipt?: string;
  transactionDate?: string;
}

export function parseStkCallback(body: unknown): StkCallback | undefined {
  const cb = (body as { Body?: { stkCallback?: Record<string, unknown> } })?.Body?.stkCallback;
  if (!cb || typeof cb.CheckoutRequestID !== "string" || cb.ResultCode === undefined) return undefined;
  const items = ((cb.CallbackMetadata as { Item?: { Name?: string; Value?: unknown }[] } | undefined)?.Item ?? []).filter((i) => i && typeof i.Name === "string");
  const item = (name: string) => items.find((i) => i.Name === name)?.Value;
  const receipt = item("MpesaReceiptNumber");
  return {
    merchantRequestId: String(cb.MerchantRequestID ?? ""),
    checkoutRequestId: cb.CheckoutRequestID,
    resultCode: Number(cb.ResultCode),
    resultDesc: String(cb.ResultDesc ?? ""),
    amount: fromDarajaAmount(item("Amount")),
    receipt: typeof receipt === "string" ? receipt : undefined,
    transactionDate: item("TransactionDate") === undefined ? undefined : String(item("TransactionDate")),
  };
}

export interface DarajaResult {
  originatorConversationId: string;
  conversationId: string;
  /** NaN for Daraja's lettered codes (reversal R000001, R000002): read `code` for those. */
  resultCode: number;
  /** ResultCode as sent, as a string ("0", "2001", "R000002"). */
  code: string;
  resultDesc: string;
  transactionId: string;
  params: Record<string, unknown>;
}

export function parseResult(body: unknown): DarajaResult | undefined {
  const r = (body as { Result?: Record<string, unknown> })?.Result;
  if (!r || typeof r.ConversationID !== "string" || r.ResultCode === undefined) return undefined;
  const list = (r.ResultParameters as { ResultParameter?: { Key?: string; Value?: unknown }[] | { Key?: string; Value?: unknown } } | undefined)?.ResultParameter;
  const entries = Array.isArray(list) ? list : list ? [list] : [];
  const params: Record<string, unknown> = {};
  for (const p of entries) if (typeof p?.Key === "string") params[p.Key] = p.Value;
  return { originatorConversationId: String(r.OriginatorConversationID ?? ""), conversationId: r.ConversationID, resultCode: Number(r.ResultCode), code: String(r.ResultCode), resultDesc: String(r.ResultDesc ?? ""), transactionId: String(r.TransactionID ?? ""), params };
}

/**
 * One secret callback URL per kind. B2C (payouts): `b2c_result` (the BusinessPayment Result), `b2c_timeout` (its
 * QueueTimeOutURL, also for B2C status and balance queries), `b2c_status` (Transaction Status about a B2C, kept apart
 * from `status_result` so the STK/reversal verifier never sees it), `b2c_balance` (Account Balance Result).
 */
export const MPESA_CALLBACK_KINDS = ["stk", "b2c_result", "b2c_timeout", "status_result", "status_timeout", "reversal_result", "reversal_timeout", "b2c_status", "b2c_balance"] as const;
export type MpesaCallbackKind = (typeof MPESA_CALLBACK_KINDS)[number];

const bodyDigest = (raw: string) => createHash("sha256").update(raw).digest("hex").slice(0, 16);

/**
 * Daraja callbacks have no event id. A repeat of the same callback (same bytes) dedupes; a different body
 * for the same transaction (e.g. a forged one) gets its own row, so a spoof stored first cannot shadow
 * the genuine callback. Trust comes from verify-by-fetch in processing, never from the body.
 */
export function parseMpesaWebhook(kind: MpesaCallbackKind, rawBody: string): ParsedWebhook | undefined {
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    return undefined;
  }
  const payload = body as Record<string, unknown>;
  if (kind === "stk") {
    const cb = parseStkCallback(body);
    if (!cb) return undefined;
    return { psp: "mpesa", eventId: `stk:${cb.checkoutRequestId}:${bodyDigest(rawBody)}`, type: "stk.callback", objectId: cb.checkoutRequestId, payload };
  }
  const r = parseResult(body);
  if (!r) return undefined;
  return { psp: "mpesa", eventId: `${kind}:${r.conversationId}:${bodyDigest(rawBody)}`, type: kind.replace("_", "."), objectId: r.originatorConversationId, payload };
}

export const RESULT_SUCCESS = 0;
/** Daraja's "still processing" answer to an STK query. */
export const STK_PENDING_ERROR = "500.001.1001";

export function stkStatusOf(resultCode: number): PaymentStatus {
  return resultCode === RESULT_SUCCESS ? "succeeded" : resultCode === 1032 ? "canceled" : "failed";
}

export const RESULT_DESCRIPTIONS: Record<number, string> = {
  0: "success",
  1: "insufficient_funds",
  1032: "cancelled_by_user",
  1037: "timeout_unreachable",
  2001: "wrong_pin",
};

/**
 * OriginatorConversationID of a Transaction Status query about refund `refundId`'s reversal:
 * `revstatus:<refundId>:<tag>`, tag `cb<stored event id>` (verifying a reversal result callback) or `t<check no>`
 * (the refund execution's check after a timeout). Each query its own (Daraja dedupes on the id).
 */
export const REVERSAL_STATUS_PREFIX = "revstatus:";

export function reversalStatusOriginatorId(refundId: string, tag: string): string {
  return `${REVERSAL_STATUS_PREFIX}${refundId}:${tag}`;
}

export function parseReversalStatusOriginatorId(id: string): { refundId: string; tag: string } | undefined {
  const m = /^revstatus:([^:]+):([^:]+)$/.exec(id);
  return m ? { refundId: m[1]!, tag: m[2]! } : undefined;
}

/**
 * OriginatorConversationID of a Transaction Status query about the B2C payment sent with `payoutKey` (our payout's
 * pspKey, the B2C's OriginatorConversationID): `b2cstatus:<payoutKey>:<tag>`, each query its own (Daraja dedupes on
 * it). The B2C handler does not rely on the shape: it reads which B2C a query was about from our psp_attempts record.
 */
const B2C_STATUS_PREFIX = "b2cstatus:";

export function b2cStatusOriginatorId(payoutKey: string, tag: string): string {
  return `${B2C_STATUS_PREFIX}${payoutKey}:${tag}`;
}

/**
 * A B2C Result's TransactionCompletedDateTime ("19.12.2019 11:45:50") or a Transaction Status FinalisedTime
 * (20191219114550), both Nairobi time -> the instant; undefined when it is neither.
 */
export function parseDarajaDateTime(value: unknown): Date | undefined {
  const text = String(value ?? "").trim();
  const m = /^(\d{2})\.(\d{2})\.(\d{4}) (\d{2}):(\d{2}):(\d{2})$/.exec(text) ?? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d] = text.includes(".") ? [m[3]!, m[2]!, m[1]!] : [m[1]!, m[2]!, m[3]!];
  const local = new Date(Date.UTC(+y, +mo - 1, +d, +m[4]!, +m[5]!, +m[6]!));
  // Date.UTC rolls 31.02 over into March: such a date is not one.
  if (local.getUTCFullYear() !== +y || local.getUTCMonth() !== +mo - 1 || local.getUTCDate() !== +d || +m[4]! > 23) return undefined;
  return new Date(local.getTime() - EAT_OFFSET_MS);
}

/** One account of an Account Balance Result ("Working Account|KES|700000.00|700000.00|0.00|0.00&…"). */
export interface DarajaAccountBalance {
  account: string;
  currency: string;
  /** Available, minor units. */
  available: Money;
}

export function parseAccountBalance(value: unknown): DarajaAccountBalance[] {
  const out: DarajaAccountBalance[] = [];
  for (const part of String(value ?? "").split("&")) {
    const [account, currency, available] = part.split("|");
    const amount = /^-?\d+(\.\d{1,2})?$/.test(available ?? "") ? available! : undefined;
    if (!account || currency !== "KES" || amount === undefined) continue;
    const neg = amount.startsWith("-");
    const m = fromDarajaAmount(neg ? amount.slice(1) : amount);
    if (m) out.push({ account, currency, available: neg ? money(-m.amount, "KES") : m });
  }
  return out;
}
