import { z } from "zod";

// Inputs of the overview's read procedures. Import-free of the DB so the dashboard's client components share
// the period list and limits with the server.

export const OVERVIEW_PERIODS = ["7d", "30d", "90d"] as const;
export type TOverviewPeriod = (typeof OVERVIEW_PERIODS)[number];
export const OVERVIEW_DEFAULT_PERIOD: TOverviewPeriod = "30d";
/** Days each period covers, ending with today in the merchant's time zone. */
export const OVERVIEW_PERIOD_DAYS: Readonly<Record<TOverviewPeriod, number>> = { "7d": 7, "30d": 30, "90d": 90 };

export const LATEST_FAILURES_DEFAULT = 10;
export const LATEST_FAILURES_MAX = 50;

export const ZOverviewStatsInput = z.object({
  period: z.enum(OVERVIEW_PERIODS, { error: `period must be one of ${OVERVIEW_PERIODS.join(", ")}` }),
});
export type TOverviewStatsInput = z.infer<typeof ZOverviewStatsInput>;

export const ZLatestFailuresInput = z
  .object({ limit: z.number().int().min(1).max(LATEST_FAILURES_MAX).optional() })
  .optional();
export type TLatestFailuresInput = z.infer<typeof ZLatestFailuresInput>;
