"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc/react";
import { BuyerDetailsReveal } from "./buyer-details-reveal";

export function RiskReviewQueue() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const queue = useQuery(trpc.risk.reviewQueue.queryOptions());
  const [notes, setNotes] = useState<Record<string, string>>({});
  const review = useMutation(trpc.risk.review.mutationOptions({ onSuccess: () => qc.invalidateQueries({ queryKey: trpc.risk.reviewQueue.queryKey() }) }));
  return (
    <div className="flex flex-col gap-3">
      {review.error ? <p role="alert" className="text-sm text-red-700">{review.error.data?.zodError?.fieldErrors.note?.[0] ?? review.error.message}</p> : null}
      <ul className="flex flex-col divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white">
        {queue.data?.map((c) => (
          <li key={c.checkoutId} className="flex flex-col gap-2 px-4 py-3 text-sm" data-testid="review-item">
            <div className="flex flex-wrap justify-between gap-2">
              <span>
                <span className="font-medium">{c.merchantName}</span> · {c.total} {c.currency} · <span className="font-mono text-xs">{c.checkoutId}</span>
              </span>
              <span className="text-slate-500">{new Date(c.createdAt).toLocaleString()}</span>
            </div>
            <p className="text-slate-600">{c.reasons.join("; ")}</p>
            <BuyerDetailsReveal checkoutId={c.checkoutId} />
            <div className="flex flex-wrap items-center gap-2">
              <label className="sr-only" htmlFor={`note-${c.checkoutId}`}>
                Note
              </label>
              <input
                id={`note-${c.checkoutId}`}
                placeholder="Note (required)"
                className="min-w-64 flex-1 rounded-md border border-slate-300 px-3 py-1"
                value={notes[c.checkoutId] ?? ""}
                onChange={(e) => setNotes({ ...notes, [c.checkoutId]: e.target.value })}
              />
              <button className="rounded-md bg-green-700 px-3 py-1 text-white" onClick={() => review.mutate({ checkoutId: c.checkoutId, approve: true, note: notes[c.checkoutId] ?? "" })}>
                Approve
              </button>
              <button className="rounded-md bg-red-700 px-3 py-1 text-white" onClick={() => review.mutate({ checkoutId: c.checkoutId, approve: false, note: notes[c.checkoutId] ?? "" })}>
                Reject
              </button>
            </div>
          </li>
        ))}
        {queue.data?.length === 0 ? <li className="px-4 py-6 text-center text-sm text-slate-500">Nothing is waiting for review.</li> : null}
      </ul>
    </div>
  );
}
