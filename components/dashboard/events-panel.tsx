"use client";

import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc/react";
import { Badge, type BadgeTone } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { DataTable, type ColumnDef } from "@/components/ui/data-table";
import { Dialog } from "@/components/ui/dialog";
import { Field, Select } from "@/components/ui/field";
import { Time } from "@/components/ui/time";
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/trpc/root";

// Developers → Events: what we sent to the merchant's endpoints, newest first, each with the exact body sent and
// every delivery with every attempt (status, error, duration, the first 2 KB of the answer); admins resend.

type EventRow = inferRouterOutputs<AppRouter>["webhooks"]["listEvents"]["items"][number];
type DeliveryRow = EventRow["deliveries"][number];
type AttemptRow = DeliveryRow["attemptLog"][number];

const EVENT_TYPES = ["payment_order.succeeded", "payment_order.failed", "webhook_endpoint.test"] as const;
const PAGE_SIZE = 20;

const DELIVERY_TONE: Record<DeliveryRow["status"], BadgeTone> = { delivered: "success", pending: "info", failed: "danger" };

function summary(e: EventRow): { label: string; tone: BadgeTone } {
  if (e.deliveries.length === 0) return { label: "no endpoints", tone: "neutral" };
  const failed = e.deliveries.filter((d) => d.status === "failed").length;
  const pending = e.deliveries.filter((d) => d.status === "pending").length;
  if (failed > 0) return { label: `${failed} failed`, tone: "danger" };
  if (pending > 0) return { label: `${pending} pending`, tone: "info" };
  return { label: "delivered", tone: "success" };
}

export function EventsPanel({ canEdit }: { canEdit: boolean }) {
  const trpc = useTRPC();
  const [type, setType] = useState<(typeof EVENT_TYPES)[number] | "">("");
  const [cursors, setCursors] = useState<string[]>([]);
  const [openId, setOpenId] = useState<string | null>(null);
  const cursor = cursors.at(-1);
  const events = useQuery({
    ...trpc.webhooks.listEvents.queryOptions({ type: type || undefined, cursor, limit: PAGE_SIZE }),
    placeholderData: keepPreviousData,
    // A test event or a retry changes what is shown while the page is open.
    refetchInterval: 5_000,
  });
  const open = events.data?.items.find((e) => e.id === openId) ?? null;

  const columns: ColumnDef<EventRow, unknown>[] = [
    {
      id: "type",
      header: "Event",
      cell: ({ row }) => (
        <button type="button" className="text-left text-brand-700 underline" onClick={() => setOpenId(row.original.id)}>
          <span className="block">{row.original.type}</span>{" "}
          <span className="block font-mono text-xs text-slate-600">{row.original.id}</span>
        </button>
      ),
    },
    { id: "object", header: "Object", cell: ({ row }) => <span className="font-mono text-xs break-all">{row.original.objectId}</span>, meta: { priority: "low" } },
    { id: "created", header: "Created", cell: ({ row }) => <Time value={row.original.createdAt} />, meta: { priority: "low" } },
    {
      id: "deliveries",
      header: "Deliveries",
      cell: ({ row }) => {
        const s = summary(row.original);
        return <Badge tone={s.tone}>{s.label}</Badge>;
      },
    },
  ];

  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-wrap items-end gap-3">
        <Field label="Event type" htmlFor="events-type">
          <Select
            id="events-type"
            value={type}
            onChange={(e) => {
              setType(e.target.value as typeof type);
              setCursors([]);
            }}
          >
            <option value="">All types</option>
            {EVENT_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </Select>
        </Field>
      </div>
      <DataTable
        caption="Events sent"
        columns={columns}
        data={events.data?.items}
        getRowId={(e) => e.id}
        loading={events.isPending}
        error={events.error}
        rowTestId="event-row"
        rowProps={(e) => ({ "data-event-type": e.type })}
        empty={type ? { title: `No ${type} events`, description: "Try another event type." } : { title: "No events sent yet", description: "Events appear when a payment order succeeds or fails, or when you send a test event." }}
        pagination={{
          hasPrevious: cursors.length > 0,
          hasNext: Boolean(events.data?.nextCursor),
          onPrevious: () => setCursors((c) => c.slice(0, -1)),
          onNext: () => events.data?.nextCursor && setCursors((c) => [...c, events.data!.nextCursor!]),
          label: `Page ${cursors.length + 1}`,
        }}
      />
      <Dialog open={open !== null} onOpenChange={(o) => !o && setOpenId(null)} title={open ? `${open.type} · ${open.id}` : "Event"} wide>
        {open ? <EventDetail event={open} canEdit={canEdit} /> : null}
      </Dialog>
    </div>
  );
}

