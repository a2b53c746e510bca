"use client";

import { flexRender, getCoreRowModel, useReactTable, type ColumnDef, type OnChangeFn, type RowData, type SortingState } from "@tanstack/react-table";
import { ArrowDown, ArrowUp, ArrowUpDown } from "lucide-react";
import { useRouter } from "next/navigation";
import { useState, type MouseEvent, type ReactNode } from "react";
import { Button } from "./button";
import { cn } from "./cn";
import { EmptyState } from "./empty-state";

declare module "@tanstack/react-table" {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface ColumnMeta<TData extends RowData, TValue> {
    /** Numbers and amounts: right-aligned. */
    align?: "right";
    /** "low": hidden on a phone (below 768 px), so the columns that matter (amount, status) stay on screen. */
    priority?: "low";
    /** Text for screen readers when the visible header is empty (an actions column). */
    srLabel?: string;
  }
}

export type { ColumnDef, SortingState } from "@tanstack/react-table";

export interface DataTablePagination {
  hasPrevious: boolean;
  hasNext: boolean;
  onPrevious: () => void;
  onNext: () => void;
  /** e.g. "Page 2" or "Showing 25"; shown between the buttons. */
  label?: ReactNode;
}

/**
 * Paging by a forward-only cursor kept in the URL: the cursors of the pages before this one (this visit) let
 * Previous walk back; from a reloaded URL Previous goes to page 1. `reset` forgets them (a filter changed).
 */
export function useCursorTrail(cursor: string | null, setCursor: (cursor: string | null) => void, nextCursor: string | null | undefined) {
  const [previous, setPrevious] = useState<(string | null)[]>([]);
  const pagination: DataTablePagination = {
    hasPrevious: Boolean(cursor),
    hasNext: Boolean(nextCursor),
    onPrevious: () => {
      setPrevious(previous.slice(0, -1));
      setCursor(previous.at(-1) ?? null);
    },
    onNext: () => {
      setPrevious([...previous, cursor]);
      setCursor(nextCursor ?? null);
    },
  };
  return { pagination, reset: () => setPrevious([]) };
}

/**
 * The one table of the dashboard and the ops console, on @tanstack/react-table. Data, sorting and paging are the
 * server's (manual): the table renders what it is given and reports sort clicks through `onSortingChange`.
 * Loading, error and empty states are part of it, so every list says the same things the same way.
 */
