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
import { PAYOUT_LIST_PAGE_DEFAULT, PAYOUT_STATUS_VALUES } from "@/server/payouts/router.schema";
import { payoutHref, sellerHref } from "./links";
import { PAYOUT_ORIGIN_LABELS, PAYOUT_OPEN, PAYOUT_STATUS_LABELS, PayoutStatusBadge } from "./payout-status-badge";
import type { PayoutRowData } from "./types";

// The merchant's payouts, newest first (payouts.list). Status, seller and the page cursor live in the URL (nuqs),
// so reload, Back and a shared link show the same view. On a seller's page the seller is fixed and the table shows
// only that seller's payouts. Polled while a payout on the page is still open.

type Status = (typeof PAYOUT_STATUS_VALUES)[number];
const PARAMS = { status: parseAsStringLiteral(PAYOUT_STATUS_VALUES), seller: parseAsString, cursor: parseAsString };

function columns(showSeller: boolean): ColumnDef<PayoutRowData, unknown>[] {
  const cols: ColumnDef<PayoutRowData, unknown>[] = [
    {
      id: "payout",
      header: "Payout",
      cell: ({ row }) => (
        <span className="flex flex-col gap-0.5">
          <Link href={payoutHref(row.original.id)} className="font-mono text-xs break-all text-slate-900 underline underline-offset-2 hover:text-brand-700">
            {row.original.id}
          </Link>
          {showSeller ? <span className="text-xs text-slate-600 md:hidden">{row.original.sellerName}</span> : null}
        </span>
      ),
    },
  ];
  if (showSeller) {
    cols.push({
      id: "seller",
      header: "Seller",
      meta: { priority: "low" },
      cell: ({ row }) => (
        <span className="flex flex-col">
          <Link href={sellerHref(row.original.sellerId)} className="text-slate-900 underline underline-offset-2 hover:text-brand-700">
            {row.original.sellerName}
          </Link>
          <span className="text-xs break-all text-slate-600">{row.original.sellerReference}</span>
        </span>
      ),
    });
  }
  cols.push(
    {
      id: "amount",
      header: "Amount",
      meta: { align: "right" },
      cell: ({ row }) => (
        <span className="font-medium whitespace-nowrap tabular-nums" data-testid="payout-amount">
          {formatDecimalMoney(row.original.amount, row.original.currency)}
        </span>
      ),
    },
    { id: "status", header: "Status", cell: ({ row }) => <PayoutStatusBadge status={row.original.status} /> },
    { id: "origin", header: "Origin", meta: { priority: "low" }, cell: ({ row }) => <span className="text-xs">{PAYOUT_ORIGIN_LABELS[row.original.origin] ?? row.original.origin}</span> },
    { id: "created", header: "Created", meta: { priority: "low" }, cell: ({ row }) => <Time value={row.original.createdAt} className="whitespace-nowrap" /> },
    { id: "arrival", header: "Expected", meta: { priority: "low" }, cell: ({ row }) => <Time value={row.original.arrivalDate} dateOnly className="whitespace-nowrap" /> },
  );
  return cols;
}

export function PayoutsTable({ sellerId, sellers }: { /** A seller's page: only this seller's payouts. */ sellerId?: string; /** The seller filter's options (the payouts page). */ sellers?: { id: string; name: string }[] }) {
  const trpc = useTRPC();
  const [state, setState] = useQueryStates(PARAMS, { history: "push" });
  const seller = sellerId ?? (state.seller && sellers?.some((s) => s.id === state.seller) ? state.seller : undefined);
  const input = { sellerId: seller, status: state.status ?? undefined, cursor: state.cursor ?? undefined, limit: PAYOUT_LIST_PAGE_DEFAULT };
  const list = useQuery({
    ...trpc.payouts.list.queryOptions(input),
    placeholderData: keepPreviousData,
    retry: false,
    refetchInterval: (q) => (q.state.data?.items.some((p) => PAYOUT_OPEN.has(p.status)) ? 5_000 : 30_000),
  });
  const pages = useCursorTrail(state.cursor ?? null, (cursor) => void setState({ cursor }), list.data?.nextCursor);
  const filtered = Boolean(state.status || (!sellerId && state.seller));
  const setFilter = (patch: Partial<{ status: Status | null; seller: string | null }>) => {
    pages.reset();
    void setState({ ...patch, cursor: null });
  };
  const clear = () => setFilter({ status: null, seller: null });
  const idPrefix = sellerId ? "sp" : "pf";

  return (
    <div className="flex flex-col gap-4">
      <form className="flex flex-wrap items-end gap-3 rounded-lg border border-slate-200 bg-white p-4" aria-label="Payout filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <Field label="Status" htmlFor={`${idPrefix}-status`} className="w-full sm:w-56">
          <Select id={`${idPrefix}-status`} value={state.status ?? ""} onChange={(e) => setFilter({ status: (e.target.value || null) as Status | null })}>
            <option value="">Any status</option>
            {PAYOUT_STATUS_VALUES.map((s) => (
              <option key={s} value={s}>
                {PAYOUT_STATUS_LABELS[s]}
              </option>
            ))}
          </Select>
        </Field>
        {!sellerId && sellers ? (
          <Field label="Seller" htmlFor={`${idPrefix}-seller`} className="w-full sm:w-64">
            <Select id={`${idPrefix}-seller`} value={seller ?? ""} onChange={(e) => setFilter({ seller: e.target.value || null })}>
              <option value="">Every seller</option>
              {sellers.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </Select>
          </Field>
        ) : null}
        {filtered ? (
          <Button size="sm" variant="ghost" onClick={clear}>
            Clear filters
          </Button>
        ) : null}
      </form>
      <DataTable
        columns={columns(!sellerId)}
        data={list.error ? undefined : list.data?.items}
        getRowId={(p) => p.id}
        caption={sellerId ? "This seller's payouts" : "Payouts"}
        loading={list.isPending}
        error={list.error ? { message: list.error.message } : null}
        rowTestId="payout-row"
        rowProps={(p) => ({ "data-payout-id": p.id, "data-status": p.status, "data-amount": p.amount })}
        rowHref={(p) => payoutHref(p.id)}
        empty={
          filtered
            ? { title: "No payouts match these filters", description: "Change or clear the filters to see more payouts.", action: <Button size="sm" onClick={clear}>Clear filters</Button> }
            : { title: "No payouts yet", description: "Payouts appear here when a seller's schedule makes one, or when an admin requests one from the seller's page." }
        }
        pagination={pages.pagination}
      />
    </div>
  );
}
