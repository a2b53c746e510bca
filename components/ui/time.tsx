"use client";

import { createContext, useContext, type ReactNode } from "react";
import { DEFAULT_TIME_ZONE, formatDate, formatDateTime } from "./format";

const TimeZoneContext = createContext<string>(DEFAULT_TIME_ZONE);

/** The zone every <Time> below shows: the merchant's setting in the dashboard, UTC in the ops console. */
export function TimeZoneProvider({ timeZone, children }: { timeZone: string; children: ReactNode }) {
  return <TimeZoneContext.Provider value={timeZone}>{children}</TimeZoneContext.Provider>;
}

export function useTimeZone(): string {
  return useContext(TimeZoneContext);
}

/** A timestamp in the surrounding zone, always with the zone's name; the exact instant in `dateTime` (ISO, UTC). */
export function Time({ value, dateOnly = false, className }: { value: Date | string | number | null | undefined; dateOnly?: boolean; className?: string }) {
  const zone = useTimeZone();
  if (value === null || value === undefined) return <span className={className}>—</span>;
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) return <span className={className}>—</span>;
  return (
    <time dateTime={d.toISOString()} className={className} title={d.toISOString()}>
      {dateOnly ? formatDate(d, zone) : formatDateTime(d, zone)}
    </time>
  );
}
