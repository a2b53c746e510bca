import { formatDecimalMoney, formatMoney } from "@/components/ui/format";
import { readMoney } from "@/server/money/money";

// Payout amounts arrive in two shapes: decimal strings in major units (the API's "125.00", PayoutView/PayoutRow)
// and minor units (bigint, the balances). Display only, except toMinor, which reads a decimal string exactly.

/** A decimal string in major units ("-12.50") or minor units (bigint), formatted for its currency. */
export function amountText(value: string | bigint | number, currency: string): string {
  if (typeof value === "string") return formatDecimalMoney(value, currency);
  return formatMoney(value, currency);
}

/** Minor units of a decimal string in major units (exact), or of minor units as given. */
export function toMinor(value: string | bigint | number, currency: string): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "number") return BigInt(value);
  const m = readMoney(value, currency);
  if (m instanceof Error) throw m;
  return m.amount;
}
