"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { parseAsString, parseAsStringLiteral, useQueryStates } from "nuqs";
import { useState, type FormEvent } from "react";
import { useTRPC } from "@/components/trpc/react";
import { Button } from "@/components/ui/button";
import { DataTable, type ColumnDef } from "@/components/ui/data-table";
import { Field, Input, Select } from "@/components/ui/field";
import { Time } from "@/components/ui/time";
import { AUDIT_ACTOR_MAX, AUDIT_ID_MAX } from "@/server/audit/list-audit-limits";

// The ops audit log (/ops/audit): every audited action across merchants, newest first. Filters and the page cursor
// live in the URL (nuqs), so a link or Back shows the same page. Times are UTC, as everywhere in the ops console.

type Row = {
  id: string;
  createdAt: Date;
  action: string;
  actorEmail: string | null;
  actorUserId: string | null;
  merchantId: string | null;
  merchantName: string | null;
  targetType: string;
  targetId: string;
  data: Record<string, unknown>;
};

const PARAMS = {
  actor: parseAsString,
  action: parseAsString,
  merchant: parseAsString,
  target: parseAsString,
  from: parseAsString,
  to: parseAsString,
  cursor: parseAsString,
  dir: parseAsStringLiteral(["next", "prev"] as const),
};

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const opt = (v: string | null, max: number) => (v && v.trim() ? v.trim().slice(0, max) : undefined);

function DataCell({ data }: { data: Record<string, unknown> }) {
  const keys = Object.keys(data);
  if (keys.length === 0) return <span className="text-slate-600">—</span>;
  return <pre className="max-w-xl overflow-x-auto font-mono text-xs break-all whitespace-pre-wrap text-slate-800">{JSON.stringify(data, null, 2)}</pre>;
}

const columns: ColumnDef<Row, unknown>[] = [
  { id: "at", header: "Time (UTC)", cell: ({ row }) => <Time value={row.original.createdAt} className="whitespace-nowrap" /> },
  { id: "action", header: "Action", cell: ({ row }) => <span className="font-mono text-xs" data-action={row.original.action}>{row.original.action}</span> },
  {
    id: "actor",
    header: "Actor",
    cell: ({ row }) => (row.original.actorEmail ? <span className="break-all">{row.original.actorEmail}</span> : <span className="text-slate-600">{row.original.actorUserId ? row.original.actorUserId : "System"}</span>),
  },
  {
    id: "merchant",
    header: "Merchant",
    meta: { priority: "low" },
    cell: ({ row }) =>
      row.original.merchantId ? (
        <Link className="underline" href={`/ops/merchants/${encodeURIComponent(row.original.merchantId)}`}>
          {row.original.merchantName ?? row.original.merchantId}
        </Link>
      ) : (
        <span className="text-slate-600">Platform</span>
      ),
  },
  {
    id: "target",
    header: "Target",
    cell: ({ row }) => (
      <span className="font-mono text-xs break-all">
        {row.original.targetType}: {row.original.targetId}
      </span>
    ),
  },
  { id: "data", header: "Data", meta: { priority: "low" }, cell: ({ row }) => <DataCell data={row.original.data} /> },
];

