/**
 * Money as integer minor units (bigint) plus an ISO 4217 code.
 *
 * Rules that keep amounts exact end to end:
 * - no floats anywhere: amounts enter as decimal strings (API) or bigints
 *   (DB / internal) and leave as decimal strings;
 * - every Money fits a Postgres bigint, so whatever we compute can be stored;
 * - currencies never mix implicitly.
 */
import { CURRENCY_CODES, currencyExponent, isCurrencyCode, type CurrencyCode } from "./currencies";
import { MoneyError, describeValue, quote } from "./errors";

export type Money = { readonly amount: bigint; readonly currency: CurrencyCode };

/** Postgres `bigint` range: every amount must be storable as-is. */
export const MIN_AMOUNT = -(2n ** 63n);
export const MAX_AMOUNT = 2n ** 63n - 1n;

// ---------------------------------------------------------------------------
// Validation helpers
// ---------------------------------------------------------------------------

/** Returns the code, or the error explaining why `input` is not one of ours. */
function readCurrency(input: unknown): CurrencyCode | MoneyError {
  if (isCurrencyCode(input)) return input;
  return new MoneyError("invalid_currency", "currency", currencyProblem(input));
}

export function currencyProblem(input: unknown): string {
  if (typeof input !== "string") {
    return `currency must be an ISO 4217 code string such as "USD" (got ${describeValue(input)})`;
  }
  // We refuse rather than normalise "usd" so stored data is exactly what was sent.
  const upper = input.toUpperCase();
  if (upper !== input && isCurrencyCode(upper)) {
    return `currency codes must be upper case: use "${upper}", not ${quote(input)}`;
  }
  return `unsupported currency ${quote(input)}; supported currencies are ${CURRENCY_CODES.join(", ")}`;
}

function toCurrency(input: unknown): CurrencyCode {
  const result = readCurrency(input);
  if (result instanceof MoneyError) throw result;
  return result;
}

function rangeError(currency: CurrencyCode): MoneyError {
  const min = formatMoney({ amount: MIN_AMOUNT, currency });
  const max = formatMoney({ amount: MAX_AMOUNT, currency });
  return new MoneyError(
    "out_of_range",
    "amount",
    `amount is out of range: ${currency} amounts must be between ${min} and ${max}`,
  );
}

function inRange(amount: bigint): boolean {
  return amount >= MIN_AMOUNT && amount <= MAX_AMOUNT;
}

// ---------------------------------------------------------------------------
// Construction and parsing
// ---------------------------------------------------------------------------

/** Build Money from integer minor units, e.g. money(1250n, "USD") is $12.50. */
export function money(amount: bigint, currency: string): Money {
  // The static type already says bigint; this guards JS callers and `any`.
  if (typeof amount !== "bigint") {
    throw new MoneyError(
      "invalid_amount",
      "amount",
      `money() takes integer minor units as a bigint such as 1250n, never a ${typeof amount} (got ${describeValue(amount)})`,
    );
  }
  const code = toCurrency(currency);
  if (!inRange(amount)) throw rangeError(code);
  // Frozen so a Money can be shared freely without defensive copies.
  return Object.freeze({ amount, currency: code });
}

/**
 * Strict public-API grammar: optional "-", then "0" or a non-zero-led integer,
 * then optionally "." and at least one digit. ASCII digits only; no "+",
 * exponents, separators or whitespace, so every amount has one spelling.
 */
const AMOUNT_GRAMMAR = /^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

export type AmountParts = { negative: boolean; integer: string; fraction: string };

/** Grammar check shared by parseMoney and the zod schemas (no currency yet). */
export function readAmountString(input: unknown): AmountParts | MoneyError {
  if (typeof input !== "string") return nonStringAmount(input);
  const match = AMOUNT_GRAMMAR.exec(input);
  if (!match) return new MoneyError("invalid_amount", "amount", grammarProblem(input));
  const [, sign = "", integer = "", fraction = ""] = match;
  // "-0.00" is zero with a sign: ambiguous in a ledger, so refuse it outright.
  if (sign === "-" && /^0+$/.test(integer + fraction)) {
    return new MoneyError(
      "negative_zero",
      "amount",
      `amount ${quote(input)} is a negative zero; write zero without a sign, e.g. "0.00"`,
    );
  }
  return { negative: sign === "-", integer, fraction };
}

