import { createLoader, parseAsStringLiteral } from "nuqs/server";
import { OVERVIEW_DEFAULT_PERIOD, OVERVIEW_PERIODS } from "@/server/merchants/overview-stats.schema";

// The overview's URL state, shared by the page (server) and its charts (client): ?period=7d|30d|90d.
export const overviewParams = {
  period: parseAsStringLiteral(OVERVIEW_PERIODS).withDefault(OVERVIEW_DEFAULT_PERIOD),
};

export const loadOverviewParams = createLoader(overviewParams);

export const PERIOD_LABELS: Record<(typeof OVERVIEW_PERIODS)[number], string> = { "7d": "7 days", "30d": "30 days", "90d": "90 days" };
