"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import type { ReactNode } from "react";
import { useTRPC } from "@/components/trpc/react";
import { Card } from "@/components/ui/card";
import { formatDecimalMoney } from "@/components/ui/format";
import { Time } from "@/components/ui/time";
import { parseMoney } from "@/server/money/money";
import { PayoutComposition } from "./composition";
import { destinationText } from "./destination";
import { sellerHref } from "./links";
import { ApprovePayoutButton, CancelPayoutButton } from "./payout-actions";
import { PAYOUT_ORIGIN_LABELS, PAYOUT_STATUS_HELP, PAYOUT_STATUS_LABELS, PayoutStatusBadge, payoutFailureText } from "./payout-status-badge";
import type { PayoutDetailData } from "./types";

// One payout (payouts.get): amount, status and what it means, where it goes, the maker-checker state (waiting for a
// second admin, with Approve / Reject for an admin who may), the PSP's failure reason, the composition that sums
// to the amount (with its CSV), and the status history. Polled while the payout is still open: every 2 s while
// PayBridge or the PSP is about to move it (pending, unknown), every 10 s while the bank pays it (in_transit), every
// 30 s while it waits for a person (pending_approval; Approve and Reject refetch at once).

/** How often an open payout is refetched, by status (ms); a status not here is final and not polled. */
const POLL_MS: Record<string, number> = { pending: 2_000, unknown: 2_000, in_transit: 10_000, pending_approval: 30_000 };

function Item({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <div>
      <dt className="text-slate-600">{label}</dt>
      <dd className="break-words" data-testid={testId}>
        {children}
      </dd>
    </div>
  );
}

