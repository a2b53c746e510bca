"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { AlertTriangle } from "lucide-react";
import Link from "next/link";
import { useTRPC } from "@/components/trpc/react";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { formatDecimalMoney } from "@/components/ui/format";
import { Time } from "@/components/ui/time";
import { formatDuration } from "./deadline";
import { disputeHref } from "./links";
import { useNow } from "./use-now";

// The overview's dispute notice: every reminder sent (72 h and 24 h before a dispute's due_by, the dispute-reminders
// cron) that no member dismissed, of disputes still waiting for an answer (disputes.notices). Nothing is shown when
// there is none. Admins dismiss a reminder (disputes.dismissNotice); answering the dispute ends its notices too.

export function DisputeNotices({ canDismiss }: { canDismiss: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const now = useNow();
  const notices = useQuery({ ...trpc.disputes.notices.queryOptions(), refetchInterval: 60_000, retry: false });
  const dismiss = useMutation(trpc.disputes.dismissNotice.mutationOptions({ onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.disputes.notices.queryKey() }) }));
  const rows = notices.data ?? [];
  if (rows.length === 0) return null;
  return (
    <Card
      title={
        <span className="inline-flex items-center gap-2">
          <AlertTriangle className="size-4 text-amber-700" aria-hidden />
          {rows.length === 1 ? "A dispute needs your response" : `${rows.length} dispute reminders`}
        </span>
      }
      description="Submit evidence before the deadline, or the dispute is lost."
      data-testid="dispute-notices"
    >
      <ul className="flex flex-col divide-y divide-slate-100">
        {rows.map((n) => {
          const left = new Date(n.dueBy).getTime() - now.getTime();
          return (
            <li key={n.reminderId} className="flex flex-wrap items-center justify-between gap-2 py-2 first:pt-0 last:pb-0" data-testid="dispute-notice" data-kind={n.kind} data-dispute-id={n.disputeId}>
              <div className="min-w-0 text-sm">
                <Link href={disputeHref(n.disputeId)} className="font-medium text-slate-900 underline underline-offset-2 hover:text-brand-700">
                  Dispute of {formatDecimalMoney(n.amount, n.currency)}
                </Link>
                <span className="text-slate-700">
                  {" "}
                  · respond by <Time value={n.dueBy} /> · <span suppressHydrationWarning>{left > 0 ? `${formatDuration(left)} left` : "deadline passed"}</span>
                </span>
                <span className="ml-1 text-xs text-slate-600">({n.kind === "24h" ? "24-hour" : "72-hour"} reminder)</span>
              </div>
              {canDismiss ? (
                <Button size="sm" variant="ghost" onClick={() => dismiss.mutate({ reminderId: n.reminderId })} disabled={dismiss.isPending} aria-label={`Dismiss the ${n.kind} reminder of dispute ${n.disputeId}`}>
                  Dismiss
                </Button>
              ) : null}
            </li>
          );
        })}
      </ul>
      {dismiss.error ? (
        <p role="alert" className="mt-2 text-sm text-red-700">
          {dismiss.error.message}
        </p>
      ) : null}
    </Card>
  );
}
