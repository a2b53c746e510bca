/**
 * The one error type thrown by the money module. `code` is a small closed
 * union so API layers can map it to a stable error code without parsing
 * messages; `field` says which input ("amount" or "currency") to blame, and
 * `message` is written to be shown next to that field as-is.
 */
export type MoneyErrorCode =
  | "invalid_amount"
  | "invalid_currency"
  | "too_many_decimals"
  | "negative_zero"
  | "out_of_range"
  | "currency_mismatch";

export type MoneyField = "amount" | "currency";

export class MoneyError extends Error {
  override readonly name = "MoneyError";
  readonly code: MoneyErrorCode;
  readonly field: MoneyField;

  constructor(code: MoneyErrorCode, field: MoneyField, message: string) {
    super(message);
    this.code = code;
    this.field = field;
  }
}

/** Quote user input for a message, truncated so a 1 MB payload can't bloat logs. */
export function quote(input: string): string {
  const shown = input.length > 40 ? `${input.slice(0, 40)}…` : input;
  return JSON.stringify(shown);
}

/** Short description of a non-string value, for "got …" message suffixes. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "string") return quote(value);
  return typeof value;
}
