"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc/react";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/field";
import { Money } from "@/components/ui/money";
import { Time } from "@/components/ui/time";
import { BuyerDetailsReveal } from "./buyer-details-reveal";
import { BuyerHistory } from "./buyer-history";

export function RiskReviewQueue() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const queue = useQuery(trpc.risk.reviewQueue.queryOptions());
  const [notes, setNotes] = useState<Record<string, string>>({});
  const review = useMutation(trpc.risk.review.mutationOptions({ onSuccess: () => qc.invalidateQueries({ queryKey: trpc.risk.reviewQueue.queryKey() }) }));
  return (
    <div className="flex flex-col gap-3">
      {review.error ? <p role="alert" className="text-sm text-red-700">{review.error.data?.zodError?.fieldErrors.note?.[0] ?? review.error.message}</p> : null}
      {queue.error ? <p role="alert" className="text-sm text-red-700">{queue.error.message}</p> : null}
      <ul className="flex flex-col divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white">
        {queue.data?.map((c) => (
          <li key={c.checkoutId} className="flex flex-col gap-2 px-4 py-3 text-sm" data-testid="review-item">
            <div className="flex flex-wrap justify-between gap-2">
              <span>
                <span className="font-medium">{c.merchantName}</span> · <Money amount={c.amount} currency={c.currency} /> · <span className="font-mono text-xs">{c.checkoutId}</span>
              </span>
              <Time value={c.createdAt} className="text-slate-600" />
            </div>
            <p className="text-slate-600">{c.reasons.join("; ")}</p>
            <BuyerHistory checkoutId={c.checkoutId} />
            <BuyerDetailsReveal checkoutId={c.checkoutId} />
            <div className="flex flex-wrap items-center gap-2">
              <label className="sr-only" htmlFor={`note-${c.checkoutId}`}>
                Note
              </label>
              <Input
                id={`note-${c.checkoutId}`}
                placeholder="Note (required)"
                maxLength={500}
                className="min-w-64 flex-1"
                value={notes[c.checkoutId] ?? ""}
                onChange={(e) => setNotes({ ...notes, [c.checkoutId]: e.target.value })}
              />
              <Button className="bg-green-700 text-white hover:bg-green-800" onClick={() => review.mutate({ checkoutId: c.checkoutId, approve: true, note: notes[c.checkoutId] ?? "" })}>
                Approve
              </Button>
              <Button variant="danger" onClick={() => review.mutate({ checkoutId: c.checkoutId, approve: false, note: notes[c.checkoutId] ?? "" })}>
                Reject
              </Button>
            </div>
          </li>
        ))}
        {queue.data?.length === 0 ? <li className="px-4 py-6 text-center text-sm text-slate-600">Nothing is waiting for review.</li> : null}
        {queue.isLoading ? <li className="px-4 py-6 text-center text-sm text-slate-600" role="status">Loading…</li> : null}
      </ul>
    </div>
  );
}
