// What the developers page may show of an /api/v1 request or response body (api_request_log.request_body /
// response_body). Applied before the row is written, so nothing below ever reaches the table:
//   - credentials: any value under a credential key (authorization, client_secret, password, token, api_key, …)
//     and, inside any string, API keys (sk_/pk_/rk_ test|live), webhook secrets (whsec_…) and PaymentIntent
//     client secrets (…_secret_…);
//   - card data: any value under a card key (card, number, cvc, pan, exp_*) and any 13–19 digit run (spaces or
//     dashes allowed) that passes the Luhn check, wherever it sits;
//   - buyers' personal data: emails and phones masked as in stored PSP events (first letter / first and last
//     digits kept), a buyer's name masked to initials, the IP kept only as its first part.
// Bounded: depth, keys per object, array items and string lengths are capped, and a body whose redacted JSON is
// still over API_LOG_BODY_MAX_CHARS is stored as a truncated preview instead.
import { maskEmail, maskName, maskPhoneValue } from "@/server/webhooks/redact-psp-payload";
import { luhnValid as panLuhnValid } from "@/server/psp/pan-scan";

export const API_LOG_BODY_MAX_CHARS = 16 * 1024;
export const API_LOG_DEPTH_MAX = 12;
export const API_LOG_KEYS_MAX = 100;
export const API_LOG_ITEMS_MAX = 100;
export const API_LOG_STRING_MAX = 2_000;
export const REDACTED = "[redacted]";

const normalizeKey = (key: string) => key.toLowerCase().replace(/[^a-z]/g, "");

const CREDENTIAL_KEYS = new Set([
  "authorization",
  "cookie",
  "setcookie",
  "password",
  "passkey",
  "secret",
  "clientsecret",
  "token",
  "accesstoken",
  "refreshtoken",
  "apikey",
  "secretkey",
  "signingsecret",
  "webhooksecret",
  "securitycredential",
]);
const CARD_KEYS = new Set(["card", "cardnumber", "number", "cvc", "cvv", "cvctoken", "pan", "expmonth", "expyear", "paymentmethoddata", "billingdetails"]);
const NAME_CONTAINERS = new Set(["buyerinfo", "buyer", "customer", "billingdetails", "shipping"]);

const SECRET_IN_TEXT = /\b(?:sk|pk|rk)_(?:test|live)_[0-9A-Za-z]+|\bwhsec_[0-9A-Za-z_-]+|\b[A-Za-z]+_[0-9A-Za-z]+_secret_[0-9A-Za-z]+/g;
/** 13–19 digits, single spaces or dashes between them, not part of a longer digit run. */
const CARD_LIKE_IN_TEXT = /(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])/g;
const PHONE_IN_TEXT = /(?<![\d+])(?:(?:\+?254|0)[17]\d{8}|\+\d{10,15})(?!\d)/g;
const EMAIL_IN_TEXT = /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g;
// NUL and lone surrogates cannot be stored in jsonb/text.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** The Luhn check of a digit string (server/psp/pan-scan.ts, the one implementation). */
export function luhnValid(digits: string): boolean {
  return digits.length > 0 && panLuhnValid(digits);
}

/** Only credentials removed (and what cannot be stored): for the path and the Idempotency-Key, filtered on exactly. */
export function redactSecrets(text: string): string {
  return text.replace(UNSTORABLE, "\ufffd").replace(SECRET_IN_TEXT, REDACTED);
}

/**
 * A string as it may be stored: secrets and card-like numbers removed, emails and phones masked, bounded.
 * `verbatimDigits`: the value of an id key (payment_order_id, …), whose digit runs are the merchant's own ids, not
 * card numbers or phones (the API takes neither in an id).
 */
