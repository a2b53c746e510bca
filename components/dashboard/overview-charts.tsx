"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { parseAsString, useQueryState, useQueryStates } from "nuqs";
import { Bar, BarChart, CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { useTRPC } from "@/components/trpc/react";
import { Card } from "@/components/ui/card";
import { DataTable, type ColumnDef } from "@/components/ui/data-table";
import { EmptyState } from "@/components/ui/empty-state";
import { Field, Select } from "@/components/ui/field";
import { formatMoney } from "@/components/ui/format";
import { cn } from "@/components/ui/cn";
import type { DayPoint, PaymentStats } from "@/server/merchants/overview-stats";
import { OVERVIEW_PERIODS } from "@/server/merchants/overview-stats.schema";
import { chartNumber, formatDayLong, formatDayShort, formatRate, formatTick, seriesSummary } from "./overview-format";
import { overviewParams, PERIOD_LABELS } from "./overview-params";

// Volume and success-rate charts over the chosen period (in the URL: ?period=, ?currency=), one currency at a time.
// The charts are hidden from screen readers; the summary sentence and the data table below them say the same.

const AXIS_TICK = { fill: "#475569", fontSize: 12 }; // slate-600
const BRAND = "var(--color-brand-600)";

export function OverviewCharts({ initial, defaultCurrency }: { initial: PaymentStats; defaultCurrency: string }) {
  const trpc = useTRPC();
  const [{ period }, setParams] = useQueryStates(overviewParams);
  const [currencyParam, setCurrency] = useQueryState("currency", parseAsString);
  const stats = useQuery({
    ...trpc.merchant.paymentStats.queryOptions({ period }),
    initialData: period === initial.period ? initial : undefined,
    placeholderData: keepPreviousData,
  });
  const data = stats.data;
  const currencies = data?.currencies.map((c) => c.currency) ?? [];
  const currency = currencyParam && currencies.includes(currencyParam) ? currencyParam : currencies.includes(defaultCurrency) ? defaultCurrency : currencies[0];
  const series = data?.currencies.find((c) => c.currency === currency);
  const periodLabel = PERIOD_LABELS[period];

  return (
    <Card
      title="Payments"
      description={data ? `Per day in ${data.timeZone}; orders count on the day they were created.` : undefined}
      actions={
        <>
          <div role="group" aria-label="Period" className="inline-flex rounded-md border border-slate-300 bg-white p-0.5">
            {OVERVIEW_PERIODS.map((p) => (
              <button
                key={p}
                type="button"
                aria-pressed={p === period}
                onClick={() => void setParams({ period: p })}
                className={cn("rounded px-2.5 py-1 text-sm font-medium", p === period ? "bg-brand-600 text-white" : "text-slate-700 hover:bg-slate-100")}
              >
                {PERIOD_LABELS[p]}
              </button>
            ))}
          </div>
          {currencies.length > 1 ? (
            <Field label={<span className="sr-only">Currency</span>} htmlFor="overview-currency">
              <Select id="overview-currency" value={currency} onChange={(e) => void setCurrency(e.target.value)} className="w-auto">
                {currencies.map((c) => (
                  <option key={c} value={c}>
                    {c}
                  </option>
                ))}
              </Select>
            </Field>
          ) : null}
        </>
      }
      data-testid="overview-charts"
    >
      <div aria-busy={stats.isFetching || undefined}>
        {stats.error ? (
          <p role="alert" className="text-sm text-red-700">
            {stats.error.message}
          </p>
        ) : !series ? (
          <EmptyState title={`No finished payments in the last ${periodLabel}`} description="Successful and failed payment orders show here by day." />
        ) : (
          <SeriesCharts key={`${period}-${series.currency}`} points={series.points} currency={series.currency} summary={seriesSummary(series, periodLabel)} />
        )}
      </div>
    </Card>
  );
}

interface ChartRow {
  day: string;
  volume: number;
  rate: number | null;
}

function SeriesCharts({ points, currency, summary }: { points: DayPoint[]; currency: string; summary: string }) {
  const rows: ChartRow[] = points.map((p) => {
    const finals = p.succeeded + p.failed;
    return { day: p.day, volume: chartNumber(p.volumeMinor), rate: finals === 0 ? null : (p.succeeded * 100) / finals };
  });
  const tickGap = points.length > 31 ? 24 : 8;
  return (
    <div className="flex flex-col gap-6">
      <p className="text-sm text-slate-700" data-testid="overview-summary">
        {summary}
      </p>
      <div className="grid gap-6 lg:grid-cols-2">
        <figure className="flex min-w-0 flex-col gap-2">
          <figcaption className="text-sm font-medium text-slate-800">Volume ({currency})</figcaption>
          <div className="h-56 w-full" aria-hidden="true">
            <ResponsiveContainer width="100%" height="100%">
              <BarChart data={rows} margin={{ top: 4, right: 8, bottom: 0, left: 0 }} accessibilityLayer={false}>
                <CartesianGrid vertical={false} stroke="#e2e8f0" />
                <XAxis dataKey="day" tickFormatter={formatDayShort} tick={AXIS_TICK} minTickGap={tickGap} tickLine={false} />
                <YAxis tickFormatter={(v: number) => formatTick(v, currency)} tick={AXIS_TICK} width={104} allowDecimals={false} tickLine={false} axisLine={false} />
                <Tooltip
                  labelFormatter={(d) => formatDayLong(String(d))}
                  formatter={(_v, _n, item) => [formatMoney(points.find((p) => p.day === (item.payload as ChartRow).day)?.volumeMinor ?? "0", currency), "Volume"]}
                />
                <Bar dataKey="volume" fill={BRAND} radius={[3, 3, 0, 0]} isAnimationActive={false} />
              </BarChart>
            </ResponsiveContainer>
          </div>
        </figure>
        <figure className="flex min-w-0 flex-col gap-2">
          <figcaption className="text-sm font-medium text-slate-800">Success rate</figcaption>
          <div className="h-56 w-full" aria-hidden="true">
            <ResponsiveContainer width="100%" height="100%">
              <LineChart data={rows} margin={{ top: 4, right: 8, bottom: 0, left: 0 }} accessibilityLayer={false}>
                <CartesianGrid vertical={false} stroke="#e2e8f0" />
                <XAxis dataKey="day" tickFormatter={formatDayShort} tick={AXIS_TICK} minTickGap={tickGap} tickLine={false} />
                <YAxis domain={[0, 100]} ticks={[0, 25, 50, 75, 100]} tickFormatter={(v: number) => `${v}%`} tick={AXIS_TICK} width={44} tickLine={false} axisLine={false} />
                <Tooltip
                  labelFormatter={(d) => formatDayLong(String(d))}
                  formatter={(_v, _n, item) => {
                    const p = points.find((x) => x.day === (item.payload as ChartRow).day);
                    return [p ? `${rateOf(p)} (${p.succeeded} of ${p.succeeded + p.failed})` : "—", "Success rate"];
                  }}
                />
                <Line dataKey="rate" stroke={BRAND} strokeWidth={2} dot={points.length <= 31} connectNulls={false} isAnimationActive={false} />
              </LineChart>
            </ResponsiveContainer>
          </div>
        </figure>
      </div>
      <details className="text-sm">
        <summary className="cursor-pointer font-medium text-brand-700">Show the data as a table</summary>
        <DataTable
          className="mt-2"
          columns={dayColumns(currency)}
          data={[...points].reverse()}
          getRowId={(p) => p.day}
          caption={`Payments per day (${currency})`}
          empty={{ title: "No days" }}
          rowTestId="overview-day"
        />
      </details>
    </div>
  );
}

function rateOf(p: DayPoint): string {
  const finals = p.succeeded + p.failed;
  return finals === 0 ? "—" : formatRate(Math.floor((p.succeeded * 10_000) / finals));
}

function dayColumns(currency: string): ColumnDef<DayPoint, unknown>[] {
  return [
    { id: "day", header: "Day", cell: ({ row }) => formatDayLong(row.original.day) },
    { id: "volume", header: "Volume", meta: { align: "right" }, cell: ({ row }) => formatMoney(row.original.volumeMinor, currency) },
    { id: "succeeded", header: "Succeeded", meta: { align: "right" }, cell: ({ row }) => row.original.succeeded },
    { id: "failed", header: "Failed", meta: { align: "right" }, cell: ({ row }) => row.original.failed },
    { id: "rate", header: "Success rate", meta: { align: "right" }, cell: ({ row }) => rateOf(row.original) },
  ];
}
