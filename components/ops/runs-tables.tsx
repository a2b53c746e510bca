"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { Badge, type BadgeTone } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { DataTable, type ColumnDef } from "@/components/ui/data-table";
import { Time } from "@/components/ui/time";

// The tables of /ops/runs: runs, dead letters, and one run's steps and attempts. The page (a server component)
// reads the pages; these render them and move between pages through the URL (prevHref / nextHref).

export interface RunRow {
  id: string;
  functionId: string;
  status: string;
  eventName: string;
  error: Record<string, unknown> | null;
  createdAt: Date;
  replayOf: string | null;
  attempts: number;
  checkoutId: string | null;
}

export interface DeadLetterRow {
  runId: string;
  functionId: string;
  error: Record<string, unknown>;
  failedAt: Date;
  eventName: string;
  checkoutId: string | null;
  replayedRunId: string | null;
}

export interface Paging {
  prevHref: string | null;
  nextHref: string | null;
}

export function errorText(e: unknown): string {
  if (!e || typeof e !== "object") return "";
  const r = e as { name?: string; message?: string };
  return [r.name, r.message].filter(Boolean).join(": ");
}

const TONE: Record<string, BadgeTone> = { completed: "success", failed: "danger", running: "info", cancelled: "warning" };
const runLink = (id: string) => `/ops/runs?run=${encodeURIComponent(id)}`;

function PaymentLink({ checkoutId }: { checkoutId: string | null }) {
  if (!checkoutId) return <span className="text-slate-600">—</span>;
  return (
    <Link className="font-mono text-xs break-all underline" href={`/ops/payments/${encodeURIComponent(checkoutId)}`} data-testid="run-payment-link">
      {checkoutId}
    </Link>
  );
}

function usePaging(paging: Paging) {
  const router = useRouter();
  return {
    hasPrevious: Boolean(paging.prevHref),
    hasNext: Boolean(paging.nextHref),
    onPrevious: () => paging.prevHref && router.push(paging.prevHref),
    onNext: () => paging.nextHref && router.push(paging.nextHref),
  };
}

const runColumns: ColumnDef<RunRow, unknown>[] = [
  {
    id: "run",
    header: "Run",
    cell: ({ row }) => (
      <Link className="font-mono text-xs break-all underline" href={runLink(row.original.id)}>
        {row.original.id}
      </Link>
    ),
  },
  { id: "function", header: "Function", meta: { priority: "low" }, cell: ({ row }) => <span className="wrap-break-word">{row.original.functionId}</span> },
  { id: "event", header: "Event", cell: ({ row }) => <span className="wrap-break-word">{row.original.eventName}</span> },
  {
    id: "status",
    header: "Status",
    cell: ({ row }) => (
      <Badge tone={TONE[row.original.status] ?? "neutral"} data-status={row.original.status}>
        {row.original.status}
        {row.original.replayOf ? " (replay)" : ""}
      </Badge>
    ),
  },
  { id: "payment", header: "Payment", cell: ({ row }) => <PaymentLink checkoutId={row.original.checkoutId} /> },
  { id: "attempts", header: "Attempts", meta: { align: "right", priority: "low" }, cell: ({ row }) => row.original.attempts },
  { id: "started", header: "Started", meta: { priority: "low" }, cell: ({ row }) => <Time value={row.original.createdAt} className="whitespace-nowrap" /> },
  { id: "error", header: "Error", meta: { priority: "low" }, cell: ({ row }) => <span className="break-all text-red-700">{errorText(row.original.error)}</span> },
];

export function RunsTable({ rows, paging, searched }: { rows: RunRow[]; paging: Paging; searched: boolean }) {
  const pagination = usePaging(paging);
  return (
    <DataTable<RunRow>
      caption="Runs"
      columns={runColumns}
      data={rows}
      getRowId={(r) => r.id}
      rowTestId="run-row"
      rowProps={(r) => ({ "data-run-id": r.id, "data-checkout-id": r.checkoutId ?? undefined })}
      empty={searched ? { title: "No runs match.", description: "Search by a run id, a payment order id, a checkout id, an attempt id or a PSP reference." } : { title: "No runs yet." }}
      pagination={pagination}
    />
  );
}

