import { describe, expect, it } from "vitest";
import { daysInMonth, isDue, isoWeek, localDate, monthlyPayDay, periodKey } from "./schedule";

const daily = { interval: "daily", weeklyAnchor: 1, monthlyAnchor: 1 } as const;
const weekly = (weeklyAnchor: number) => ({ interval: "weekly", weeklyAnchor, monthlyAnchor: 1 }) as const;
const monthly = (monthlyAnchor: number) => ({ interval: "monthly", weeklyAnchor: 1, monthlyAnchor }) as const;
const manual = { interval: "manual", weeklyAnchor: 1, monthlyAnchor: 1 } as const;
const at = (iso: string) => new Date(iso);

describe("payout schedules", () => {
  it("daily: the local date in the merchant's time zone is the period", () => {
    // 21:30 UTC on 1 Dec is 00:30 on 2 Dec in Nairobi (UTC+3), still 1 Dec in New York.
    expect(periodKey(daily, at("2026-12-01T21:30:00Z"), "Africa/Nairobi")).toBe("2026-12-02");
    expect(periodKey(daily, at("2026-12-01T21:30:00Z"), "America/New_York")).toBe("2026-12-01");
    expect(periodKey(daily, at("2026-12-01T21:30:00Z"), "UTC")).toBe("2026-12-01");
    expect(isDue(daily, at("2026-12-01T21:30:00Z"), "UTC")).toBe(true);
  });

  it("DST: the local day follows the clock change (New York springs forward 8 Mar 2026, falls back 1 Nov 2026)", () => {
    // 04:30 UTC: 23:30 EST on 7 Mar (UTC-5) before the change...
    expect(localDate(at("2026-03-08T04:30:00Z"), "America/New_York")).toMatchObject({ year: 2026, month: 3, day: 7, weekday: 6 });
    // ...and 03:30 UTC on 9 Mar is 23:30 EDT (UTC-4) on 8 Mar after it; 04:30 UTC is already 9 Mar.
    expect(periodKey(daily, at("2026-03-09T03:30:00Z"), "America/New_York")).toBe("2026-03-08");
    expect(periodKey(daily, at("2026-03-09T04:30:00Z"), "America/New_York")).toBe("2026-03-09");
    // Fall back: 1 Nov 2026 has 25 hours; 04:30 UTC is 00:30 EDT on 1 Nov, 05:30 UTC 01:30 EDT, 06:30 UTC 01:30 EST.
    for (const t of ["2026-11-01T04:30:00Z", "2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z", "2026-11-02T04:59:00Z"]) {
      expect(periodKey(daily, at(t), "America/New_York"), t).toBe("2026-11-01");
    }
    expect(periodKey(daily, at("2026-11-02T05:00:00Z"), "America/New_York")).toBe("2026-11-02");
    // London: 29 Mar 2026 01:00 UTC the clocks go to 02:00 BST; 23:30 UTC on 29 Mar is 00:30 on 30 Mar.
    expect(periodKey(daily, at("2026-03-29T23:30:00Z"), "Europe/London")).toBe("2026-03-30");
    expect(periodKey(daily, at("2026-03-28T23:30:00Z"), "Europe/London")).toBe("2026-03-28");
  });

  it("weekly: due from the anchor weekday to the end of the ISO week; the ISO week is the period", () => {
    // Wed 2 Dec 2026 (ISO week 49). Anchor Monday: due; anchor Wednesday: due; anchor Friday: not yet.
    const wed = at("2026-12-02T12:00:00Z");
    expect(localDate(wed, "UTC").weekday).toBe(3);
    expect(isDue(weekly(1), wed, "UTC")).toBe(true);
    expect(isDue(weekly(3), wed, "UTC")).toBe(true);
    expect(isDue(weekly(5), wed, "UTC")).toBe(false);
    expect(isDue(weekly(5), at("2026-12-04T00:00:00Z"), "UTC")).toBe(true);
    expect(periodKey(weekly(1), wed, "UTC")).toBe("2026-W49");
    // Sunday is the week's last day (7): due only then, still in the same week.
    expect(isDue(weekly(7), at("2026-12-05T23:59:00Z"), "UTC")).toBe(false);
    expect(isDue(weekly(7), at("2026-12-06T00:00:00Z"), "UTC")).toBe(true);
    expect(periodKey(weekly(7), at("2026-12-06T00:00:00Z"), "UTC")).toBe("2026-W49");
    // Monday 23:30 UTC is already Tuesday in Nairobi; Sunday 22:00 UTC is Monday (a new week) there.
    expect(isDue(weekly(2), at("2026-12-07T23:30:00Z"), "Africa/Nairobi")).toBe(true);
    expect(isDue(weekly(2), at("2026-12-07T23:30:00Z"), "UTC")).toBe(false);
    expect(periodKey(weekly(1), at("2026-12-06T22:00:00Z"), "Africa/Nairobi")).toBe("2026-W50");
    expect(periodKey(weekly(1), at("2026-12-06T22:00:00Z"), "UTC")).toBe("2026-W49");
  });

  it("ISO weeks across years", () => {
    expect(isoWeek({ year: 2026, month: 1, day: 1 })).toEqual({ year: 2026, week: 1 }); // a Thursday
    expect(isoWeek({ year: 2027, month: 1, day: 1 })).toEqual({ year: 2026, week: 53 }); // a Friday: 2026 has 53 weeks
    expect(isoWeek({ year: 2027, month: 1, day: 4 })).toEqual({ year: 2027, week: 1 });
    expect(isoWeek({ year: 2024, month: 12, day: 30 })).toEqual({ year: 2025, week: 1 });
    expect(periodKey(weekly(1), at("2027-01-02T12:00:00Z"), "UTC")).toBe("2026-W53");
  });

  it("monthly: due from the anchor day, or the month's last day when it is shorter", () => {
    expect(daysInMonth(2026, 2)).toBe(28);
    expect(daysInMonth(2028, 2)).toBe(29);
    expect(monthlyPayDay(31, 2026, 2)).toBe(28);
    expect(monthlyPayDay(31, 2028, 2)).toBe(29);
    expect(monthlyPayDay(31, 2026, 4)).toBe(30);
    expect(monthlyPayDay(15, 2026, 4)).toBe(15);
    expect(isDue(monthly(31), at("2026-02-27T12:00:00Z"), "UTC")).toBe(false);
    expect(isDue(monthly(31), at("2026-02-28T00:00:00Z"), "UTC")).toBe(true);
    expect(isDue(monthly(30), at("2026-02-28T00:00:00Z"), "UTC")).toBe(true);
    expect(isDue(monthly(29), at("2028-02-28T12:00:00Z"), "UTC")).toBe(false);
    expect(isDue(monthly(29), at("2028-02-29T12:00:00Z"), "UTC")).toBe(true);
    expect(isDue(monthly(31), at("2026-04-30T00:00:00Z"), "UTC")).toBe(true);
    expect(isDue(monthly(31), at("2026-05-30T00:00:00Z"), "UTC")).toBe(false);
    expect(isDue(monthly(1), at("2026-05-01T00:00:00Z"), "UTC")).toBe(true);
    expect(periodKey(monthly(31), at("2026-02-28T00:00:00Z"), "UTC")).toBe("2026-02");
    // The month's end in the merchant's zone: 31 Jan 22:00 UTC is 1 Feb in Nairobi.
    expect(periodKey(monthly(1), at("2026-01-31T22:00:00Z"), "Africa/Nairobi")).toBe("2026-02");
    expect(isDue(monthly(31), at("2026-01-31T22:00:00Z"), "Africa/Nairobi")).toBe(false);
    expect(isDue(monthly(31), at("2026-01-31T22:00:00Z"), "UTC")).toBe(true);
  });

  it("manual: never due, no period", () => {
    expect(isDue(manual, at("2026-12-01T00:00:00Z"), "UTC")).toBe(false);
    expect(periodKey(manual, at("2026-12-01T00:00:00Z"), "UTC")).toBeNull();
  });

  it("an unknown time zone falls back to UTC", () => {
    expect(periodKey(daily, at("2026-12-01T23:30:00Z"), "Mars/Olympus")).toBe("2026-12-01");
  });
});
