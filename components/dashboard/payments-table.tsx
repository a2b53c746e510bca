"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Download } from "lucide-react";
import Link from "next/link";
import { parseAsString, parseAsStringLiteral, useQueryStates } from "nuqs";
import { useState, type FormEvent } from "react";
import { useTRPC } from "@/components/trpc/react";
import { Button } from "@/components/ui/button";
import { DataTable, type ColumnDef, type SortingState } from "@/components/ui/data-table";
import { Field, Input, Select } from "@/components/ui/field";
import { formatMoney } from "@/components/ui/format";
import { pspLabel } from "@/components/ui/psp-label";
import { StatusBadge } from "@/components/ui/status-badge";
import { Time, useTimeZone } from "@/components/ui/time";
import type { PaymentOrderListItem } from "@/server/payments/list-payment-orders";
import {
  PAYMENT_FILTER_KEYS,
  PAYMENT_LIST_PAGE_DEFAULT,
  PAYMENT_PSPS,
  PAYMENT_SEARCH_MAX,
  PAYMENT_SORTS,
  PAYMENT_STATUSES,
  SORT_DIRECTIONS,
} from "@/server/payments/list-payment-orders.schema";
import { CURRENCY_CODES } from "@/server/money/currencies";
import { DoubleChargeBadge } from "./double-charge-badge";

// The merchant's payments list: search, filters, sort and the page cursor all live in the URL (nuqs), so reload,
// Back and a shared link show the same view; "Export CSV" downloads exactly what the filters select, every page.
// Server: payments.list and GET /api/dashboard/payments/export (server/payments/list-payment-orders.ts).

const PARAMS = {
  q: parseAsString,
  status: parseAsStringLiteral(PAYMENT_STATUSES),
  seller: parseAsString,
  currency: parseAsStringLiteral(CURRENCY_CODES),
  psp: parseAsStringLiteral(PAYMENT_PSPS),
  from: parseAsString,
  to: parseAsString,
  amountMin: parseAsString,
  amountMax: parseAsString,
  sort: parseAsStringLiteral(PAYMENT_SORTS).withDefault("created"),
  dir: parseAsStringLiteral(SORT_DIRECTIONS).withDefault("desc"),
  cursor: parseAsString,
};

type FilterKey = (typeof PAYMENT_FILTER_KEYS)[number];
type Draft = Record<FilterKey, string>;

const STATUS_LABELS: Record<(typeof PAYMENT_STATUSES)[number], string> = { NOT_STARTED: "Not started", EXECUTING: "Processing", SUCCESS: "Succeeded", FAILED: "Failed" };
const DATE_INPUT = /^\d{4}-\d{2}-\d{2}$/;
/** A date picker, unless the URL holds a local time (`…T14:30`, which the API takes too): then plain text, shown as is. */
const localInputType = (value: string) => (value === "" || DATE_INPUT.test(value) ? "date" : "text");

function columns(): ColumnDef<PaymentOrderListItem, unknown>[] {
  return [
    {
      id: "payment_order_id",
      header: "Payment order",
      enableSorting: false,
      cell: ({ row }) => (
        <Link href={`/dashboard/payments/${encodeURIComponent(row.original.payment_order_id)}`} className="font-mono text-xs break-all text-slate-900 underline underline-offset-2 hover:text-brand-700">
          {row.original.payment_order_id}
        </Link>
      ),
    },
    { id: "seller", header: "Seller", enableSorting: false, meta: { priority: "low" }, cell: ({ row }) => <span className="break-all">{row.original.seller_account}</span> },
    {
      id: "amount",
      header: "Amount",
      // An accessor makes the column sortable in the table; the sorting itself is the server's.
      accessorFn: (o) => o.amount_minor,
      enableSorting: true,
      sortDescFirst: true,
      meta: { align: "right" },
      cell: ({ row }) => <span className="whitespace-nowrap">{formatMoney(row.original.amount_minor, row.original.currency)}</span>,
    },
    {
      id: "status",
      header: "Status",
      enableSorting: false,
      cell: ({ row }) => (
        <div className="flex flex-wrap items-center gap-1">
          <StatusBadge status={row.original.status} />
          {row.original.doubleCharge ? <DoubleChargeBadge status={row.original.doubleCharge} /> : null}
          {row.original.failure ? <span className="block w-full text-xs text-red-700">{row.original.failure.message ?? row.original.failure.code}</span> : null}
        </div>
      ),
    },
    { id: "psp", header: "PSP", enableSorting: false, meta: { priority: "low" }, cell: ({ row }) => (row.original.psp ? pspLabel(row.original.psp) : <span className="text-slate-600">—</span>) },
    { id: "created", header: "Created", accessorFn: (o) => o.created_at, enableSorting: true, sortDescFirst: true, meta: { priority: "low" }, cell: ({ row }) => <Time value={row.original.created_at} className="whitespace-nowrap" /> },
  ];
}