function EventDetail({ event, canEdit }: { event: EventRow; canEdit: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const resend = useMutation(
    trpc.webhooks.resendDelivery.mutationOptions({
      onSuccess: async () => {
        await qc.cancelQueries({ queryKey: trpc.webhooks.listEvents.pathKey() });
        await qc.invalidateQueries({ queryKey: trpc.webhooks.listEvents.pathKey() });
      },
    }),
  );
  return (
    <div className="flex flex-col gap-4" data-testid="event-detail">
      <section aria-labelledby="event-body-heading">
        <h3 id="event-body-heading" className="mb-1 text-sm font-semibold">
          Body sent
        </h3>
        <pre className="max-h-72 overflow-auto rounded-md bg-slate-900 p-3 text-xs text-slate-100" tabIndex={0} aria-label="Event body sent">
          {JSON.stringify(event.body, null, 2)}
        </pre>
      </section>
      <section aria-labelledby="event-deliveries-heading" className="flex flex-col gap-3">
        <h3 id="event-deliveries-heading" className="text-sm font-semibold">
          Deliveries
        </h3>
        {resend.error ? (
          <p role="alert" className="text-sm text-red-700">
            {resend.error.message}
          </p>
        ) : null}
        {event.deliveries.length === 0 ? <p className="text-sm text-slate-600">No enabled endpoint when this event was recorded.</p> : null}
        {event.deliveries.map((d) => (
          <div key={d.id} className="rounded-md border border-slate-200 p-3" data-testid="event-delivery">
            <div className="mb-2 flex flex-wrap items-center justify-between gap-2">
              <div className="min-w-0">
                <p className="font-mono text-xs break-all">{d.url}</p>
                <p className="text-xs text-slate-600">
                  <Badge tone={DELIVERY_TONE[d.status]}>{d.status}</Badge> · {d.attempts} attempt{d.attempts === 1 ? "" : "s"}
                  {d.deliveredAt ? (
                    <>
                      {" "}
                      · delivered <Time value={d.deliveredAt} />
                    </>
                  ) : null}
                </p>
              </div>
              {canEdit ? (
                <Button size="sm" disabled={resend.isPending} onClick={() => resend.mutate({ deliveryId: d.id })} aria-label={`Resend to ${d.url}`}>
                  Resend
                </Button>
              ) : null}
            </div>
            <AttemptsTable attempts={d.attemptLog} />
          </div>
        ))}
      </section>
    </div>
  );
}

const attemptColumns: ColumnDef<AttemptRow, unknown>[] = [
  { id: "no", header: "#", cell: ({ row }) => row.original.attemptNo, meta: { align: "right" } },
  { id: "at", header: "Time", cell: ({ row }) => <Time value={row.original.createdAt} /> },
  { id: "status", header: "Answer", cell: ({ row }) => (row.original.statusCode ? <Badge tone={row.original.statusCode < 300 ? "success" : "danger"}>{row.original.statusCode}</Badge> : <span className="text-red-700">{row.original.error ?? "no answer"}</span>) },
  { id: "duration", header: "Duration", cell: ({ row }) => `${row.original.durationMs} ms`, meta: { align: "right", priority: "low" } },
  {
    id: "excerpt",
    header: "Response (first 2 KB)",
    cell: ({ row }) =>
      row.original.responseExcerpt ? (
        <details>
          <summary className="cursor-pointer text-xs text-brand-700">Show</summary>
          <pre className="mt-1 max-h-40 max-w-md overflow-auto text-xs break-all whitespace-pre-wrap">{row.original.responseExcerpt}</pre>
        </details>
      ) : (
        <span className="text-xs text-slate-600">—</span>
      ),
  },
];

function AttemptsTable({ attempts }: { attempts: AttemptRow[] }) {
  return <DataTable caption="Delivery attempts" columns={attemptColumns} data={attempts} getRowId={(a) => a.id} rowTestId="delivery-attempt" empty={{ title: "Not attempted yet" }} />;
}
