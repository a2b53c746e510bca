import { formatDecimalMoney } from "@/components/ui/format";
import type { SellerPayoutData } from "./types";

// A seller's payout schedule in words ("Weekly on Monday, 2 days' delay, minimum KES 500.00").

export const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"] as const;
export const INTERVAL_LABELS: Record<string, string> = { daily: "Daily", weekly: "Weekly", monthly: "Monthly", manual: "Manual only" };

const ordinal = (n: number) => {
  const s = ["th", "st", "nd", "rd"];
  const v = n % 100;
  return `${n}${s[(v - 20) % 10] ?? s[v] ?? s[0]}`;
};

export function scheduleText(s: SellerPayoutData["schedule"], currency: string): string {
  const when =
    s.interval === "weekly"
      ? `Weekly on ${WEEKDAYS[s.weeklyAnchor - 1] ?? s.weeklyAnchor}`
      : s.interval === "monthly"
        ? `Monthly on the ${ordinal(s.monthlyAnchor)}${s.monthlyAnchor > 28 ? " (or the month's last day)" : ""}`
        : (INTERVAL_LABELS[s.interval] ?? s.interval);
  if (s.interval === "manual") return "Manual only: no scheduled payouts";
  const parts = [when];
  if (s.delayDays > 0) parts.push(`funds ${s.delayDays} ${s.delayDays === 1 ? "day" : "days"} after settling`);
  if (!/^0+(\.0+)?$/.test(s.minimumAmount)) parts.push(`minimum ${formatDecimalMoney(s.minimumAmount, currency)}`);
  return parts.join(", ");
}
