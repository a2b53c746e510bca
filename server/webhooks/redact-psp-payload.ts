// Personal data in stored PSP payloads (psp_events.payload). Before an inbound event is stored, buyers'
// phones, names, emails and postal addresses are replaced by a masked form (a phone keeps its first 3 and
// last 3 digits, as in psp_attempts); the exact body survives only AES-256-GCM encrypted in raw_body
// (store-psp-event.ts). Processing reads ids, amounts, receipts, result codes and our own shortcode, never
// these fields, so it runs on the masked payload unchanged.
//   Daraja: CallbackMetadata Item PhoneNumber; C2B MSISDN, FirstName, MiddleName, LastName; result parameters
//   "<phone or shortcode> - <name>" (DebitPartyName, CreditPartyName, ReceiverPartyPublicName, …).
//   Stripe: name, email, phone and address under billing_details, shipping, customer_details, owner;
//   receipt_email and any other *email or *phone key; any *address (postal, ip_address); a dispute's evidence
//   and enhanced_evidence, whole (free text about the buyer: every value but file ids).
// A phone or email inside any other string is masked too: Daraja descriptions are free text.
import { maskPhone } from "@/server/psp/daraja/transform";

/** Deeper than any PSP payload we receive; anything below is dropped rather than stored unchecked. */
export const REDACT_DEPTH_MAX = 24;
export const REDACTED = "[redacted]";

/** Kenyan mobile numbers (07…, 01…, 2547…, +2541…) and any +E.164 number, not inside a longer digit run. */
const PHONE_IN_TEXT = /(?<![\d+])(?:(?:\+?254|0)[17]\d{8}|\+\d{10,15})(?!\d)/g;
const EMAIL_IN_TEXT = /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g;
/** Objects whose `name` is a person's (Stripe). */
const PERSON_CONTAINERS = new Set(["billingdetails", "shipping", "customerdetails", "customershipping", "owner", "individual"]);
const NAME_KEYS = new Set(["firstname", "middlename", "lastname", "fullname", "customername", "cardholdername"]);
const ADDRESS_KEPT_FIELDS = new Set(["country"]);

/** Keys compared without case or separators: receipt_email, PhoneNumber and MSISDN all match. */
const normalizeKey = (key: string) => key.toLowerCase().replace(/[^a-z]/g, "");
/** Identifiers and amounts processing reads (CheckoutRequestID, ConversationID, ReceiptNo, Amount, …) are
 *  never rewritten by the phone/email sweep: a digit run in one must not break verification. */
const isVerbatimKey = (key: string) => {
  const k = normalizeKey(key);
  return k.endsWith("id") || k.includes("receipt") || k.includes("amount");
};

export function maskPhoneValue(value: unknown): string {
  const text = String(value);
  if (text.includes("*")) return text; // already masked: stable when a payload is redacted twice
  return maskPhone(text.replace(/\D/g, ""));
}

export function maskName(value: unknown): string {
  const words = String(value).split(/\s+/).filter(Boolean);
  return words.length ? words.map((w) => `${w[0]}***`).join(" ") : "***";
}

export function maskEmail(value: unknown): string {
  const text = String(value);
  const at = text.lastIndexOf("@");
  return at < 1 ? "***" : `${text[0]}***${text.slice(at)}`;
}

/** Daraja party fields: "254712345678 - Jane Doe" (a person) or "600000 - Shop Ltd" (a shortcode, kept). */
export function maskParty(value: unknown): string {
  const text = String(value);
  const m = /^\s*(\S+)\s+-\s+(.*)$/.exec(text);
  const isPhone = (id: string) => /^\+?\d{9,}$/.test(id);
  if (!m) return isPhone(text.trim()) ? maskPhoneValue(text) : maskName(text);
  const id = m[1]!;
  return `${isPhone(id) ? maskPhoneValue(id) : id} - ${maskName(m[2])}`;
}

function maskText(text: string): string {
  return text.replace(PHONE_IN_TEXT, (p) => maskPhoneValue(p)).replace(EMAIL_IN_TEXT, (e) => maskEmail(e));
}

function maskAddress(value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value !== "object" || Array.isArray(value)) return REDACTED;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = ADDRESS_KEPT_FIELDS.has(k) || v === null ? v : REDACTED;
  return out;
}

/** The mask for a value under `key`, or undefined when the key says nothing about personal data. */
function maskForKey(key: string, value: unknown, inPerson: boolean): { masked: unknown } | undefined {
  if (value === null || value === undefined) return undefined;
  const k = normalizeKey(key);
  // Postal addresses (Stripe address, shipping_address) and IPs (ip_address).
  if (k.endsWith("address")) return { masked: maskAddress(value) };
  if (typeof value !== "string" && typeof value !== "number") return undefined;
  if (k.endsWith("email")) return { masked: maskEmail(value) };
  if (k.endsWith("phone") || k === "phonenumber" || k === "msisdn") return { masked: maskPhoneValue(value) };
  if (k.endsWith("partyname") || k.endsWith("partypublicname")) return { masked: maskParty(value) };
  if (NAME_KEYS.has(k) || (inPerson && k === "name")) return { masked: maskName(value) };
  return undefined;
}

/** Stripe file ids (evidence's uncategorized_file, receipt, …): not personal data, kept for support. */
const FILE_ID = /^file_[A-Za-z0-9]{1,64}$/;

/**
 * A Stripe dispute's `evidence` (and `enhanced_evidence`): the merchant's free text about the buyer (names,
 * addresses, IPs, emails, order history) in any field. Stored encrypted by the disputes domain; here every value
 * is replaced (nulls and file ids kept, so the shape still shows which fields were filled).
 */
function redactEvidence(value: unknown, depth: number): unknown {
  if (value === null || value === undefined || typeof value === "boolean") return value;
  if (typeof value === "string") return FILE_ID.test(value) ? value : REDACTED;
  if (typeof value !== "object") return REDACTED;
  if (depth >= REDACT_DEPTH_MAX) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => redactEvidence(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactEvidence(v, depth + 1)]));
}
const EVIDENCE_KEYS = new Set(["evidence", "enhancedevidence"]);

function redactValue(value: unknown, depth: number, inPerson: boolean): unknown {
  if (typeof value === "string") return maskText(value);
  if (typeof value === "number") return Number.isInteger(value) && maskText(String(value)) !== String(value) ? maskPhoneValue(value) : value;
  if (value === null || typeof value !== "object") return value;
  if (depth >= REDACT_DEPTH_MAX) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1, inPerson));
  const obj = value as Record<string, unknown>;
  // Daraja lists: {Name: "PhoneNumber", Value: …} (callback items), {Key: "DebitPartyName", Value: …} (results).
  const pairName = typeof obj.Name === "string" ? obj.Name : typeof obj.Key === "string" ? obj.Key : undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const key = k === "Value" && pairName ? pairName : k;
    if (EVIDENCE_KEYS.has(normalizeKey(k)) && v !== null && typeof v === "object") {
      out[k] = redactEvidence(v, depth + 1);
      continue;
    }
    const rule = maskForKey(key, v, inPerson);
    if (rule) out[k] = rule.masked;
    else if ((typeof v === "string" || typeof v === "number") && isVerbatimKey(key)) out[k] = v;
    else out[k] = redactValue(v, depth + 1, inPerson || PERSON_CONTAINERS.has(normalizeKey(k)));
  }
  return out;
}

/** A copy of `payload` with personal data masked; the input is not changed. */
export function redactPspPayload(payload: Record<string, unknown>): Record<string, unknown> {
  return redactValue(payload, 0, false) as Record<string, unknown>;
}
