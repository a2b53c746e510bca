"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { parseAsString, parseAsStringLiteral, useQueryStates } from "nuqs";
import { useState, type FormEvent, type MouseEvent } from "react";
import { useTRPC } from "@/components/trpc/react";
import { Badge, type BadgeTone } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { DataTable, useCursorTrail, type ColumnDef } from "@/components/ui/data-table";
import { Dialog } from "@/components/ui/dialog";
import { Field, Input, Select } from "@/components/ui/field";
import { Time } from "@/components/ui/time";
import type { AppRouter } from "@/server/trpc/root";

// Developers → API requests: every authenticated /api/v1 call of the last 30 days, newest first. Filters, the page
// cursor and the open request live in the URL (nuqs), so a link or Back shows the same view. A click on a row (or
// its path button, for keyboards) shows the request and response bodies as stored: secrets and card numbers
// removed, buyers' emails and phones masked (server/api-log/redact.ts).

type Row = inferRouterOutputs<AppRouter>["apiLog"]["list"]["items"][number];

const STATUS_CLASSES = ["2xx", "4xx", "5xx"] as const;
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;
const PAGE_SIZE = 25;
const PATH_MAX = 500;
const KEY_MAX = 255;

const PARAMS = {
  status: parseAsStringLiteral(STATUS_CLASSES),
  method: parseAsStringLiteral(METHODS),
  path: parseAsString,
  idem: parseAsString,
  after: parseAsString,
  request: parseAsString,
};

function statusTone(status: number): BadgeTone {
  if (status < 300) return "success";
  if (status < 500) return "warning";
  return "danger";
}

const opt = (v: string | null, max: number) => (v && v.trim() ? v.trim().slice(0, max) : undefined);

