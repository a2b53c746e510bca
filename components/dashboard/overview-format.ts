import { formatMoney } from "@/components/ui/format";
import type { CurrencySeries } from "@/server/merchants/overview-stats";

// Display helpers of the overview, apart from React (unit-tested). Days arrive as the merchant's local calendar
// dates (YYYY-MM-DD, computed in its zone by the server), so they are formatted as dates, with no zone shift.

const DAY_SHORT = new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", day: "numeric", month: "short" });
const DAY_LONG = new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", weekday: "short", day: "numeric", month: "short", year: "numeric" });

function dayDate(day: string): Date {
  return new Date(`${day}T00:00:00Z`);
}

/** "4 Mar": axis ticks. */
export function formatDayShort(day: string): string {
  return DAY_SHORT.format(dayDate(day));
}

/** "Wed, 4 Mar 2026": the data table and the tooltip. */
export function formatDayLong(day: string): string {
  return DAY_LONG.format(dayDate(day));
}

/** Basis points as a percentage with one decimal, rounded down like the rate itself ("99.9%", never a false 100%). */
export function formatRate(bps: number | null): string {
  if (bps === null) return "—";
  return `${Math.floor(bps / 100)}.${Math.floor((bps % 100) / 10)}%`;
}

/** A chart's y value. Display only: bar heights need numbers; every amount shown as text comes from the minor units. */
export function chartNumber(minor: string): number {
  return Number(minor);
}

/** A y-axis tick (a round number of minor units) as money. */
export function formatTick(value: number, currency: string): string {
  return Number.isFinite(value) ? formatMoney(BigInt(Math.round(value)), currency) : "";
}

/** The charts' text alternative: what a sighted reader takes from them, in one or two sentences. */
export function seriesSummary(series: CurrencySeries, periodLabel: string): string {
  const finals = series.succeeded + series.failed;
  if (finals === 0) return `No ${series.currency} payments finished in the last ${periodLabel}.`;
  let busiest = series.points[0]!;
  for (const p of series.points) if (BigInt(p.volumeMinor) > BigInt(busiest.volumeMinor)) busiest = p;
  const parts = [
    `Last ${periodLabel}, ${series.currency}: volume ${formatMoney(series.volumeMinor, series.currency)} from ${series.succeeded} successful payment${series.succeeded === 1 ? "" : "s"}`,
    `${series.failed} failed, success rate ${formatRate(series.successRateBps)}.`,
  ];
  const busiestText = BigInt(busiest.volumeMinor) > 0n ? ` Highest volume on ${formatDayLong(busiest.day)}: ${formatMoney(busiest.volumeMinor, series.currency)}.` : "";
  return `${parts.join("; ")}${busiestText}`;
}
