"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useMemo } from "react";
import { ageLabel } from "@/components/ops/double-charge-queue";
import { useTRPC } from "@/components/trpc/react";
import { DataTable, type ColumnDef } from "@/components/ui/data-table";
import { Money } from "@/components/ui/money";
import { pspLabel } from "@/components/ui/psp-label";
import { Time } from "@/components/ui/time";
import { CaseStatusBadge } from "./case-status-badge";
import { CASE_TYPE_LABELS, caseHref, casesHref, isFiltered, STATUS_FILTER_LABELS, type CaseFilters } from "./labels";
import type { CaseListItem } from "./types";

// The reconciliation cases (reconciliation.list), newest first seen first, keyset paged: the page cursor lives in the
// URL (?cursor=&dir=) beside the filters, so Next and Previous are links a reload keeps. Refetched every minute.

const PAGE_SIZE = 50;
const REFETCH_MS = 60_000;

function emptyText(f: CaseFilters): string {
  if (!isFiltered(f)) return "No open or acknowledged cases: everything imported so far matches what we hold, or has been explained.";
  return `No cases match these filters (status ${STATUS_FILTER_LABELS[f.status].toLowerCase()}${f.type ? `, type ${CASE_TYPE_LABELS[f.type].toLowerCase()}` : ""}).`;
}

function columns(now: number): ColumnDef<CaseListItem, unknown>[] {
  return [
    {
      id: "type",
      header: "Type",
      cell: ({ row: { original: c } }) => (
        <div className="min-w-36">
          <Link href={caseHref(c.id)} className="font-medium underline underline-offset-2 hover:text-brand-700" data-testid="case-link">
            {CASE_TYPE_LABELS[c.type]}
          </Link>
          {c.pendingAdjustmentId ? <span className="block text-xs text-amber-800">Adjustment awaiting approval</span> : null}
        </div>
      ),
    },
    { id: "status", header: "Status", cell: ({ row: { original: c } }) => <CaseStatusBadge status={c.status} resolution={c.resolution} /> },
    { id: "psp", header: "PSP", cell: ({ row: { original: c } }) => <span className="whitespace-nowrap">{pspLabel(c.psp)}</span> },
    {
      id: "reference",
      header: "Reference",
      cell: ({ row: { original: c } }) => (
        <div className="max-w-64">
          <span className="font-mono text-xs break-all">{c.reference}</span>
          {c.merchantName || c.merchantId ? <span className="block text-xs text-slate-600">{c.merchantName ?? c.merchantId}</span> : null}
        </div>
      ),
    },
    { id: "amount", header: "At risk", meta: { align: "right" }, cell: ({ row: { original: c } }) => <Money amount={c.amountAtRisk} currency={c.currency} /> },
    {
      id: "first",
      header: "First seen",
      cell: ({ row: { original: c } }) => (
        <span className="flex flex-col text-xs whitespace-nowrap text-slate-600">
          <Time value={c.firstSeenAt} />
          <span data-testid="case-age">{ageLabel(new Date(c.firstSeenAt), now)}</span>
        </span>
      ),
    },
    { id: "last", header: "Last seen", meta: { priority: "low" }, cell: ({ row: { original: c } }) => <Time value={c.lastSeenAt} className="text-xs whitespace-nowrap text-slate-600" /> },
  ];
}

export function CasesTable({ filters, cursor, direction }: { filters: CaseFilters; cursor?: string; direction?: "next" | "prev" }) {
  const trpc = useTRPC();
  const router = useRouter();
  const list = useQuery({
    ...trpc.reconciliation.list.queryOptions({
      status: filters.status,
      type: filters.type,
      psp: filters.psp,
      merchantId: filters.merchantId,
      minAmount: filters.minAmount,
      olderThanHours: filters.olderThanHours,
      cursor,
      direction,
      limit: PAGE_SIZE,
    }),
    refetchInterval: REFETCH_MS,
    placeholderData: keepPreviousData,
  });
  // Ages as of the last fetch (refetched every minute), so rendering stays pure.
  const now = list.dataUpdatedAt;
  const cols = useMemo(() => columns(now), [now]);
  const page = list.data;
  return (
    <DataTable<CaseListItem>
      caption="Reconciliation cases"
      columns={cols}
      data={page?.items}
      getRowId={(c) => c.id}
      loading={list.isLoading}
      error={list.error}
      rowTestId="case-row"
      rowProps={(c) => ({ "data-case-id": c.id, "data-type": c.type, "data-status": c.status })}
      rowHref={(c) => caseHref(c.id)}
      empty={{ title: isFiltered(filters) ? "No matching cases" : "No open cases", description: <span data-testid="cases-empty">{emptyText(filters)}</span> }}
      pagination={{
        hasPrevious: Boolean(page?.prevCursor),
        hasNext: Boolean(page?.nextCursor),
        onPrevious: () => page?.prevCursor && router.push(casesHref(filters, page.prevCursor, "prev")),
        onNext: () => page?.nextCursor && router.push(casesHref(filters, page.nextCursor)),
      }}
    />
  );
}