/** `actions`: AUDIT_ACTIONS, passed by the page (the server module that defines them is not for the browser). */
export function AuditLogConsole({ actions }: { actions: readonly string[] }) {
  const trpc = useTRPC();
  const [params, setParams] = useQueryStates(PARAMS, { history: "push" });
  const filters = {
    actor: opt(params.actor, AUDIT_ACTOR_MAX),
    action: params.action && actions.includes(params.action) ? (params.action as never) : undefined,
    merchantId: opt(params.merchant, 64),
    targetId: opt(params.target, AUDIT_ID_MAX),
    from: params.from && DAY.test(params.from) ? params.from : undefined,
    to: params.to && DAY.test(params.to) ? params.to : undefined,
  };
  const query = useQuery(trpc.ops.auditLog.queryOptions({ ...filters, cursor: params.cursor ?? undefined, direction: params.dir ?? "next" }));
  const [draft, setDraft] = useState({
    actor: params.actor ?? "",
    action: params.action ?? "",
    merchant: params.merchant ?? "",
    target: params.target ?? "",
    from: params.from ?? "",
    to: params.to ?? "",
  });
  const filtered = Object.values(filters).some(Boolean);

  const apply = (e: FormEvent) => {
    e.preventDefault();
    const v = (s: string) => (s.trim() ? s.trim() : null);
    void setParams({
      actor: v(draft.actor),
      action: draft.action || null,
      merchant: v(draft.merchant),
      target: v(draft.target),
      from: v(draft.from),
      to: v(draft.to),
      cursor: null,
      dir: null,
    });
  };
  const clear = () => {
    setDraft({ actor: "", action: "", merchant: "", target: "", from: "", to: "" });
    void setParams({ actor: null, action: null, merchant: null, target: null, from: null, to: null, cursor: null, dir: null });
  };
  const page = query.data;
  const fieldError = query.error?.data?.zodError?.fieldErrors;

  return (
    <div className="flex flex-col gap-4">
      <form onSubmit={apply} aria-label="Filter the audit log" className="grid gap-3 rounded-lg border border-slate-200 bg-white p-4 sm:grid-cols-2 lg:grid-cols-4">
        <Field label="Actor email" htmlFor="audit-actor" hint="Part of the email">
          <Input id="audit-actor" type="search" maxLength={AUDIT_ACTOR_MAX} value={draft.actor} onChange={(e) => setDraft({ ...draft, actor: e.target.value })} />
        </Field>
        <Field label="Action" htmlFor="audit-action">
          <Select id="audit-action" value={draft.action} onChange={(e) => setDraft({ ...draft, action: e.target.value })}>
            <option value="">All actions</option>
            {actions.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Merchant id" htmlFor="audit-merchant">
          <Input id="audit-merchant" maxLength={64} value={draft.merchant} onChange={(e) => setDraft({ ...draft, merchant: e.target.value })} placeholder="mer_…" />
        </Field>
        <Field label="Target id" htmlFor="audit-target">
          <Input id="audit-target" maxLength={AUDIT_ID_MAX} value={draft.target} onChange={(e) => setDraft({ ...draft, target: e.target.value })} placeholder="chk_…, key_…, exc_…" />
        </Field>
        <Field label="From (UTC day)" htmlFor="audit-from" error={fieldError?.from?.[0]}>
          <Input id="audit-from" type="date" value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
        </Field>
        <Field label="To (UTC day, included)" htmlFor="audit-to" error={fieldError?.to?.[0]}>
          <Input id="audit-to" type="date" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
        </Field>
        <div className="flex items-end gap-2 sm:col-span-2">
          <Button type="submit" variant="primary">
            Filter
          </Button>
          {filtered ? (
            <Button variant="ghost" onClick={clear}>
              Clear
            </Button>
          ) : null}
        </div>
      </form>
      <DataTable<Row>
        caption="Audit log"
        columns={columns}
        data={page?.items}
        getRowId={(r) => r.id}
        loading={query.isLoading}
        error={query.error && !fieldError ? { message: query.error.message } : null}
        rowTestId="audit-row"
        rowProps={(r) => ({ "data-action": r.action, "data-target-id": r.targetId })}
        empty={filtered ? { title: "No audit entries match these filters.", description: "Widen the dates or clear a filter." } : { title: "Nothing has been audited yet." }}
        pagination={{
          hasPrevious: Boolean(page?.prevCursor),
          hasNext: Boolean(page?.nextCursor),
          onPrevious: () => void setParams({ cursor: page?.prevCursor ?? null, dir: "prev" }),
          onNext: () => void setParams({ cursor: page?.nextCursor ?? null, dir: "next" }),
        }}
      />
    </div>
  );
}
