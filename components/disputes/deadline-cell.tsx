"use client";

import { AlertTriangle, CheckCircle2, Clock } from "lucide-react";
import { Time } from "@/components/ui/time";
import type { DisputeView } from "@/server/disputes/types";
import { deadlineState } from "./deadline";

/** The absolute deadline in the merchant's zone and, below it, the time left / overdue / answered. */
export function DeadlineCell({ dispute, now }: { dispute: Pick<DisputeView, "status" | "evidence_due_by" | "evidence_submitted_at" | "accepted_at">; now: Date }) {
  const state = deadlineState(dispute, now);
  const tone =
    state.kind === "overdue" ? "text-red-700" : state.kind === "open" && state.urgent ? "text-amber-800" : state.kind === "open" ? "text-slate-700" : "text-slate-600";
  const Icon = state.kind === "overdue" ? AlertTriangle : state.kind === "answered" ? CheckCircle2 : Clock;
  return (
    <div className="flex flex-col gap-0.5" data-testid="dispute-deadline" data-deadline-kind={state.kind}>
      {dispute.evidence_due_by ? <Time value={dispute.evidence_due_by} className="md:whitespace-nowrap" /> : <span className="text-slate-600">—</span>}
      <span className={`inline-flex items-center gap-1 text-xs font-medium ${tone}`} suppressHydrationWarning>
        <Icon className="size-3.5 shrink-0" aria-hidden />
        {state.label}
      </span>
    </div>
  );
}
