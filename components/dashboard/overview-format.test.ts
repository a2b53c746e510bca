import { describe, expect, it } from "vitest";
import type { CurrencySeries } from "@/server/merchants/overview-stats";
import { formatDayLong, formatDayShort, formatRate, formatTick, seriesSummary } from "./overview-format";

/** Intl puts a no-break space between the code and the digits. */
const plain = (s: string) => s.replace(/\u00a0/g, " ");

describe("overview formatting", () => {
  it("shows the server's local days as they are, whatever the browser's zone", () => {
    expect(formatDayShort("2026-03-04")).toBe("4 Mar");
    expect(formatDayLong("2026-03-04")).toBe("Wed, 4 Mar 2026");
  });

  it("rounds success rates down to one decimal", () => {
    expect(formatRate(9999)).toBe("99.9%");
    expect(formatRate(10_000)).toBe("100.0%");
    expect(formatRate(7500)).toBe("75.0%");
    expect(formatRate(6666)).toBe("66.6%");
    expect(formatRate(0)).toBe("0.0%");
    expect(formatRate(null)).toBe("—");
  });

  it("formats axis ticks as money in the currency's exponent", () => {
    expect(plain(formatTick(250_000, "KES"))).toBe("KES 2,500.00");
    expect(formatTick(1500, "JPY")).toBe("¥1,500");
  });

  it("summarises a series for screen readers", () => {
    const s: CurrencySeries = {
      currency: "KES",
      volumeMinor: "35100",
      succeeded: 3,
      failed: 1,
      successRateBps: 7500,
      points: [
        { day: "2026-03-09", volumeMinor: "10000", succeeded: 1, failed: 0 },
        { day: "2026-03-10", volumeMinor: "25100", succeeded: 2, failed: 1 },
      ],
    };
    expect(plain(seriesSummary(s, "7 days"))).toBe(
      "Last 7 days, KES: volume KES 351.00 from 3 successful payments; 1 failed, success rate 75.0%. Highest volume on Tue, 10 Mar 2026: KES 251.00.",
    );
    expect(seriesSummary({ ...s, succeeded: 0, failed: 0, volumeMinor: "0", successRateBps: null, points: [] }, "7 days")).toBe("No KES payments finished in the last 7 days.");
  });
});
