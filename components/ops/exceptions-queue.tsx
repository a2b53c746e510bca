"use client";

import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useMemo, useState } from "react";
import { useTRPC } from "@/components/trpc/react";
import { Button } from "@/components/ui/button";
import { DataTable, type ColumnDef } from "@/components/ui/data-table";
import { Time } from "@/components/ui/time";
import { RESOLUTION_NOTE_MAX_LENGTH } from "@/server/exceptions/limits";
import {
  DEFAULT_STATUS_FILTER,
  KIND_LABELS,
  REASON_LABELS,
  STATUS_FILTER_LABELS,
  STATUS_STYLES,
  type ExceptionItem,
  type ExceptionKind,
  type ExceptionStatus,
  type ExceptionStatusFilter,
} from "./exception-labels";

// Ops: the app's exceptions queue (/ops/exceptions). The server page reads the filters from the URL and says
// whether the local engine runs the functions (only then does a run id link to /ops/runs). This pages through
// ops.exceptions.list ("Load more"), shows one exception with its audit trail (?id=), and retries / resolves /
// ignores. On a phone each row stacks into a card, so the actions never sit off-screen.

const PAGE_SIZE = 50;
const REFETCH_MS = 60_000;

export interface ExceptionFilters {
  status: ExceptionStatusFilter;
  kind?: ExceptionKind;
  search?: string;
}

/** The page's URL with these filters (and an exception opened, or none). */
function pageHref(filters: ExceptionFilters, id?: string): string {
  const q = new URLSearchParams();
  if (filters.status !== DEFAULT_STATUS_FILTER) q.set("status", filters.status);
  if (filters.kind) q.set("kind", filters.kind);
  if (filters.search) q.set("q", filters.search);
  if (id) q.set("id", id);
  const s = q.toString();
  return s ? `/ops/exceptions?${s}` : "/ops/exceptions";
}

function emptyText(f: ExceptionFilters): string {
  if (!f.kind && !f.search) {
    if (f.status === "all") return "No exceptions yet.";
    return `No ${STATUS_FILTER_LABELS[f.status].toLowerCase()} exceptions.`;
  }
  const parts = [`status ${STATUS_FILTER_LABELS[f.status].toLowerCase()}`];
  if (f.kind) parts.push(`kind ${KIND_LABELS[f.kind].toLowerCase()}`);
  if (f.search) parts.push(`search “${f.search}”`);
  return `No exceptions match (${parts.join(", ")}).`;
}

export function ExceptionStatusBadge({ status }: { status: ExceptionStatus }) {
  return (
    <span className={`inline-flex rounded-md px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${STATUS_STYLES[status]}`} data-status={status}>
      {status}
    </span>
  );
}

function RunRef({ runId, functionId, localEngine }: { runId: string | null; functionId: string | null; localEngine: boolean }) {
  if (!runId) return <span className="text-slate-600">{functionId ?? "—"}</span>;
  return (
    <span className="flex flex-col">
      {localEngine ? (
        <Link className="font-mono text-xs break-all underline" href={`/ops/runs?run=${encodeURIComponent(runId)}`}>
          {runId}
        </Link>
      ) : (
        <span className="font-mono text-xs break-all" title="This run is in Inngest's dashboard">
          {runId}
        </span>
      )}
      {functionId ? <span className="text-xs text-slate-600">{functionId}</span> : null}
    </span>
  );
}

type Flash = { kind: "ok" | "error"; text: string; eventId?: string };

