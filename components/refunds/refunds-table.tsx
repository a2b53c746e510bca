"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { parseAsString, parseAsStringLiteral, useQueryStates } from "nuqs";
import { useState, type FormEvent } from "react";
import { paymentDetailHref } from "@/components/payments/links";
import { fieldErrorsOf } from "@/components/trpc/field-errors";
import { useTRPC } from "@/components/trpc/react";
import { Button } from "@/components/ui/button";
import { DataTable, type ColumnDef } from "@/components/ui/data-table";
import { Field, Input, Select } from "@/components/ui/field";
import { formatDecimalMoney } from "@/components/ui/format";
import { Time } from "@/components/ui/time";
import type { RefundView } from "@/server/refunds/types";
import { REFUND_LIST_PAGE_DEFAULT, REFUND_REASON_LABELS, REFUND_STATUS_VALUES } from "@/server/refunds/router.schema";
import { REFUND_STATUS_LABELS, RefundStatusBadge, refundFailureText } from "./refund-status-badge";

// The merchant's refunds, newest first (refunds.list). The filters (status, payment order) and the page cursor live
// in the URL (nuqs), so reload, Back and a shared link show the same view. Each row opens its payment's detail,
// where refunds are issued.

const PARAMS = {
  status: parseAsStringLiteral(REFUND_STATUS_VALUES),
  order: parseAsString,
  cursor: parseAsString,
  /** The cursors of the pages before this one, oldest first (so Previous works from a reloaded or shared URL). */
  back: parseAsString,
};

const BACK_SEPARATOR = " ";

const COLUMNS: ColumnDef<RefundView, unknown>[] = [
  {
    id: "refund",
    header: "Refund",
    cell: ({ row }) => (
      <span>
        <span className="font-mono text-xs break-all">{row.original.id}</span>
        <span className="block text-xs text-slate-600 md:hidden">{row.original.seller_account}</span>
      </span>
    ),
  },
  {
    id: "payment_order",
    header: "Payment order",
    cell: ({ row }) => (
      <Link href={paymentDetailHref(row.original.payment_order_id)} className="font-mono text-xs break-all text-slate-900 underline underline-offset-2 hover:text-brand-700">
        {row.original.payment_order_id}
      </Link>
    ),
  },
  { id: "seller", header: "Seller", meta: { priority: "low" }, cell: ({ row }) => <span className="break-all">{row.original.seller_account}</span> },
  { id: "amount", header: "Amount", meta: { align: "right" }, cell: ({ row }) => <span className="whitespace-nowrap tabular-nums">{formatDecimalMoney(row.original.amount, row.original.currency)}</span> },
  {
    id: "status",
    header: "Status",
    cell: ({ row }) => {
      const failure = refundFailureText(row.original.failure_reason ?? null);
      return (
        <span className="flex flex-col items-start gap-1">
          <RefundStatusBadge status={row.original.status} />
          {failure ? <span className="text-xs text-red-700">{failure}</span> : null}
        </span>
      );
    },
  },
  { id: "reason", header: "Reason", meta: { priority: "low" }, cell: ({ row }) => <span className="text-xs">{row.original.reason ? REFUND_REASON_LABELS[row.original.reason] : "—"}</span> },
  { id: "created", header: "Created", meta: { priority: "low" }, cell: ({ row }) => <Time value={row.original.created_at} className="whitespace-nowrap" /> },
];

export function RefundsTable() {
  const trpc = useTRPC();
  const [state, setState] = useQueryStates(PARAMS, { history: "push" });
  const [orderDraft, setOrderDraft] = useState(state.order ?? "");
  const [shownOrder, setShownOrder] = useState(state.order ?? "");
  // Back/forward or a shared link changed the URL: the field shows what is applied.
  if (shownOrder !== (state.order ?? "")) {
    setShownOrder(state.order ?? "");
    setOrderDraft(state.order ?? "");
  }
  const filtered = Boolean(state.status || state.order);
  const input = { status: state.status ?? undefined, paymentOrderId: state.order ?? undefined, cursor: state.cursor ?? undefined, limit: REFUND_LIST_PAGE_DEFAULT };
  const list = useQuery({ ...trpc.refunds.list.queryOptions(input), placeholderData: keepPreviousData, retry: false });
  const fieldErrors = fieldErrorsOf(list.error);
  const back = state.back ? state.back.split(BACK_SEPARATOR) : [];

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void setState({ order: orderDraft.trim() || null, cursor: null, back: null });
  };
  const clear = () => {
    setOrderDraft("");
    void setState({ status: null, order: null, cursor: null, back: null });
  };
  const error = list.error ? { message: fieldErrors.paymentOrderId ? "That is not a payment order id." : list.error.message } : null;

  return (
    <div className="flex flex-col gap-4">
      <form onSubmit={onSubmit} className="flex flex-col gap-3 rounded-lg border border-slate-200 bg-white p-4" aria-label="Refund filters" role="search">
        <div className="grid grid-cols-1 gap-3 sm:grid-cols-3">
          <Field label="Status" htmlFor="rf-status">
            <Select id="rf-status" value={state.status ?? ""} onChange={(e) => void setState({ status: (e.target.value || null) as (typeof REFUND_STATUS_VALUES)[number] | null, cursor: null, back: null })}>
              <option value="">Any status</option>
              {REFUND_STATUS_VALUES.map((s) => (
                <option key={s} value={s}>
                  {REFUND_STATUS_LABELS[s]}
                </option>
              ))}
            </Select>
          </Field>
          <Field label="Payment order" htmlFor="rf-order" hint="Its payment_order_id, exactly." error={fieldErrors.paymentOrderId?.[0] ?? null} className="sm:col-span-2">
            <Input id="rf-order" maxLength={64} value={orderDraft} onChange={(e) => setOrderDraft(e.target.value)} aria-describedby="rf-order-hint rf-order-error" autoComplete="off" />
          </Field>
        </div>
        <div className="flex flex-wrap items-center gap-2">
          <Button type="submit" variant="primary" size="sm">
            Apply filters
          </Button>
          {filtered ? (
            <Button size="sm" variant="ghost" onClick={clear}>
              Clear filters
            </Button>
          ) : null}
        </div>
      </form>
      <DataTable
        columns={COLUMNS}
        data={list.error ? undefined : list.data?.data}
        getRowId={(r) => r.id}
        caption="Refunds"
        loading={list.isPending}
        error={error}
        empty={
          filtered
            ? { title: "No refunds match these filters", description: "Change or clear the filters to see more refunds.", action: <Button size="sm" onClick={clear}>Clear filters</Button> }
            : { title: "No refunds yet", description: "Refund a payment from its page: open it from Payments and use Refund." }
        }
        pagination={{
          hasPrevious: Boolean(state.cursor),
          hasNext: Boolean(list.data?.hasMore && list.data.nextCursor),
          onPrevious: () => {
            const prev = back.slice(0, -1);
            void setState({ cursor: back.at(-1) || null, back: prev.length ? prev.join(BACK_SEPARATOR) : null });
          },
          onNext: () => {
            if (list.data?.nextCursor) void setState({ cursor: list.data.nextCursor, back: [...back, state.cursor ?? ""].join(BACK_SEPARATOR) });
          },
        }}
        rowTestId="refund-list-row"
        rowProps={(r) => ({ "data-refund-id": r.id, "data-status": r.status })}
        rowHref={(r) => paymentDetailHref(r.payment_order_id)}
      />
    </div>
  );
}