const COLUMNS = columns();

const emptyDraft = (): Draft => Object.fromEntries(PAYMENT_FILTER_KEYS.map((k) => [k, ""])) as Draft;

export function PaymentsTable() {
  const trpc = useTRPC();
  const timeZone = useTimeZone();
  const [state, setState] = useQueryStates(PARAMS, { history: "push" });
  const applied: Draft = Object.fromEntries(PAYMENT_FILTER_KEYS.map((k) => [k, state[k] ?? ""])) as Draft;
  const [draft, setDraft] = useState<Draft>(applied);
  const appliedKey = JSON.stringify(applied);
  // Back/forward or a shared link changed the URL: the form shows what is applied (state adjusted while rendering).
  const [shownKey, setShownKey] = useState(appliedKey);
  if (shownKey !== appliedKey) {
    setShownKey(appliedKey);
    setDraft(applied);
  }
  const filtered = PAYMENT_FILTER_KEYS.some((k) => applied[k] !== "");

  const input = {
    ...Object.fromEntries(PAYMENT_FILTER_KEYS.flatMap((k) => (applied[k] ? [[k, applied[k]]] : []))),
    sort: state.sort,
    dir: state.dir,
    cursor: state.cursor ?? undefined,
    limit: PAYMENT_LIST_PAGE_DEFAULT,
  };
  const list = useQuery({ ...trpc.payments.list.queryOptions(input as Parameters<typeof trpc.payments.list.queryOptions>[0]), placeholderData: keepPreviousData, retry: false });
  const fieldErrors = (list.error?.data as { zodError?: { fieldErrors?: Record<string, string[] | undefined> } | null } | undefined)?.zodError?.fieldErrors ?? {};
  const fieldError = (k: string) => fieldErrors[k]?.[0] ?? null;

  const apply = (next: Draft) => {
    const values = Object.fromEntries(PAYMENT_FILTER_KEYS.map((k) => [k, next[k].trim() || null]));
    void setState({ ...(values as Partial<typeof state>), cursor: null });
  };
  const change = (k: FilterKey, value: string, now = false) => {
    const next = { ...draft, [k]: value };
    setDraft(next);
    if (now) apply(next);
  };
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    apply(draft);
  };
  const clear = () => {
    setDraft(emptyDraft());
    void setState({ ...Object.fromEntries(PAYMENT_FILTER_KEYS.map((k) => [k, null])), cursor: null });
  };

  const sorting: SortingState = [{ id: state.sort, desc: state.dir === "desc" }];
  const onSortingChange = (updater: SortingState | ((old: SortingState) => SortingState)) => {
    const next = typeof updater === "function" ? updater(sorting) : updater;
    const first = next[0];
    // Removing the sort (a third click) goes back to the default: newest first.
    void setState({ sort: first ? (first.id as (typeof PAYMENT_SORTS)[number]) : "created", dir: first ? (first.desc ? "desc" : "asc") : "desc", cursor: null });
  };

  const exportCsv = () => {
    const params = new URLSearchParams(Object.entries(input).flatMap(([k, v]) => (PAYMENT_FILTER_KEYS.includes(k as FilterKey) || k === "sort" || k === "dir") && v ? [[k, String(v)]] : []));
    const a = document.createElement("a");
    a.href = `/api/dashboard/payments/export?${params}`;
    a.download = "";
    document.body.append(a);
    a.click();
    a.remove();
  };

  const error = list.error ? { message: Object.keys(fieldErrors).length > 0 ? "Some filters are not valid: see the messages above." : list.error.message } : null;

  return (
    <div className="flex flex-col gap-4">
      <form onSubmit={onSubmit} className="flex flex-col gap-3 rounded-lg border border-slate-200 bg-white p-4" aria-label="Payment filters" role="search">
        <div className="grid grid-cols-2 gap-3 lg:grid-cols-4">
          <Field label="Search" htmlFor="pf-q" hint="A payment order id, checkout id (chk_…) or buyer email, exactly." error={fieldError("q")} className="col-span-2">
            <Input id="pf-q" type="search" maxLength={PAYMENT_SEARCH_MAX} value={draft.q} onChange={(e) => change("q", e.target.value)} aria-describedby="pf-q-hint pf-q-error" aria-invalid={fieldError("q") ? true : undefined} autoComplete="off" />
          </Field>
          <Field label="Status" htmlFor="pf-status" error={fieldError("status")}>
            <Select id="pf-status" value={draft.status} onChange={(e) => change("status", e.target.value, true)}>
              <option value="">Any status</option>
              {PAYMENT_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {STATUS_LABELS[s]}
                </option>
              ))}
            </Select>
          </Field>
          <Field label="PSP" htmlFor="pf-psp" error={fieldError("psp")}>
            <Select id="pf-psp" value={draft.psp} onChange={(e) => change("psp", e.target.value, true)}>
              <option value="">Any PSP</option>
              {PAYMENT_PSPS.map((p) => (
                <option key={p} value={p}>
                  {pspLabel(p)}
                </option>
              ))}
            </Select>
          </Field>
          <Field label="Seller" htmlFor="pf-seller" hint="The seller's reference." error={fieldError("seller")}>
            <Input id="pf-seller" maxLength={100} value={draft.seller} onChange={(e) => change("seller", e.target.value)} aria-describedby="pf-seller-hint pf-seller-error" autoComplete="off" />
          </Field>
          <Field label="Currency" htmlFor="pf-currency" error={fieldError("currency")}>
            <Select id="pf-currency" value={draft.currency} onChange={(e) => change("currency", e.target.value, true)}>
              <option value="">Any currency</option>
              {CURRENCY_CODES.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </Select>
          </Field>
          <Field label="Minimum amount" htmlFor="pf-amount-min" hint={draft.currency ? `In ${draft.currency}, e.g. 1250.50` : "Choose a currency first."} error={fieldError("amountMin")}>
            <Input id="pf-amount-min" inputMode="decimal" maxLength={32} disabled={!draft.currency && !draft.amountMin} value={draft.amountMin} onChange={(e) => change("amountMin", e.target.value)} aria-describedby="pf-amount-min-hint pf-amount-min-error" aria-invalid={fieldError("amountMin") ? true : undefined} autoComplete="off" />
          </Field>
          <Field label="Maximum amount" htmlFor="pf-amount-max" hint={draft.currency ? `In ${draft.currency}` : "Choose a currency first."} error={fieldError("amountMax")}>
            <Input id="pf-amount-max" inputMode="decimal" maxLength={32} disabled={!draft.currency && !draft.amountMax} value={draft.amountMax} onChange={(e) => change("amountMax", e.target.value)} aria-describedby="pf-amount-max-hint pf-amount-max-error" aria-invalid={fieldError("amountMax") ? true : undefined} autoComplete="off" />
          </Field>
          <Field label="From" htmlFor="pf-from" hint={`Dates in ${timeZone}.`} error={fieldError("from")}>
            <Input id="pf-from" type={localInputType(draft.from)} value={draft.from} onChange={(e) => change("from", e.target.value)} aria-describedby="pf-from-hint pf-from-error" aria-invalid={fieldError("from") ? true : undefined} />
          </Field>
          <Field label="To" htmlFor="pf-to" hint="Includes that whole day." error={fieldError("to")}>
            <Input id="pf-to" type={localInputType(draft.to)} value={draft.to} onChange={(e) => change("to", e.target.value)} aria-describedby="pf-to-hint pf-to-error" aria-invalid={fieldError("to") ? true : undefined} />
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
          <Button size="sm" className="ml-auto" onClick={exportCsv} disabled={Boolean(list.error)}>
            <Download className="size-4" aria-hidden />
            Export CSV
          </Button>
        </div>
      </form>

      <DataTable
        columns={COLUMNS}
        data={list.error ? undefined : list.data?.items}
        getRowId={(o) => o.id}
        caption="Payments"
        loading={list.isPending}
        error={error}
        empty={
          filtered
            ? {
                title: "No payments match these filters",
                description: "Change or clear the filters to see more payments.",
                action: (
                  <Button size="sm" onClick={clear}>
                    Clear filters
                  </Button>
                ),
              }
            : { title: "No payments yet", description: "Payments appear here as soon as your integration creates checkouts." }
        }
        sorting={sorting}
        onSortingChange={onSortingChange}
        pagination={{
          // Going back from an empty page past the end leads to the first page (it has no prevCursor).
          hasPrevious: Boolean(list.data?.prevCursor) || (Boolean(state.cursor) && list.data?.items.length === 0),
          hasNext: Boolean(list.data?.nextCursor),
          onPrevious: () => void setState({ cursor: list.data?.prevCursor ?? null }),
          onNext: () => {
            if (list.data?.nextCursor) void setState({ cursor: list.data.nextCursor });
          },
        }}
        rowTestId="payment-row"
        rowProps={(o) => ({ "data-payment-order-id": o.payment_order_id, "data-status": o.status })}
        rowHref={(o) => `/dashboard/payments/${encodeURIComponent(o.payment_order_id)}`}
      />
    </div>
  );
}