/** Retry (with a confirmation), and Resolve / Ignore with a required note. */
function ExceptionActions({ item, onFlash }: { item: ExceptionItem; onFlash: (f: Flash) => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const router = useRouter();
  const [mode, setMode] = useState<null | "retry" | "resolved" | "ignored">(null);
  const [note, setNote] = useState("");
  const [noteError, setNoteError] = useState<string | null>(null);
  const done = async () => {
    setMode(null);
    setNote("");
    setNoteError(null);
    await qc.invalidateQueries(trpc.ops.exceptions.pathFilter());
    router.refresh(); // the nav badge's open count (server layout)
  };
  const retry = useMutation(
    trpc.ops.exceptions.retry.mutationOptions({
      onSuccess: async (r) => {
        onFlash({ kind: "ok", text: `Retry queued for ${item.id}: outbox event`, eventId: r.eventId });
        await done();
      },
      // A refusal may have changed the row (a subject that reached its outcome is resolved instead): reload.
      onError: async (e) => {
        onFlash({ kind: "error", text: e.message });
        await done();
      },
    }),
  );
  const resolve = useMutation(
    trpc.ops.exceptions.resolve.mutationOptions({
      onSuccess: async (_r, v) => {
        onFlash({ kind: "ok", text: `${v.as === "ignored" ? "Ignored" : "Resolved"} ${item.id}.` });
        await done();
      },
      onError: (e) => setNoteError(e.data?.zodError?.fieldErrors.note?.[0] ?? e.message),
    }),
  );
  const active = item.status === "open" || item.status === "retrying";
  if (!active) return null;
  const canRetry = item.retryEvent !== null;
  const btn = "rounded-md border border-slate-300 bg-white px-2 py-1 text-xs hover:bg-slate-50 disabled:opacity-50";

  if (mode === "retry" && item.retryEvent) {
    return (
      <div className="flex flex-col gap-2" role="group" aria-label={`Retry ${item.id}`}>
        <p className="text-xs text-slate-700">
          Re-emit <span className="font-mono">{item.retryEvent.name}</span> through the outbox?
        </p>
        <div className="flex flex-wrap gap-2">
          <button type="button" className="rounded-md bg-slate-900 px-2 py-1 text-xs text-white disabled:opacity-50" disabled={retry.isPending} onClick={() => retry.mutate({ id: item.id, expectedRetryCount: item.retryCount })}>
            Confirm retry
          </button>
          <button type="button" className={btn} onClick={() => setMode(null)}>
            Cancel
          </button>
        </div>
      </div>
    );
  }
  if (mode === "resolved" || mode === "ignored") {
    const as = mode;
    const noteId = `exception-note-${item.id}`;
    return (
      <form
        className="flex flex-col gap-2"
        aria-label={`${as === "ignored" ? "Ignore" : "Resolve"} ${item.id}`}
        onSubmit={(e) => {
          e.preventDefault();
          if (!note.trim()) {
            setNoteError("Enter a note: what was done, or why it needs nothing.");
            return;
          }
          resolve.mutate({ id: item.id, note: note.trim(), as });
        }}
      >
        <label className="text-xs text-slate-700" htmlFor={noteId}>
          Note (required)
        </label>
        <textarea
          id={noteId}
          rows={2}
          maxLength={RESOLUTION_NOTE_MAX_LENGTH}
          className="w-full min-w-0 rounded-md border border-slate-300 px-2 py-1 text-sm lg:min-w-56"
          value={note}
          aria-invalid={noteError ? true : undefined}
          aria-describedby={noteError ? `${noteId}-error` : undefined}
          onChange={(e) => setNote(e.target.value)}
        />
        {noteError ? (
          <p id={`${noteId}-error`} role="alert" className="text-xs text-red-700">
            {noteError}
          </p>
        ) : null}
        <div className="flex flex-wrap gap-2">
          <button type="submit" className="rounded-md bg-slate-900 px-2 py-1 text-xs text-white disabled:opacity-50" disabled={resolve.isPending}>
            {as === "ignored" ? "Ignore" : "Resolve"} with note
          </button>
          <button type="button" className={btn} onClick={() => (setMode(null), setNoteError(null))}>
            Cancel
          </button>
        </div>
      </form>
    );
  }
  return (
    <div className="flex flex-wrap gap-2">
      {canRetry ? (
        <button type="button" className={btn} onClick={() => setMode("retry")}>
          Retry
        </button>
      ) : null}
      <button type="button" className={btn} onClick={() => setMode("resolved")}>
        Resolve
      </button>
      <button type="button" className={btn} onClick={() => setMode("ignored")}>
        Ignore
      </button>
    </div>
  );
}

function FlashMessage({ flash }: { flash: Flash | null }) {
  return (
    <div role="status" aria-live="polite" className="empty:hidden">
      {flash ? (
        <p className={`rounded-md border px-3 py-2 text-sm ${flash.kind === "ok" ? "border-green-200 bg-green-50 text-green-900" : "border-red-200 bg-red-50 text-red-800"}`} data-testid="exception-flash">
          {flash.text}
          {flash.eventId ? (
            <>
              {" "}
              <code className="font-mono text-xs break-all" data-testid="retry-event-id">
                {flash.eventId}
              </code>
            </>
          ) : null}
        </p>
      ) : null}
    </div>
  );
}

/** Shown before a cell's value when rows stack (below lg), where the header row is hidden. */
function CellLabel({ children }: { children: string }) {
  return <span className="mr-1 text-xs text-slate-600 lg:hidden">{children}:</span>;
}

/**
 * The queue's columns. Below lg the table's rows stack into cards (STACK_BELOW_LG): every cell is then a line of its
 * own, so the actions stay on a phone's screen instead of scrolling off to the right.
 */
function exceptionColumns(filters: ExceptionFilters, localEngine: boolean, onFlash: (f: Flash) => void): ColumnDef<ExceptionItem, unknown>[] {
  return [
    {
      id: "subject",
      header: "Kind · subject",
      cell: ({ row: { original: item } }) => (
        <div className="lg:min-w-40">
          <span className="font-medium">{KIND_LABELS[item.kind]}</span>
          <span className="block font-mono text-xs break-all text-slate-600">
            {item.subjectType} {item.subjectId}
          </span>
          {item.merchantId ? (
            <Link className="block font-mono text-xs text-slate-600 underline" href={`/ops/merchants/${encodeURIComponent(item.merchantId)}`}>
              {item.merchantId}
            </Link>
          ) : null}
        </div>
      ),
    },
    {
      id: "reason",
      header: "Reason · message",
      cell: ({ row: { original: item } }) => (
        <div className="lg:max-w-md">
          <span className="font-medium">{REASON_LABELS[item.reason]}</span>
          {item.code ? <span className="ml-2 font-mono text-xs text-slate-600">{item.code}</span> : null}
          <span className="line-clamp-3 text-red-700 wrap-anywhere" title={item.message}>
            {item.message}
          </span>
        </div>
      ),
    },
    {
      id: "seen",
      header: "Seen · first / last",
      cell: ({ row: { original: item } }) => (
        <div className="text-xs whitespace-nowrap text-slate-600">
          <span className="block text-sm text-slate-900 tabular-nums">
            <CellLabel>Occurrences</CellLabel>
            {item.occurrences}×{item.retryCount ? <span className="text-xs text-slate-600"> · {item.retryCount} retried</span> : null}
          </span>
          <span className="block">
            <CellLabel>First</CellLabel>
            <Time value={item.firstSeenAt} />
          </span>
          <span className="block">
            <CellLabel>Last</CellLabel>
            <Time value={item.lastSeenAt} />
          </span>
        </div>
      ),
    },
    {
      id: "run",
      header: "Run",
      cell: ({ row: { original: item } }) => (
        <div className="lg:min-w-32">
          <CellLabel>Run</CellLabel>
          <RunRef runId={item.runId} functionId={item.functionId} localEngine={localEngine} />
        </div>
      ),
    },
    { id: "status", header: "Status", cell: ({ row: { original: item } }) => <ExceptionStatusBadge status={item.status} /> },
    {
      id: "actions",
      header: "Actions",
      cell: ({ row: { original: item } }) => (
        <div className="flex flex-col gap-2 lg:min-w-56">
          <Link className="text-xs underline" href={pageHref(filters, item.id)} scroll={false}>
            Details
          </Link>
          <ExceptionActions item={item} onFlash={onFlash} />
        </div>
      ),
    },
  ];
}

/** Rows stack into cards below lg (the header row hidden, each cell a line), as the queue did before the shared table. */
const STACK_BELOW_LG = "max-lg:[&_thead]:hidden max-lg:[&_tr]:flex max-lg:[&_tr]:flex-col max-lg:[&_tr]:py-2 max-lg:[&_td]:py-1";

function ExceptionDetail({ id, filters, localEngine, onFlash }: { id: string; filters: ExceptionFilters; localEngine: boolean; onFlash: (f: Flash) => void }) {
  const trpc = useTRPC();
  const detail = useQuery({ ...trpc.ops.exceptions.get.queryOptions({ id }), retry: false });
  const close = (
    <Link className="text-sm underline" href={pageHref(filters)} scroll={false}>
      Close
    </Link>
  );
  if (detail.error) {
    return (
      <section className="flex items-center justify-between gap-3 rounded-lg border border-slate-200 bg-white px-4 py-3">
        <p role="alert" className="text-sm text-red-700">
          {detail.error.message}
        </p>
        {close}
      </section>
    );
  }
  if (!detail.data) return <p className="text-sm text-slate-600">Loading…</p>;
  const { exception: x, audit } = detail.data;
  const dt = "text-slate-600";
  const dd = "min-w-0 wrap-anywhere";
  return (
    <section className="rounded-lg border border-slate-200 bg-white" aria-labelledby="exception-detail-title" data-testid="exception-detail">
      <div className="flex flex-wrap items-center justify-between gap-2 border-b border-slate-200 px-4 py-3">
        <h3 id="exception-detail-title" className="font-semibold">
          Exception <span className="font-mono text-xs break-all">{x.id}</span> · {KIND_LABELS[x.kind]} · <ExceptionStatusBadge status={x.status} />
        </h3>
        {close}
      </div>
      <div className="grid gap-4 p-4 lg:grid-cols-2">
        <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-sm">
          <dt className={dt}>Subject</dt>
          <dd className={`${dd} font-mono text-xs leading-5`}>
            {x.subjectType} {x.subjectId}
          </dd>
          <dt className={dt}>Merchant</dt>
          <dd className={`${dd} font-mono text-xs leading-5`}>{x.merchantId ?? "—"}</dd>
          <dt className={dt}>Reason</dt>
          <dd className={dd}>
            {REASON_LABELS[x.reason]}
            {x.code ? <span className="ml-2 font-mono text-xs">{x.code}</span> : null}
          </dd>
          <dt className={dt}>Message</dt>
          <dd className={`${dd} text-red-700`}>{x.message}</dd>
          <dt className={dt}>Occurrences</dt>
          <dd className={dd}>{x.occurrences}</dd>
          <dt className={dt}>First seen</dt>
          <dd className={dd}><Time value={x.firstSeenAt} /></dd>
          <dt className={dt}>Last seen</dt>
          <dd className={dd}><Time value={x.lastSeenAt} /></dd>
          <dt className={dt}>Run</dt>
          <dd className={dd}>
            <RunRef runId={x.runId} functionId={x.functionId} localEngine={localEngine} />
          </dd>
          <dt className={dt}>Retries</dt>
          <dd className={dd}>
            {x.retryCount}
            {x.retriedAt ? (
              <>
                {" "}
                (last <Time value={x.retriedAt} />)
              </>
            ) : null}
            {x.lastRetryEventId ? <span className="block font-mono text-xs break-all">{x.lastRetryEventId}</span> : null}
          </dd>
          {x.resolvedAt ? (
            <>
              <dt className={dt}>Closed</dt>
              <dd className={dd} data-testid="resolution">
                <Time value={x.resolvedAt} />
                {x.resolvedBy ? ` by ${x.resolvedBy}` : " by the janitor"}: {x.resolutionNote}
              </dd>
            </>
          ) : null}
        </dl>
        <div className="flex min-w-0 flex-col gap-3">
          <div>
            <h4 className="mb-1 text-sm font-semibold">Retry event</h4>
            {x.retryEvent ? (
              <pre className="max-h-48 overflow-auto rounded-md bg-slate-50 p-2 text-xs">{JSON.stringify(x.retryEvent, null, 2)}</pre>
            ) : (
              <p className="text-sm text-slate-600">None: re-running cannot change this outcome (reconcile or refund it, then resolve).</p>
            )}
          </div>
          <ExceptionActions item={x} onFlash={onFlash} />
        </div>
      </div>
      <div className="border-t border-slate-200 px-4 py-3">
        <h4 className="mb-2 text-sm font-semibold">Audit trail</h4>
        {audit.length === 0 ? (
          <p className="text-sm text-slate-600">No actions yet.</p>
        ) : (
          <ul className="flex flex-col gap-1 text-sm">
            {audit.map((a) => (
              <li key={a.id} className="flex flex-wrap gap-x-3">
                <span className="text-xs text-slate-600"><Time value={a.createdAt} /></span>
                <span className="font-mono text-xs">{a.action}</span>
                <span className="text-slate-600">{a.actorUserId ?? "system"}</span>
                <span className="min-w-0 font-mono text-xs break-all text-slate-600">{JSON.stringify(a.data)}</span>
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}

export function ExceptionsConsole({ filters, selectedId, localEngine }: { filters: ExceptionFilters; selectedId?: string; localEngine: boolean }) {
  const trpc = useTRPC();
  const [flash, setFlash] = useState<Flash | null>(null);
  const list = useInfiniteQuery({
    ...trpc.ops.exceptions.list.infiniteQueryOptions(
      { status: filters.status, kind: filters.kind, search: filters.search, limit: PAGE_SIZE },
      { getNextPageParam: (last) => last.nextCursor ?? undefined },
    ),
    refetchInterval: REFETCH_MS,
  });
  const items = list.data?.pages.flatMap((p) => p.items) ?? [];
  const columns = useMemo(() => exceptionColumns(filters, localEngine, setFlash), [filters, localEngine]);
  return (
    <div className="flex flex-col gap-3">
      <FlashMessage flash={flash} />
      {selectedId ? <ExceptionDetail key={selectedId} id={selectedId} filters={filters} localEngine={localEngine} onFlash={setFlash} /> : null}
      {list.error ? (
        <p role="alert" className="text-sm text-red-700">
          {list.error.message}
        </p>
      ) : null}
      <DataTable<ExceptionItem>
        caption="Exceptions"
        className={STACK_BELOW_LG}
        columns={columns}
        data={list.data ? items : undefined}
        getRowId={(item) => item.id}
        loading={list.isLoading}
        rowTestId="exception-row"
        rowProps={(item) => ({ "data-exception-id": item.id })}
        empty={{ title: "No exceptions", description: <span data-testid="exceptions-empty">{emptyText(filters)}</span> }}
      />
      {list.hasNextPage ? (
        <Button className="self-start" size="sm" disabled={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>
          {list.isFetchingNextPage ? "Loading…" : "Load more"}
        </Button>
      ) : null}
    </div>
  );
}