export function PayoutDetailView({ initial, isAdmin }: { initial: PayoutDetailData; isAdmin: boolean }) {
  const trpc = useTRPC();
  const query = useQuery({
    ...trpc.payouts.get.queryOptions({ payoutId: initial.payout.id }),
    initialData: initial,
    refetchInterval: (q) => (q.state.data ? (POLL_MS[q.state.data.payout.status] ?? false) : false),
  });
  const d = query.data;
  const p = d.payout;
  const amount = formatDecimalMoney(p.amount, p.currency);
  const failure = payoutFailureText(p.failure_code, p.failure_message);
  const refetch = () => void query.refetch();
  // Only a payout waiting for approval can be rejected (by any admin): a pending one may already be at the PSP
  // (server/payouts/build.ts, cancelPayout).
  const awaiting = p.status === "pending_approval";

  return (
    <div className="flex flex-col gap-6" data-testid="payout-detail" data-status={p.status} data-amount-minor={parseMoney(p.amount, p.currency).amount.toString()}>
      <div>
        <Link href="/dashboard/payouts" className="text-sm text-slate-700 underline underline-offset-2 hover:text-brand-700">
          ← All payouts
        </Link>
      </div>
      <Card title={<span className="break-all">Payout {p.id}</span>} description={`${d.seller.name} · ${destinationText(p.destination)}`} actions={<PayoutStatusBadge status={p.status} />}>
        <div className="flex flex-col gap-4">
          <p className="text-3xl font-semibold tracking-tight text-slate-900 tabular-nums" data-testid="payout-amount">
            {amount}
          </p>
          <p className="text-sm text-slate-700" data-testid="payout-status-help">
            <span className="font-medium">{PAYOUT_STATUS_LABELS[p.status] ?? p.status}.</span> {PAYOUT_STATUS_HELP[p.status]}
          </p>
          {failure ? (
            <div className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800" data-testid="payout-failure">
              <p className="font-medium">{p.status === "failed" ? "Why it failed" : "What the PSP said"}</p>
              <p>{failure}</p>
              {p.status === "failed" ? <p className="mt-1">The amount is in the seller&rsquo;s available balance again. Once the cause is fixed (for a bank refusal, the seller&rsquo;s payout destination), request a new payout.</p> : null}
            </div>
          ) : null}
          <dl className="grid grid-cols-1 gap-x-6 gap-y-3 text-sm sm:grid-cols-2 lg:grid-cols-3">
            <Item label="Seller">
              <Link href={sellerHref(d.seller.id)} className="text-slate-900 underline underline-offset-2 hover:text-brand-700">
                {d.seller.name}
              </Link>{" "}
              <span className="text-slate-600">({d.seller.reference})</span>
            </Item>
            <Item label="Destination" testId="payout-destination">
              {destinationText(p.destination)}
            </Item>
            <Item label="Origin">
              {PAYOUT_ORIGIN_LABELS[p.origin] ?? p.origin}
              {p.method === "instant" ? " · instant" : ""}
            </Item>
            <Item label="Created">
              <Time value={p.created_at} />
            </Item>
            <Item label={p.paid_at ? "Paid" : "Expected arrival"}>{p.paid_at ? <Time value={p.paid_at} /> : <Time value={p.arrival_date} dateOnly />}</Item>
            <Item label="Requested by" testId="payout-requested-by">
              {d.requestedBy ?? (p.origin === "scheduled" ? "The payout schedule" : p.origin === "api" ? "The API" : "—")}
            </Item>
            {d.approvedBy || p.approved_at ? (
              <Item label="Approved by" testId="payout-approved-by">
                {d.approvedBy ?? "—"}
                {p.approved_at ? (
                  <>
                    {" "}
                    · <Time value={p.approved_at} />
                  </>
                ) : null}
              </Item>
            ) : null}
            {p.description ? <Item label="Description">{p.description}</Item> : null}
          </dl>
        </div>
      </Card>

      {awaiting ? (
        <Card title="Approval" data-testid="payout-approval" data-can-approve={d.canApprove ? "true" : "false"}>
          <div className="flex flex-col gap-3">
            <div className="rounded-md border border-blue-200 bg-blue-50 px-3 py-2 text-sm text-blue-900" data-testid="approval-waiting">
              <p className="font-medium">Waiting for a second admin</p>
              <p>
                This payout needs a second admin under your approval threshold (its amount, together with this seller&rsquo;s other manual payouts of the last 24 hours, reaches it, or it is in another currency), so {d.requestedBy ? <strong className="font-semibold">{d.requestedBy}</strong> : "the admin who requested it"} cannot send it alone: another admin of
                this merchant must approve it. Until then nothing is sent, and the amount stays held from the seller&rsquo;s available balance.
              </p>
            </div>
            {!d.canApprove ? (
              <p className="text-sm text-slate-700" data-testid="approval-not-you">
                {isAdmin ? "You requested this payout, so you cannot approve it: ask another admin." : "Only an admin other than the one who requested it can approve it."}
              </p>
            ) : null}
            {isAdmin ? (
              <div className="flex flex-wrap gap-2">
                {d.canApprove ? <ApprovePayoutButton payoutId={p.id} amountLabel={amount} sellerName={d.seller.name} onDone={refetch} /> : null}
                <CancelPayoutButton payoutId={p.id} onDone={refetch} />
              </div>
            ) : null}
          </div>
        </Card>
      ) : null}

      <Card title="Composition" description="What this payout pays, item by item: payments, fees, refunds, dispute debits and the balance carried between payouts.">
        <PayoutComposition payoutId={p.id} items={d.items} amount={p.amount} currency={p.currency} />
      </Card>

      <Card title="History" description="Every status change, oldest first.">
        <ol className="flex flex-col gap-3">
          {d.transitions.map((t, i) => (
            <li key={`${t.at}-${i}`} data-testid="payout-transition" data-to={t.to} className="flex flex-col gap-0.5 border-l-2 border-slate-200 pl-3 text-sm sm:flex-row sm:items-baseline sm:gap-3">
              <Time value={t.at} className="shrink-0 text-xs text-slate-600" />
              <span>
                {t.from ? `${PAYOUT_STATUS_LABELS[t.from] ?? t.from} → ` : "Created as "}
                <span className="font-medium">{PAYOUT_STATUS_LABELS[t.to] ?? t.to}</span>
                <span className="text-slate-600">
                  {" "}
                  · {t.reason.replaceAll("_", " ")}
                  {t.actor ? ` · by ${t.actor}` : ""}
                </span>
              </span>
            </li>
          ))}
        </ol>
      </Card>
    </div>
  );
}
