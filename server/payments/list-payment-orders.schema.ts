import { z } from "zod";
import { isStorableText, UNSTORABLE_TEXT_MESSAGE } from "@/server/http/storable-text";
import { CURRENCY_CODES, MoneyError, parseMoney, type Money } from "@/server/money";

// The payments list's filters, shared by the list (payments.list), its CSV export
// (app/api/dashboard/payments/export) and the dashboard page, which keeps them in the URL under these names.
// Zod and the money module only, so the page may import the names and limits.
// Domain: server/payments/list-payment-orders.ts, server/payments/export-payment-orders.ts.

export const PAYMENT_LIST_PAGE_MAX = 100;
export const PAYMENT_LIST_PAGE_DEFAULT = 25;
/** An email is at most 254 characters; payment order and checkout ids far fewer. */
export const PAYMENT_SEARCH_MAX = 254;
export const PAYMENT_CURSOR_MAX = 512;
const AMOUNT_TEXT_MAX = 32;

export const PAYMENT_STATUSES = ["NOT_STARTED", "EXECUTING", "SUCCESS", "FAILED"] as const;
export const PAYMENT_PSPS = ["stripe", "mpesa"] as const;
export const PAYMENT_SORTS = ["created", "amount"] as const;
export const SORT_DIRECTIONS = ["asc", "desc"] as const;
export type PaymentSort = (typeof PAYMENT_SORTS)[number];
export type SortDirection = (typeof SORT_DIRECTIONS)[number];

/** The filter keys, as they appear in the page's URL and the export's query string. */
export const PAYMENT_FILTER_KEYS = ["q", "status", "seller", "currency", "psp", "from", "to", "amountMin", "amountMax"] as const;

/** `YYYY-MM-DD` (a whole day) or `YYYY-MM-DDTHH:mm[:ss]`, a wall-clock time in the merchant's time zone. */
const LOCAL_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/;

function isRealLocalTime(value: string): boolean {
  const m = LOCAL_TIME.exec(value);
  if (!m) return false;
  const [y, mo, d, h = 0, mi = 0, s = 0] = m.slice(1).map((p) => (p === undefined ? 0 : Number(p)));
  const t = new Date(Date.UTC(y!, mo! - 1, d!, h, mi, s));
  return y! >= 1970 && y! <= 9999 && t.getUTCFullYear() === y && t.getUTCMonth() === mo! - 1 && t.getUTCDate() === d && t.getUTCHours() === h && t.getUTCMinutes() === mi && t.getUTCSeconds() === s;
}

/** Whether a local time is only a date (a `to` date then includes that whole day). */
export const isDateOnly = (value: string): boolean => value.length === 10;

const zText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `At most ${max} characters.`)
    .refine(isStorableText, UNSTORABLE_TEXT_MESSAGE)
    .transform((v) => v || undefined);
const zLocalTime = z
  .string()
  .max(19)
  .refine(isRealLocalTime, "Enter a date as YYYY-MM-DD (or YYYY-MM-DDTHH:mm).")
  .optional();
const zAmount = z.string().trim().max(AMOUNT_TEXT_MAX, `At most ${AMOUNT_TEXT_MAX} characters.`).transform((v) => v || undefined);

const filterShape = {
  /** An exact payment_order_id, checkout id (chk_…) or buyer email. */
  q: zText(PAYMENT_SEARCH_MAX).optional(),
  status: z.enum(PAYMENT_STATUSES).optional(),
  /** A seller's reference (the API's seller_account). */
  seller: zText(100).optional(),
  currency: z.enum(CURRENCY_CODES).optional(),
  psp: z.enum(PAYMENT_PSPS).optional(),
  from: zLocalTime,
  to: zLocalTime,
  /** Major units as the user typed them ("1250.50"), exact in the filter's currency. */
  amountMin: zAmount.optional(),
  amountMax: zAmount.optional(),
  sort: z.enum(PAYMENT_SORTS).default("created"),
  dir: z.enum(SORT_DIRECTIONS).default("desc"),
};

type FilterFields = { currency?: string; from?: string; to?: string; amountMin?: string; amountMax?: string };

/** The amount in minor units, or the message that says why it is not one. */
export function amountFilterMinor(value: string, currency: string): bigint | string {
  let m: Money;
  try {
    m = parseMoney(value, currency);
  } catch (e) {
    if (e instanceof MoneyError) return e.message.replace(/^amount /, "");
    throw e;
  }
  if (m.amount < 0n) return "Enter an amount of zero or more.";
  return m.amount;
}

/** Rules across fields: an amount needs a currency (its decimals depend on it); ranges run forwards. */
function checkFilters(v: FilterFields, ctx: z.RefinementCtx): void {
  const minor: Partial<Record<"amountMin" | "amountMax", bigint>> = {};
  for (const key of ["amountMin", "amountMax"] as const) {
    const value = v[key];
    if (value === undefined) continue;
    if (!v.currency) {
      ctx.addIssue({ code: "custom", path: [key], message: "Choose a currency to filter by amount." });
      continue;
    }
    const r = amountFilterMinor(value, v.currency);
    if (typeof r === "string") ctx.addIssue({ code: "custom", path: [key], message: r });
    else minor[key] = r;
  }
  if (minor.amountMin !== undefined && minor.amountMax !== undefined && minor.amountMin > minor.amountMax) {
    ctx.addIssue({ code: "custom", path: ["amountMax"], message: "The maximum amount is below the minimum." });
  }
  if (v.from && v.to && localBound(v.from, "start") > localBound(v.to, "end")) {
    ctx.addIssue({ code: "custom", path: ["to"], message: "The end is before the start." });
  }
}

/** A local time as `YYYY-MM-DDTHH:mm:ss` (a date-only end is the end of its day), so two compare as strings. */
function localBound(value: string, side: "start" | "end"): string {
  if (isDateOnly(value)) return `${value}T${side === "start" ? "00:00:00" : "24:00:00"}`;
  return value.length === 16 ? `${value}:00` : value;
}

/** What the export takes: the filters and the sort, no page. */
export const ZPaymentFilters = z.object(filterShape).superRefine(checkFilters);
export type TPaymentFilters = z.infer<typeof ZPaymentFilters>;

export const ZListPaymentOrdersInput = z
  .object({
    ...filterShape,
    /** Opaque: from a previous page's nextCursor or prevCursor, for the same sort. */
    cursor: z
      .string()
      .max(PAYMENT_CURSOR_MAX)
      .regex(/^[A-Za-z0-9_-]*$/, "Not a page cursor of this list.")
      .transform((v) => v || undefined)
      .optional(),
    limit: z.number().int().min(1).max(PAYMENT_LIST_PAGE_MAX).default(PAYMENT_LIST_PAGE_DEFAULT),
  })
  .superRefine(checkFilters);
export type TListPaymentOrdersInput = z.infer<typeof ZListPaymentOrdersInput>;
