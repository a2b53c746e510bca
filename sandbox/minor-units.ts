// Money amounts in minor units (cents) as decimal text, with integer arithmetic only (no floats on money). A leaf:
// the settlement reports (settlement.ts) and the Daraja results (daraja/api.ts) both use it.

const ZERO_DECIMAL = new Set(["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"]);

/** Minor units to a decimal string ("1234" kes -> "12.34"; zero-decimal currencies as they are), without floats. */
export function formatMinor(amount: number, currency: string): string {
  if (ZERO_DECIMAL.has(currency)) return String(amount);
  const sign = amount < 0 ? "-" : "";
  const abs = String(Math.abs(amount)).padStart(3, "0");
  return `${sign}${abs.slice(0, -2)}.${abs.slice(-2)}`;
}
