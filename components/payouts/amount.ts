import { readMoney } from "@/server/money/money";

// Kept for e2e/payouts.spec.ts, its only caller: components format with components/ui/format.ts (formatDecimalMoney
// for the API's decimal strings, formatMoney for minor units) and read a decimal string with parseMoney(v, c).amount.

/** Minor units of a decimal string in major units (exact), or of minor units as given. */
export function toMinor(value: string | bigint | number, currency: string): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "number") return BigInt(value);
  const m = readMoney(value, currency);
  if (m instanceof Error) throw m;
  return m.amount;
}
