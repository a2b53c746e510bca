// Money amounts in minor units (cents) as decimal text, with integer arithmetic only (no floats on money). A leaf:
// the settlement reports (settlement.ts) and the Daraja results (daraja/api.ts) both use it.

const ZERO_DECIMAL = new Set(["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"]);
/** Stripe's three-decimal currencies: their minor unit is a thousandth (1005 kwd = "1.005"). */
const THREE_DECIMAL = new Set(["bhd", "jod", "kwd", "omr", "tnd"]);

/** Minor units to a decimal string ("1234" kes -> "12.34", "1005" kwd -> "1.005"; zero-decimal ones as they are), without floats. */
export function formatMinor(amount: number, currency: string): string {
  const digits = ZERO_DECIMAL.has(currency) ? 0 : THREE_DECIMAL.has(currency) ? 3 : 2;
  if (digits === 0) return String(amount);
  const sign = amount < 0 ? "-" : "";
  const abs = String(Math.abs(amount)).padStart(digits + 1, "0");
  return `${sign}${abs.slice(0, -digits)}.${abs.slice(-digits)}`;
}
