// Payout schedules (sellers.payout_*), read in the merchant's time zone (merchants.time_zone):
//   daily     due every day; the period is the local date (2026-03-08)
//   weekly    due from the anchor weekday (1 = Monday .. 7 = Sunday) to the end of the ISO week; period 2026-W10
//   monthly   due from the anchor day (or the month's last day when the month is shorter) to the month's end;
//             period 2026-03
//   manual    never due (payouts are only requested)
// "Due until the period ends" rather than "due on that day only": a cron that was down on the anchor day still
// pays that period once it is back. The period key is part of the payout's idempotency key
// (`schedule:<seller>:<currency>:<period>`), so a period is paid at most once however often the cron fires.
import type { PayoutSchedule } from "./types";

type ScheduleShape = Pick<PayoutSchedule, "interval" | "weeklyAnchor" | "monthlyAnchor">;

interface LocalDate {
  year: number;
  month: number;
  day: number;
  /** 1 = Monday .. 7 = Sunday */
  weekday: number;
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat("en-US", { timeZone, year: "numeric", month: "numeric", day: "numeric", weekday: "short" });
    } catch {
      // An unknown zone (the column is free text): UTC rather than no payouts at all.
      f = formatterFor("UTC");
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** The calendar date at `now` in `timeZone` (DST-correct: Intl does the offset). */
export function localDate(now: Date, timeZone: string): LocalDate {
  const parts = Object.fromEntries(formatterFor(timeZone).formatToParts(now).map((p) => [p.type, p.value]));
  return { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day), weekday: WEEKDAYS[parts.weekday!]! };
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** ISO 8601 week-numbering year and week of a calendar date. */
export function isoWeek(d: Pick<LocalDate, "year" | "month" | "day">): { year: number; week: number } {
  const date = new Date(Date.UTC(d.year, d.month - 1, d.day));
  const weekday = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - weekday); // the Thursday of this week decides its year
  const yearStart = Date.UTC(date.getUTCFullYear(), 0, 1);
  return { year: date.getUTCFullYear(), week: Math.ceil(((date.getTime() - yearStart) / 86_400_000 + 1) / 7) };
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** The day of the month a monthly schedule pays on in this month (the anchor, or the last day of a shorter month). */
export function monthlyPayDay(anchor: number, year: number, month: number): number {
  return Math.min(anchor, daysInMonth(year, month));
}

/** Whether a scheduled payout is due at `now` (see the header). */
export function isDue(schedule: ScheduleShape, now: Date, timeZone: string): boolean {
  const d = localDate(now, timeZone);
  switch (schedule.interval) {
    case "daily":
      return true;
    case "weekly":
      return d.weekday >= schedule.weeklyAnchor;
    case "monthly":
      return d.day >= monthlyPayDay(schedule.monthlyAnchor, d.year, d.month);
    case "manual":
      return false;
  }
}

/** The period a scheduled payout at `now` pays (null for manual schedules): one payout per period. */
export function periodKey(schedule: ScheduleShape, now: Date, timeZone: string): string | null {
  const d = localDate(now, timeZone);
  switch (schedule.interval) {
    case "daily":
      return `${d.year}-${pad(d.month)}-${pad(d.day)}`;
    case "weekly": {
      const w = isoWeek(d);
      return `${w.year}-W${pad(w.week)}`;
    }
    case "monthly":
      return `${d.year}-${pad(d.month)}`;
    case "manual":
      return null;
  }
}
