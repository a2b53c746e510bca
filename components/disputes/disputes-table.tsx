"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { parseAsString, parseAsStringLiteral, useQueryStates } from "nuqs";
import { useTRPC } from "@/components/trpc/react";
import { Button } from "@/components/ui/button";
import { DataTable, useCursorTrail, type ColumnDef } from "@/components/ui/data-table";
import { Field, Select } from "@/components/ui/field";
import { formatDecimalMoney } from "@/components/ui/format";
import { Time } from "@/components/ui/time";
import { DISPUTE_LIST_PAGE_DEFAULT, DISPUTE_STATUS_VALUES } from "@/server/disputes/dashboard.schema";
import type { DisputeView } from "@/server/disputes/types";
import { DISPUTE_STATUS_LABELS, disputeReasonLabel } from "./deadline";
import { DeadlineCell } from "./deadline-cell";
import { DisputeStatusBadge } from "./dispute-status-badge";
import { disputeHref } from "./links";
import { useNow } from "./use-now";

// The merchant's disputes, soonest deadline first (open ones first; server/disputes/list-disputes.ts), or newest
// first. Status, sort and the page cursor live in the URL (nuqs). Server: disputes.list.

const SORTS = ["due_by", "created"] as const;
const PARAMS = {
  status: parseAsStringLiteral(DISPUTE_STATUS_VALUES),
  sort: parseAsStringLiteral(SORTS).withDefault("due_by"),
  cursor: parseAsString,
};

function columns(now: Date): ColumnDef<DisputeView, unknown>[] {
  // The deadline first (the list is sorted by it, and on a phone it stays on screen with amount and status).
  return [
    { id: "deadline", header: "Respond by", cell: ({ row }) => <DeadlineCell dispute={row.original} now={now} /> },
    { id: "amount", header: "Amount", meta: { align: "right" }, cell: ({ row }) => <span className="whitespace-nowrap">{formatDecimalMoney(row.original.amount, row.original.currency)}</span> },
    { id: "status", header: "Status", cell: ({ row }) => <DisputeStatusBadge status={row.original.status} /> },
    {
      id: "dispute",
      header: "Dispute",
      cell: ({ row }) => (
        <div className="flex flex-col gap-0.5">
          <Link href={disputeHref(row.original.id)} className="font-mono text-xs break-all text-slate-900 underline underline-offset-2 hover:text-brand-700">
            {row.original.id}
          </Link>
          <span className="text-xs text-slate-600">{row.original.is_inquiry ? "Inquiry" : "Chargeback"} · {disputeReasonLabel(row.original.reason)}</span>
        </div>
      ),
    },
    {
      id: "orders",
      header: "Payment orders",
      meta: { priority: "low" },
      cell: ({ row }) => (
        <ul className="flex flex-col gap-0.5">
          {row.original.payment_orders.map((o) => (
            <li key={o.payment_order_id} className="font-mono text-xs break-all">
              {o.payment_order_id} <span className="font-sans text-slate-600">({o.seller_account})</span>
            </li>
          ))}
        </ul>
      ),
    },
    { id: "created", header: "Opened", meta: { priority: "low" }, cell: ({ row }) => <Time value={row.original.created_at} className="whitespace-nowrap" /> },
  ];
}

export function DisputesTable() {
  const trpc = useTRPC();
  const now = useNow();
  const [state, setState] = useQueryStates(PARAMS, { history: "push" });
  const input = { status: state.status ?? undefined, sort: state.sort, cursor: state.cursor ?? undefined, limit: DISPUTE_LIST_PAGE_DEFAULT };
  const list = useQuery({ ...trpc.disputes.list.queryOptions(input), placeholderData: keepPreviousData, retry: false, refetchInterval: 30_000 });
  const pages = useCursorTrail(state.cursor ?? null, (cursor) => void setState({ cursor }), list.data?.hasMore ? list.data.nextCursor : null);
  const filtered = Boolean(state.status);

  const setFilter = (patch: Partial<{ status: (typeof DISPUTE_STATUS_VALUES)[number] | null; sort: (typeof SORTS)[number] }>) => {
    pages.reset();
    void setState({ ...patch, cursor: null });
  };

  return (
    <div className="flex flex-col gap-4">
      <form className="flex flex-wrap items-end gap-3 rounded-lg border border-slate-200 bg-white p-4" aria-label="Dispute filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <Field label="Status" htmlFor="df-status" className="w-full sm:w-64">
          <Select id="df-status" value={state.status ?? ""} onChange={(e) => setFilter({ status: (e.target.value || null) as (typeof DISPUTE_STATUS_VALUES)[number] | null })}>
            <option value="">Any status</option>
            {DISPUTE_STATUS_VALUES.map((s) => (
              <option key={s} value={s}>
                {DISPUTE_STATUS_LABELS[s]}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Sort" htmlFor="df-sort" className="w-full sm:w-64">
          <Select id="df-sort" value={state.sort} onChange={(e) => setFilter({ sort: e.target.value as (typeof SORTS)[number] })}>
            <option value="due_by">Deadline, soonest first</option>
            <option value="created">Opened, newest first</option>
          </Select>
        </Field>
        {filtered ? (
          <Button size="sm" variant="ghost" onClick={() => setFilter({ status: null })}>
            Clear filters
          </Button>
        ) : null}
      </form>
      <DataTable
        columns={columns(now)}
        data={list.error ? undefined : list.data?.data}
        getRowId={(d) => d.id}
        caption="Disputes"
        loading={list.isPending}
        error={list.error ? { message: list.error.message } : null}
        rowTestId="dispute-row"
        rowProps={(d) => ({ "data-dispute-id": d.id, "data-status": d.status })}
        rowHref={(d) => disputeHref(d.id)}
        empty={
          filtered
            ? { title: "No disputes match this filter", description: "Choose another status or clear the filter.", action: <Button size="sm" onClick={() => setFilter({ status: null })}>Clear filters</Button> }
            : { title: "No disputes", description: "When a buyer disputes a card payment, it appears here with its deadline for evidence." }
        }
        pagination={pages.pagination}
      />
    </div>
  );
}
