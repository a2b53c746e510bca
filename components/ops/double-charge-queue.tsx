"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc/react";
import { pspLabel } from "@/components/ui/psp-label";
import { Time } from "@/components/ui/time";
import { DOUBLE_CHARGE_NOTE_MAX, DOUBLE_CHARGES_PAGE_MAX } from "@/server/payments/double-charges.schema";
import { formatDecimalMoney } from "@/components/ui/format";

// Ops: double charges owed back to buyers, oldest first. Ops refund each at the PSP by hand, then mark it
// refunded here with the PSP's refund reference (server/payments/double-charges.ts posts the ledger side).

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const QUEUE_REFETCH_MS = MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** "just now", "5 min ago", "3 h ago", "2 d ago": how long the buyer has been owed the money. */
export function ageLabel(from: Date, now: number): string {
  const ms = Math.max(0, now - from.getTime());
  if (ms < MINUTE_MS) return "just now";
  if (ms < HOUR_MS) return `${Math.floor(ms / MINUTE_MS)} min ago`;
  if (ms < DAY_MS) return `${Math.floor(ms / HOUR_MS)} h ago`;
  return `${Math.floor(ms / DAY_MS)} d ago`;
}

export function DoubleChargeQueue() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [includeRefunded, setIncludeRefunded] = useState(false);
  const queue = useQuery({ ...trpc.doubleCharges.queue.queryOptions({ includeRefunded }), refetchInterval: QUEUE_REFETCH_MS });
  const [notes, setNotes] = useState<Record<string, string>>({});
  const mark = useMutation(
    trpc.doubleCharges.markRefunded.mutationOptions({
      onSuccess: (d) => {
        setNotes((n) => ({ ...n, [d.id]: "" }));
        return qc.invalidateQueries(trpc.doubleCharges.queue.pathFilter());
      },
    }),
  );
  const failedId = mark.error ? mark.variables?.id : undefined;
  // Ages as of the last fetch (refetched every minute), so rendering stays pure.
  const now = queue.dataUpdatedAt;
  const items = queue.data ?? [];
  return (
    <div className="flex flex-col gap-3">
      <label className="flex items-center gap-2 text-sm">
        <input type="checkbox" checked={includeRefunded} onChange={(e) => setIncludeRefunded(e.target.checked)} />
        Show refunded
      </label>
      {queue.error ? (
        <p role="alert" className="text-sm text-red-700">
          {queue.error.message}
        </p>
      ) : null}
      <ul className="flex flex-col divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white">
        {items.map((d) => {
          const createdAt = new Date(d.createdAt);
          return (
            <li key={d.id} className="flex flex-col gap-2 px-4 py-3 text-sm" data-testid="double-charge-item">
              <div className="flex flex-wrap justify-between gap-2">
                <span>
                  <span className="font-medium">{d.merchantName}</span> ·{" "}
                  <span className="font-semibold tabular-nums">
                    {formatDecimalMoney(d.amount, d.currency)}
                  </span>{" "}
                  · {pspLabel(d.psp)}
                </span>
                <span className="text-slate-600">
                  Detected <Time value={createdAt} /> · <span data-testid="age">{ageLabel(createdAt, now)}</span>
                </span>
              </div>
              <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-0.5 text-slate-600 sm:grid-cols-[auto_1fr_auto_1fr_auto_1fr]">
                <dt>PSP reference</dt>
                <dd className="font-mono text-xs leading-5 break-all text-slate-900">{d.pspReference}</dd>
                <dt>Receipt</dt>
                <dd className="font-mono text-xs leading-5 break-all text-slate-900">{d.receipt ?? "—"}</dd>
                <dt>Checkout</dt>
                <dd className="font-mono text-xs leading-5 break-all text-slate-900">{d.checkoutId}</dd>
              </dl>
              {d.status === "refunded" ? (
                <p className="text-green-800" data-testid="refunded">
                  Refunded
                  {d.resolvedAt ? (
                    <>
                      {" "}
                      <Time value={d.resolvedAt} />
                    </>
                  ) : null}
                  : {d.resolutionNote}
                </p>
              ) : (
                <form
                  className="flex flex-wrap items-center gap-2"
                  onSubmit={(e) => {
                    e.preventDefault();
                    mark.mutate({ id: d.id, note: notes[d.id] ?? "" });
                  }}
                >
                  <label className="sr-only" htmlFor={`refund-note-${d.id}`}>
                    Refund reference or note
                  </label>
                  <input
                    id={`refund-note-${d.id}`}
                    placeholder="PSP refund reference or note (required)"
                    maxLength={DOUBLE_CHARGE_NOTE_MAX}
                    className="min-w-64 flex-1 rounded-md border border-slate-300 px-3 py-1"
                    value={notes[d.id] ?? ""}
                    onChange={(e) => setNotes({ ...notes, [d.id]: e.target.value })}
                  />
                  <button type="submit" className="rounded-md bg-slate-900 px-3 py-1 text-white disabled:opacity-50" disabled={mark.isPending && mark.variables?.id === d.id}>
                    Mark refunded
                  </button>
                </form>
              )}
              {failedId === d.id && mark.error ? (
                <p role="alert" className="text-sm text-red-700">
                  {mark.error.data?.zodError?.fieldErrors.note?.[0] ?? mark.error.message}
                </p>
              ) : null}
            </li>
          );
        })}
        {queue.data?.length === 0 ? (
          <li className="px-4 py-6 text-center text-sm text-slate-600">{includeRefunded ? "No double charges yet." : "No double charges await a refund."}</li>
        ) : null}
      </ul>
      {items.length >= DOUBLE_CHARGES_PAGE_MAX ? <p className="text-sm text-slate-600">Showing the oldest {DOUBLE_CHARGES_PAGE_MAX} only.</p> : null}
      {queue.isLoading ? <p className="text-sm text-slate-600">Loading…</p> : null}
    </div>
  );
}