function nonStringAmount(input: unknown): MoneyError {
  const message =
    typeof input === "number"
      ? `amounts must be decimal strings such as "12.50", never numbers (got ${describeValue(input)}), because numbers cannot represent money exactly`
      : typeof input === "bigint"
        ? `amounts must be decimal strings such as "12.50" (got ${describeValue(input)}); use money() for bigint minor units`
        : `amount must be a decimal string such as "12.50" (got ${describeValue(input)})`;
  return new MoneyError("invalid_amount", "amount", message);
}

/** First matching hint explains the most likely mistake, so callers can fix it without docs. */
const GRAMMAR_HINTS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^$/, "it is empty"],
  [/\s/, "it must not contain whitespace"],
  [/^\+/, `it must not start with "+"; positive amounts have no sign`],
  [/[eE]/, `scientific notation is not allowed; write the digits out, e.g. "1000"`],
  [/[,_']/, `it must not contain thousands separators; use "." only as the decimal point`],
  [/^-?\./, `it needs a digit before the decimal point, e.g. "0.5"`],
  [/\.$/, "it needs at least one digit after the decimal point"],
  [/^-?0[0-9]/, "it must not have leading zeros"],
];

function grammarProblem(input: string): string {
  const hint = GRAMMAR_HINTS.find(([pattern]) => pattern.test(input))?.[1];
  const expected = `expected digits with an optional "-" and "." such as "12.50" or "-3.05"`;
  return `amount ${quote(input)} is not a valid decimal string: ${hint ?? expected}`;
}

/** Non-throwing parse; used by parseMoney and by zod transforms. */
export function readMoney(decimal: unknown, currency: unknown): Money | MoneyError {
  const code = readCurrency(currency);
  if (code instanceof MoneyError) return code;
  const parts = readAmountString(decimal);
  if (parts instanceof MoneyError) return parts;
  const exponent = currencyExponent(code);
  if (parts.fraction.length > exponent) return tooManyDecimals(code, exponent);
  // 2^63 has 19 digits, so a longer integer part is out of range; checking the
  // length first also keeps BigInt() from chewing on megabyte-long strings.
  if (parts.integer.length > 19) return rangeError(code);
  const magnitude = BigInt(parts.integer + parts.fraction.padEnd(exponent, "0"));
  const amount = parts.negative ? -magnitude : magnitude;
  if (!inRange(amount)) return rangeError(code);
  return Object.freeze({ amount, currency: code });
}

function tooManyDecimals(code: CurrencyCode, exponent: number): MoneyError {
  const allowed =
    exponent === 0 ? "no decimal places"
    : `at most ${exponent} decimal place${exponent === 1 ? "" : "s"}`;
  return new MoneyError("too_many_decimals", "amount", `${code} allows ${allowed}`);
}

/** Parse a public-API decimal string: parseMoney("12.50", "USD") -> 1250n USD. */
export function parseMoney(decimal: unknown, currency: unknown): Money {
  const result = readMoney(decimal, currency);
  if (result instanceof MoneyError) throw result;
  return result;
}

// ---------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------

/** Canonical API string with exactly `exponent` decimals; parseMoney inverts it. */
export function formatMoney(m: Money): string {
  const exponent = currencyExponent(m.currency);
  const sign = m.amount < 0n ? "-" : "";
  const digits = (m.amount < 0n ? -m.amount : m.amount).toString().padStart(exponent + 1, "0");
  if (exponent === 0) return sign + digits;
  return `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

/**
 * The ES2023 Intl typings (not in our ES2022 lib) let format() take a decimal
 * string, which Intl formats exactly instead of rounding through a double.
 */
type ExactNumberFormat = { format(value: string): string };

/** Human display, e.g. "$1,250.00". Never use the result as data. */
export function formatMoneyDisplay(m: Money, locale = "en-US"): string {
  const exponent = currencyExponent(m.currency);
  // Pin the digits to our exponent: CLDR defaults differ for some currencies
  // and would otherwise round (e.g. show TZS without its cents).
  const formatter = new Intl.NumberFormat(locale, {
    style: "currency",
    currency: m.currency,
    minimumFractionDigits: exponent,
    maximumFractionDigits: exponent,
  }) as unknown as ExactNumberFormat;
  return formatter.format(formatMoney(m));
}

// ---------------------------------------------------------------------------
// Arithmetic (results are range-checked through money())
// ---------------------------------------------------------------------------

function sameCurrency(a: CurrencyCode, b: CurrencyCode, action: string): CurrencyCode {
  if (a === b) return a;
  throw new MoneyError(
    "currency_mismatch",
    "currency",
    `cannot ${action} ${a} and ${b}: convert to one currency first`,
  );
}

export function addMoney(a: Money, b: Money): Money {
  return money(a.amount + b.amount, sameCurrency(a.currency, b.currency, "add"));
}

export function subtractMoney(a: Money, b: Money): Money {
  return money(a.amount - b.amount, sameCurrency(a.currency, b.currency, "subtract"));
}

/** Negating the minimum bigint overflows, which money() reports as out_of_range. */
export function negateMoney(a: Money): Money {
  return money(-a.amount, a.currency);
}

export function isZero(a: Money): boolean {
  return a.amount === 0n;
}

export function isNegative(a: Money): boolean {
  return a.amount < 0n;
}

export function compareMoney(a: Money, b: Money): -1 | 0 | 1 {
  sameCurrency(a.currency, b.currency, "compare");
  return a.amount < b.amount ? -1 : a.amount > b.amount ? 1 : 0;
}

/**
 * Sum a list in one currency; the currency is explicit so an empty list still
 * has a well-defined zero. Only the final total is range-checked: bigint
 * intermediates are exact, so a temporary excursion is harmless.
 */
export function sumMoney(list: readonly Money[], currency: string): Money {
  const code = toCurrency(currency);
  let total = 0n;
  for (const item of list) {
    sameCurrency(code, item.currency, "sum");
    total += item.amount;
  }
  return money(total, code);
}

/**
 * Split `total` in proportion to `weights` without losing a minor unit:
 * everyone gets the floor of their share, then the leftover units go one
 * each to the largest remainders (ties to the earlier index, so the result
 * is deterministic). Negative totals are split by magnitude and negated so
 * rounding is symmetric.
 */
export function allocateMoney(total: Money, weights: readonly bigint[]): Money[] {
  const weightSum = checkWeights(weights);
  const sign = total.amount < 0n ? -1n : 1n;
  const magnitude = total.amount * sign;
  const parts = weights.map((w) => (magnitude * w) / weightSum);
  const remainders = weights.map((w) => (magnitude * w) % weightSum);
  const leftover = magnitude - parts.reduce((s, p) => s + p, 0n);
  // leftover < weights.length (each remainder < weightSum), so Number() is safe.
  const order = weights
    .map((_, i) => i)
    .sort((i, j) => compareBigint(remainders[j]!, remainders[i]!) || i - j);
  for (const i of order.slice(0, Number(leftover))) parts[i]! += 1n;
  return parts.map((p) => money(p * sign, total.currency));
}

function checkWeights(weights: readonly bigint[]): bigint {
  const valid =
    weights.length > 0 && weights.every((w) => typeof w === "bigint" && w >= 0n);
  const sum = valid ? weights.reduce((s, w) => s + w, 0n) : 0n;
  if (!valid || sum === 0n) {
    throw new MoneyError(
      "invalid_amount",
      "amount",
      "allocation weights must be a non-empty list of non-negative bigints with a positive sum",
    );
  }
  return sum;
}

function compareBigint(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
