import { currencyExponent, isCurrencyCode } from "@/server/money/currencies";
import { formatMoneyDisplay, readMoney } from "@/server/money/money";

// Display formatting shared by server and client components. Display only: never parse these back.

/** The zone used when none is configured (and by the ops console). */
export const DEFAULT_TIME_ZONE = "UTC";

function toBigInt(minor: bigint | string | number): bigint {
  if (typeof minor === "bigint") return minor;
  if (typeof minor === "number") {
    if (!Number.isSafeInteger(minor)) throw new TypeError(`Not an integer amount of minor units: ${minor}`);
    return BigInt(minor);
  }
  if (!/^-?\d+$/.test(minor)) throw new TypeError(`Not an integer amount of minor units: ${JSON.stringify(minor)}`);
  return BigInt(minor);
}

/**
 * Minor units as the buyer/merchant reads them: "KES 1,650.49" / "¥1,650", with the currency's own exponent and the
 * locale's separators. An unsupported currency code still shows its digits exactly, with the code.
 */
export function formatMoney(minor: bigint | string | number, currency: string, locale = "en-US"): string {
  const amount = toBigInt(minor);
  if (isCurrencyCode(currency)) return formatMoneyDisplay({ amount, currency }, locale);
  return `${amount.toString()} ${currency}`;
}

/**
 * An amount as the public API writes it (a decimal string in major units, "2500.00"), formatted like formatMoney.
 * Read exactly (never through a float); a string that is not a valid amount of the currency shows as given.
 */
export function formatDecimalMoney(decimal: string, currency: string, locale = "en-US"): string {
  const m = readMoney(decimal, currency);
  return m instanceof Error ? `${decimal} ${currency}` : formatMoneyDisplay(m, locale);
}

/** Major-unit decimal string of minor units, exactly ("1650.49"): CSV cells, inputs. */
export function minorToDecimal(minor: bigint | string | number, currency: string): string {
  const amount = toBigInt(minor);
  const exponent = isCurrencyCode(currency) ? currencyExponent(currency) : 0;
  const negative = amount < 0n;
  const digits = (negative ? -amount : amount).toString().padStart(exponent + 1, "0");
  const body = exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
  return negative ? `-${body}` : body;
}

function toDate(value: Date | string | number): Date {
  return value instanceof Date ? value : new Date(value);
}

/** "1 Dec 2026, 17:47:01 EAT" style: always with the zone, 24-hour, in the given IANA zone. */
export function formatDateTime(value: Date | string | number, timeZone: string = DEFAULT_TIME_ZONE, locale = "en-GB"): string {
  const d = toDate(value);
  if (Number.isNaN(d.getTime())) return "—";
  return new Intl.DateTimeFormat(locale, {
    timeZone,
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
    timeZoneName: "short",
  }).format(d);
}

/** "1 Dec 2026" in the given zone. */
export function formatDate(value: Date | string | number, timeZone: string = DEFAULT_TIME_ZONE, locale = "en-GB"): string {
  const d = toDate(value);
  if (Number.isNaN(d.getTime())) return "—";
  return new Intl.DateTimeFormat(locale, { timeZone, year: "numeric", month: "short", day: "numeric" }).format(d);
}

/** The zone's short name now ("EAT", "UTC", "GMT+3"): labels such as "Dates are in EAT". */
export function timeZoneLabel(timeZone: string, at: Date = new Date()): string {
  const part = new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "short" }).formatToParts(at).find((p) => p.type === "timeZoneName");
  return part?.value ?? timeZone;
}
