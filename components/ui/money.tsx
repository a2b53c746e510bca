import { cn } from "./cn";
import { formatMoney } from "./format";

/** An amount of minor units, formatted for its currency (tabular digits so columns line up). */
export function Money({ amount, currency, locale, className }: { amount: bigint | string | number; currency: string; locale?: string; className?: string }) {
  return <span className={cn("tabular-nums whitespace-nowrap", className)}>{formatMoney(amount, currency, locale)}</span>;
}