export function ApiLogPanel() {
  const trpc = useTRPC();
  const [q, setQ] = useQueryStates(PARAMS);
  const [draft, setDraft] = useState({ path: q.path ?? "", idem: q.idem ?? "" });
  const list = useQuery({
    ...trpc.apiLog.list.queryOptions({
      status: q.status ?? undefined,
      method: q.method ?? undefined,
      path: opt(q.path, PATH_MAX),
      idempotencyKey: opt(q.idem, KEY_MAX),
      cursor: q.after ?? undefined,
      limit: PAGE_SIZE,
    }),
    placeholderData: keepPreviousData,
  });
  const pages = useCursorTrail(q.after, (after) => void setQ({ after }), list.data?.nextCursor);
  const filtered = Boolean(q.status || q.method || q.path || q.idem);
  const open = (id: string) => void setQ({ request: id });

  const columns: ColumnDef<Row, unknown>[] = [
    { id: "status", header: "Status", cell: ({ row }) => <Badge tone={statusTone(row.original.status)}>{row.original.status}</Badge> },
    { id: "method", header: "Method", cell: ({ row }) => <span className="font-mono text-xs">{row.original.method}</span> },
    {
      id: "path",
      header: "Path",
      cell: ({ row }) => (
        <button type="button" className="text-left font-mono text-xs break-all text-brand-700 underline" onClick={() => open(row.original.id)} aria-label={`Show ${row.original.method} ${row.original.path}, ${row.original.status}`}>
          {row.original.path}
        </button>
      ),
    },
    { id: "idem", header: "Idempotency key", cell: ({ row }) => <span className="font-mono text-xs break-all">{row.original.idempotencyKey ?? "—"}</span>, meta: { priority: "low" } },
    { id: "error", header: "Error", cell: ({ row }) => (row.original.errorCode ? <span className="font-mono text-xs">{row.original.errorCode}</span> : "—"), meta: { priority: "low" } },
    { id: "latency", header: "Latency", cell: ({ row }) => `${row.original.latencyMs} ms`, meta: { align: "right", priority: "low" } },
    { id: "time", header: "Time", cell: ({ row }) => <Time value={row.original.createdAt} className="whitespace-nowrap" /> },
  ];

  const apply = (e: FormEvent) => {
    e.preventDefault();
    pages.reset();
    void setQ({ path: opt(draft.path, PATH_MAX) ?? null, idem: opt(draft.idem, KEY_MAX) ?? null, after: null });
  };
  // A click anywhere on a row opens it (its path button is the keyboard way).
  const onTableClick = (e: MouseEvent<HTMLDivElement>) => {
    const target = e.target as HTMLElement;
    if (target.closest("a, button, input, select, textarea, summary")) return;
    const id = target.closest("tr[data-request-row]")?.getAttribute("data-request-row");
    if (id) open(id);
  };

  return (
    <div className="flex flex-col gap-4">
      <form className="flex flex-wrap items-end gap-3" onSubmit={apply} aria-label="Filter API requests">
        <Field label="Status" htmlFor="api-log-status">
          <Select
            id="api-log-status"
            value={q.status ?? ""}
            onChange={(e) => {
              pages.reset();
              void setQ({ status: (e.target.value || null) as (typeof STATUS_CLASSES)[number] | null, after: null });
            }}
          >
            <option value="">Any</option>
            {STATUS_CLASSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Method" htmlFor="api-log-method">
          <Select
            id="api-log-method"
            value={q.method ?? ""}
            onChange={(e) => {
              pages.reset();
              void setQ({ method: (e.target.value || null) as (typeof METHODS)[number] | null, after: null });
            }}
          >
            <option value="">Any</option>
            {METHODS.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Path starts with" htmlFor="api-log-path">
          <Input id="api-log-path" value={draft.path} maxLength={PATH_MAX} placeholder="/api/v1/payments" onChange={(e) => setDraft((d) => ({ ...d, path: e.target.value }))} />
        </Field>
        <Field label="Idempotency key" htmlFor="api-log-idem">
          <Input id="api-log-idem" value={draft.idem} maxLength={KEY_MAX} onChange={(e) => setDraft((d) => ({ ...d, idem: e.target.value }))} />
        </Field>
        <Button type="submit">Apply</Button>
        {filtered ? (
          <Button
            variant="ghost"
            onClick={() => {
              pages.reset();
              setDraft({ path: "", idem: "" });
              void setQ({ status: null, method: null, path: null, idem: null, after: null });
            }}
          >
            Clear filters
          </Button>
        ) : null}
      </form>
      {/* A mouse click on a row opens it; the path button in each row is the keyboard way. */}
      <div onClick={onTableClick}>
        <DataTable
          caption="API requests"
          columns={columns}
          data={list.data?.items}
          getRowId={(r) => r.id}
          loading={list.isPending}
          error={list.error}
          rowTestId="api-request-row"
          rowProps={(r) => ({ "data-request-row": r.id, "data-status": String(r.status) })}
          empty={
            filtered
              ? { title: "No requests match these filters", description: "Change or clear the filters." }
              : { title: "No API requests yet", description: "Calls made with your API keys in the last 30 days appear here." }
          }
          pagination={pages.pagination}
        />
      </div>
      <RequestDialog id={q.request} onClose={() => void setQ({ request: null })} />
    </div>
  );
}

function Body({ label, value }: { label: string; value: unknown }) {
  return (
    <section className="flex flex-col gap-1">
      <h3 className="text-sm font-semibold">{label}</h3>
      {value === null || value === undefined ? (
        <p className="text-sm text-slate-600">No body.</p>
      ) : (
        <pre className="max-h-72 overflow-auto rounded-md bg-slate-900 p-3 text-xs break-all whitespace-pre-wrap text-slate-100" tabIndex={0} aria-label={label} data-testid={label === "Request body" ? "api-request-body" : "api-response-body"}>
          {typeof value === "string" ? value : JSON.stringify(value, null, 2)}
        </pre>
      )}
    </section>
  );
}

function RequestDialog({ id, onClose }: { id: string | null; onClose: () => void }) {
  const trpc = useTRPC();
  const detail = useQuery({ ...trpc.apiLog.get.queryOptions({ id: id ?? "" }), enabled: Boolean(id) });
  const r = detail.data;
  return (
    <Dialog open={Boolean(id)} onOpenChange={(o) => !o && onClose()} title={r ? `${r.method} ${r.path}` : "API request"} description="Bodies as stored: secrets and card numbers removed, buyers' emails and phones masked." wide>
      {detail.isPending ? <p role="status">Loading…</p> : null}
      {detail.error ? (
        <p role="alert" className="text-sm text-red-700">
          {detail.error.message}
        </p>
      ) : null}
      {r ? (
        <div className="flex flex-col gap-4" data-testid="api-request-detail">
          <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
            <dt className="text-slate-600">Status</dt>
            <dd>
              <Badge tone={statusTone(r.status)}>{r.status}</Badge> {r.errorCode ? <span className="font-mono text-xs">{r.errorCode}</span> : null}
            </dd>
            <dt className="text-slate-600">Time</dt>
            <dd>
              <Time value={r.createdAt} />
            </dd>
            <dt className="text-slate-600">Latency</dt>
            <dd>{r.latencyMs} ms</dd>
            <dt className="text-slate-600">Request id</dt>
            <dd className="font-mono text-xs break-all">{r.requestId}</dd>
            <dt className="text-slate-600">Idempotency key</dt>
            <dd className="font-mono text-xs break-all">{r.idempotencyKey ?? "—"}</dd>
            <dt className="text-slate-600">Mode</dt>
            <dd>{r.mode}</dd>
            {r.checkoutId ? (
              <>
                <dt className="text-slate-600">Checkout</dt>
                <dd className="font-mono text-xs break-all">{r.checkoutId}</dd>
              </>
            ) : null}
          </dl>
          <Body label="Request body" value={r.requestBody} />
          <Body label="Response body" value={r.responseBody} />
        </div>
      ) : null}
    </Dialog>
  );
}