export function redactText(text: string, verbatimDigits = false): string {
  // Redacted first, then cut: a card number across the cut would otherwise keep its first digits (too few to match).
  // (The window keeps the work bounded: 64 characters more than is kept covers any card number across the cut.)
  const safe = redactSecrets(text.length > API_LOG_STRING_MAX + 64 ? text.slice(0, API_LOG_STRING_MAX + 64) : text).replace(EMAIL_IN_TEXT, (e) => maskEmail(e));
  const clean = verbatimDigits ? safe : safe.replace(CARD_LIKE_IN_TEXT, (m) => (luhnValid(m.replace(/\D/g, "")) ? "[card number redacted]" : m)).replace(PHONE_IN_TEXT, (p) => maskPhoneValue(p));
  // A cut between the halves of a surrogate pair would leave a lone half, which Postgres refuses in jsonb.
  return clean.length > API_LOG_STRING_MAX ? `${clean.slice(0, API_LOG_STRING_MAX).replace(UNSTORABLE, "\ufffd")}…[truncated]` : clean;
}

/** Keys naming our or the merchant's identifiers (payment_order_id, checkout_id, request_id). */
const isIdKey = (key: string) => /(?:^|_)id$/i.test(key) || /[a-z]Id$/.test(key);

function maskIp(value: string): string {
  const v4 = /^(\d{1,3})\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.exec(value);
  if (v4) return `${v4[1]}.***`;
  const head = value.split(":")[0];
  return head ? `${head}:***` : "***";
}

function maskForKey(key: string, value: unknown, parentKey: string): { masked: unknown } | undefined {
  const k = normalizeKey(key);
  if (CREDENTIAL_KEYS.has(k) || k.endsWith("secret") || k.endsWith("apikey") || k.endsWith("token")) return { masked: REDACTED };
  if (CARD_KEYS.has(k)) return { masked: REDACTED };
  if (value === null || value === undefined) return undefined;
  if (typeof value !== "string" && typeof value !== "number") return undefined;
  if (k.endsWith("email")) return { masked: maskEmail(value) };
  if (k.endsWith("phone") || k === "msisdn" || k === "phonenumber") return { masked: maskPhoneValue(value) };
  if (k === "ip" || k === "ipaddress") return { masked: maskIp(String(value)) };
  if (k === "name" && NAME_CONTAINERS.has(normalizeKey(parentKey))) return { masked: maskName(value) };
  return undefined;
}

function walk(value: unknown, depth: number, parentKey: string): unknown {
  if (typeof value === "string") return redactText(value, isIdKey(parentKey));
  if (typeof value === "number") {
    const text = redactText(String(value));
    return text === String(value) ? value : text;
  }
  if (typeof value === "bigint") return redactText(value.toString());
  if (value === null || typeof value !== "object") return value ?? null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (depth >= API_LOG_DEPTH_MAX) return "[too deep]";
  if (Array.isArray(value)) {
    const items = value.slice(0, API_LOG_ITEMS_MAX).map((v) => walk(v, depth + 1, parentKey));
    if (value.length > API_LOG_ITEMS_MAX) items.push(`[${value.length - API_LOG_ITEMS_MAX} more items]`);
    return items;
  }
  const out: Record<string, unknown> = {};
  const entries = Object.entries(value);
  for (const [key, v] of entries.slice(0, API_LOG_KEYS_MAX)) {
    const safeKey = redactText(key).slice(0, 100).replace(UNSTORABLE, "\ufffd");
    const mask = maskForKey(key, v, parentKey);
    out[safeKey] = mask ? mask.masked : walk(v, depth + 1, key);
  }
  if (entries.length > API_LOG_KEYS_MAX) out["[more keys]"] = entries.length - API_LOG_KEYS_MAX;
  return out;
}

/**
 * A request or response body ready for api_request_log: redacted, bounded. Text that is not JSON (a body that
 * failed to parse) is kept as a redacted string. Returns null for no body.
 */
export function redactBody(body: unknown): unknown {
  if (body === undefined || body === null) return null;
  const redacted = walk(body, 0, "");
  const text = JSON.stringify(redacted);
  if (text.length <= API_LOG_BODY_MAX_CHARS) return redacted;
  return { truncated: true, preview: text.slice(0, API_LOG_BODY_MAX_CHARS).replace(UNSTORABLE, "\ufffd") };
}