export function DeadLettersTable({ rows, paging, replayAction }: { rows: DeadLetterRow[]; paging: Paging; replayAction: ((formData: FormData) => Promise<void>) | null }) {
  const pagination = usePaging(paging);
  const columns: ColumnDef<DeadLetterRow, unknown>[] = [
    {
      id: "run",
      header: "Run",
      cell: ({ row }) => (
        <Link className="font-mono text-xs break-all underline" href={runLink(row.original.runId)}>
          {row.original.runId}
        </Link>
      ),
    },
    { id: "function", header: "Function", meta: { priority: "low" }, cell: ({ row }) => <span className="wrap-break-word">{row.original.functionId}</span> },
    { id: "payment", header: "Payment", cell: ({ row }) => <PaymentLink checkoutId={row.original.checkoutId} /> },
    { id: "error", header: "Error", cell: ({ row }) => <span className="break-all text-red-700">{errorText(row.original.error)}</span> },
    { id: "failed", header: "Failed at", meta: { priority: "low" }, cell: ({ row }) => <Time value={row.original.failedAt} className="whitespace-nowrap" /> },
    ...(replayAction
      ? [
          {
            id: "actions",
            header: () => null,
            meta: { srLabel: "Actions" },
            cell: ({ row }) => (
              <form action={replayAction}>
                <input type="hidden" name="runId" value={row.original.runId} />
                <Button type="submit" size="sm">
                  Replay
                </Button>
              </form>
            ),
          } satisfies ColumnDef<DeadLetterRow, unknown>,
        ]
      : []),
  ];
  return (
    <DataTable<DeadLetterRow>
      caption="Dead letters"
      columns={columns}
      data={rows}
      getRowId={(r) => r.runId}
      rowTestId="dead-letter-row"
      empty={{ title: "No dead letters.", description: "Runs that ran out of retries appear here until replayed." }}
      pagination={pagination}
    />
  );
}

export interface StepRow {
  stepId: string;
  name: string | null;
  op: string;
  status: string;
  result: Record<string, unknown> | null;
}
export interface AttemptRow {
  id: number;
  attempt: number;
  outcome: string;
  statusCode: number | null;
  durationMs: number;
  error: unknown;
  at: Date;
}

const stepColumns: ColumnDef<StepRow, unknown>[] = [
  { id: "step", header: "Step", cell: ({ row }) => row.original.name ?? <span className="font-mono text-xs">{row.original.stepId.slice(0, 12)}</span> },
  { id: "op", header: "Op", meta: { priority: "low" }, cell: ({ row }) => row.original.op },
  { id: "status", header: "Status", cell: ({ row }) => row.original.status },
  { id: "result", header: "Result / error", meta: { priority: "low" }, cell: ({ row }) => <span className="font-mono text-xs break-all">{row.original.result ? JSON.stringify(row.original.result).slice(0, 300) : ""}</span> },
];
const attemptColumns: ColumnDef<AttemptRow, unknown>[] = [
  { id: "n", header: "#", meta: { align: "right" }, cell: ({ row }) => row.original.attempt },
  { id: "outcome", header: "Outcome", cell: ({ row }) => row.original.outcome },
  { id: "http", header: "HTTP", meta: { align: "right", priority: "low" }, cell: ({ row }) => row.original.statusCode ?? "—" },
  { id: "ms", header: "ms", meta: { align: "right", priority: "low" }, cell: ({ row }) => row.original.durationMs },
  { id: "at", header: "At", meta: { priority: "low" }, cell: ({ row }) => <Time value={row.original.at} className="whitespace-nowrap" /> },
  { id: "error", header: "Error", cell: ({ row }) => <span className="break-all text-red-700">{errorText(row.original.error)}</span> },
];

export function RunStepsTables({ steps, attempts }: { steps: StepRow[]; attempts: AttemptRow[] }) {
  return (
    <div className="grid gap-4 md:grid-cols-2">
      <DataTable<StepRow> caption="Steps" captionVisible columns={stepColumns} data={steps} getRowId={(s) => s.stepId} empty={{ title: "No steps yet." }} />
      <DataTable<AttemptRow> caption="Attempts" captionVisible columns={attemptColumns} data={attempts} getRowId={(a) => String(a.id)} empty={{ title: "No attempts yet." }} />
    </div>
  );
}