export function DataTable<T>(props: {
  columns: ColumnDef<T, unknown>[];
  data: T[] | undefined;
  getRowId: (row: T) => string;
  /** A visible or screen-reader caption naming the table. */
  caption: string;
  captionVisible?: boolean;
  loading?: boolean;
  error?: { message: string } | null;
  empty: { title: string; description?: ReactNode; action?: ReactNode };
  sorting?: SortingState;
  onSortingChange?: OnChangeFn<SortingState>;
  pagination?: DataTablePagination;
  /** data-testid of each body row. */
  rowTestId?: string;
  /** Extra attributes per row (data-* for tests). */
  rowProps?: (row: T) => Record<`data-${string}`, string | undefined>;
  /** A mouse click on a row (outside its links and buttons) opens this page; cells should still hold a link for keyboards. */
  rowHref?: (row: T) => string | undefined;
  className?: string;
}) {
  const router = useRouter();
  // The table instance is rebuilt per render by design (the data is the server's, already paged); nothing memoizes it.
  // eslint-disable-next-line react-hooks/incompatible-library
  const table = useReactTable<T>({
    data: props.data ?? [],
    columns: props.columns,
    getRowId: props.getRowId,
    getCoreRowModel: getCoreRowModel(),
    manualSorting: true,
    manualPagination: true,
    enableSorting: Boolean(props.onSortingChange),
    enableMultiSort: false,
    state: { sorting: props.sorting ?? [] },
    onSortingChange: props.onSortingChange,
  });
  const columnCount = table.getVisibleLeafColumns().length;
  const rows = table.getRowModel().rows;

  const onRowClick = (href: string | undefined) => (e: MouseEvent<HTMLTableRowElement>) => {
    if (!href || e.defaultPrevented) return;
    if ((e.target as HTMLElement).closest("a, button, input, select, textarea, label, [role=button]")) return;
    router.push(href);
  };

  return (
    <div className={cn("flex flex-col gap-2", props.className)}>
      <div className="relative overflow-x-auto rounded-lg border border-slate-200 bg-white" role="region" aria-label={props.caption} tabIndex={0}>
        <table className="w-full text-left text-sm" aria-busy={props.loading ? true : undefined}>
          <caption className={props.captionVisible ? "px-4 pt-3 text-left text-sm font-medium text-slate-700" : "sr-only"}>{props.caption}</caption>
          <thead className="bg-slate-50 text-slate-600">
            {table.getHeaderGroups().map((group) => (
              <tr key={group.id}>
                {group.headers.map((header) => {
                  const meta = header.column.columnDef.meta;
                  const sorted = header.column.getIsSorted();
                  const content = header.isPlaceholder ? null : flexRender(header.column.columnDef.header, header.getContext());
                  const canSort = header.column.getCanSort() && Boolean(props.onSortingChange);
                  return (
                    <th
                      key={header.id}
                      scope="col"
                      aria-sort={sorted === "asc" ? "ascending" : sorted === "desc" ? "descending" : canSort ? "none" : undefined}
                      className={cn("px-3 py-2 text-xs font-semibold tracking-wide whitespace-nowrap uppercase", meta?.align === "right" && "text-right", meta?.priority === "low" && "hidden md:table-cell")}
                    >
                      {canSort ? (
                        <button type="button" onClick={header.column.getToggleSortingHandler()} className={cn("inline-flex items-center gap-1 uppercase hover:text-slate-900", meta?.align === "right" && "flex-row-reverse")}>
                          {content}
                          {sorted === "asc" ? <ArrowUp className="size-3.5" aria-hidden /> : sorted === "desc" ? <ArrowDown className="size-3.5" aria-hidden /> : <ArrowUpDown className="size-3.5 opacity-60" aria-hidden />}
                        </button>
                      ) : (
                        content
                      )}
                      {meta?.srLabel ? <span className="sr-only">{meta.srLabel}</span> : null}
                    </th>
                  );
                })}
              </tr>
            ))}
          </thead>
          <tbody>
            {rows.map((row) => {
              const href = props.rowHref?.(row.original);
              return (
                <tr key={row.id} data-testid={props.rowTestId} {...props.rowProps?.(row.original)} onClick={href ? onRowClick(href) : undefined} className={cn("border-t border-slate-100 align-top", href && "cursor-pointer hover:bg-slate-50")}>
                  {row.getVisibleCells().map((cell) => {
                    const meta = cell.column.columnDef.meta;
                    return (
                      <td key={cell.id} className={cn("px-3 py-2", meta?.align === "right" && "text-right tabular-nums", meta?.priority === "low" && "hidden md:table-cell")}>
                        {flexRender(cell.column.columnDef.cell, cell.getContext())}
                      </td>
                    );
                  })}
                </tr>
              );
            })}
            {!props.loading && !props.error && props.data && props.data.length === 0 ? (
              <tr>
                <td colSpan={columnCount}>
                  <EmptyState title={props.empty.title} description={props.empty.description} action={props.empty.action} />
                </td>
              </tr>
            ) : null}
            {props.loading && !props.data ? (
              <tr>
                <td colSpan={columnCount} className="px-4 py-6 text-center text-sm text-slate-600" role="status">
                  Loading…
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
        {props.error ? (
          <p role="alert" className="border-t border-slate-100 px-4 py-3 text-sm text-red-700">
            {props.error.message}
          </p>
        ) : null}
      </div>
      {props.pagination && (props.pagination.hasPrevious || props.pagination.hasNext) ? (
        <nav aria-label={`${props.caption} pages`} className="flex items-center gap-2">
          <Button size="sm" onClick={props.pagination.onPrevious} disabled={!props.pagination.hasPrevious}>
            Previous
          </Button>
          {props.pagination.label ? <span className="text-sm text-slate-600">{props.pagination.label}</span> : null}
          <Button size="sm" onClick={props.pagination.onNext} disabled={!props.pagination.hasNext}>
            Next
          </Button>
        </nav>
      ) : null}
    </div>
  );
}
