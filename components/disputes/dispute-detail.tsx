"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "@/components/trpc/react";
import { Card } from "@/components/ui/card";
import { DataTable, type ColumnDef } from "@/components/ui/data-table";
import { formatMoney } from "@/components/ui/format";
import { Time } from "@/components/ui/time";
import type { DisputeDetail } from "@/server/disputes/dashboard-detail";
import { DISPUTE_STATUS_LABELS, disputeReasonLabel } from "./deadline";
import { DeadlineCell } from "./deadline-cell";
import { DisputeStatusBadge } from "./dispute-status-badge";
import { DisputeResponse } from "./dispute-response";
import { useNow } from "./use-now";

// One dispute (disputes.get, server/disputes/dashboard-detail.ts): what is disputed and how it is split over the
// checkout's orders, the sellers' wallets as they stand, the status timeline, and the merchant's one answer
// (evidence or accepting the loss). Polled while the PSP may still move it (after a submission, until it closes).

type Allocation = DisputeDetail["allocation"][number];
type Wallet = DisputeDetail["wallets"][number];

const FINAL = new Set(["won", "lost", "warning_closed"]);

/** Fast while the PSP is about to move it (answered, under review, funds not yet posted), slow while it waits for the merchant. */
function pollEvery(d: DisputeDetail): number | false {
  const v = d.view;
  if (FINAL.has(v.status)) return v.status === "won" && d.withdrawn && !d.reinstated ? 3_000 : false;
  if (v.evidence_submitted_at || v.accepted_at || !v.respondable || (!v.is_inquiry && !d.withdrawn)) return 3_000;
  return 30_000;
}

export function DisputeDetailView({ initial, canRespond }: { initial: DisputeDetail; canRespond: boolean }) {
  const trpc = useTRPC();
  const now = useNow();
  const query = useQuery({
    ...trpc.disputes.get.queryOptions({ disputeId: initial.view.id }),
    initialData: initial,
    refetchInterval: (q) => (q.state.data ? pollEvery(q.state.data) : 3_000),
  });
  const d = query.data;
  const v = d.view;
  const cur = v.currency;

  const allocationColumns: ColumnDef<Allocation, unknown>[] = [
    {
      id: "order",
      header: "Payment order",
      cell: ({ row }) => (
        <Link href={`/dashboard/payments/${encodeURIComponent(row.original.paymentOrderId)}`} className="font-mono text-xs break-all text-slate-900 underline underline-offset-2 hover:text-brand-700">
          {row.original.paymentOrderId}
        </Link>
      ),
    },
    { id: "seller", header: "Seller", cell: ({ row }) => <span className="break-all">{row.original.sellerReference}</span> },
    { id: "amount", header: "Disputed", meta: { align: "right" }, cell: ({ row }) => <span className="whitespace-nowrap">{formatMoney(row.original.amountMinor, cur)}</span> },
    { id: "fee", header: "Fee share", meta: { align: "right" }, cell: ({ row }) => <span className="whitespace-nowrap">{formatMoney(row.original.feeMinor, cur)}</span> },
  ];
  const walletColumns: ColumnDef<Wallet, unknown>[] = [
    { id: "seller", header: "Seller", cell: ({ row }) => <span className="break-all">{row.original.sellerReference}</span> },
    { id: "available", header: "Available", meta: { align: "right" }, cell: ({ row }) => <span className="whitespace-nowrap" data-testid="wallet-available">{formatMoney(row.original.available, cur)}</span> },
    { id: "pending", header: "Pending", meta: { align: "right" }, cell: ({ row }) => <span className="whitespace-nowrap" data-testid="wallet-pending">{formatMoney(row.original.pending, cur)}</span> },
    { id: "onHold", header: "On hold", meta: { align: "right", priority: "low" }, cell: ({ row }) => <span className="whitespace-nowrap">{formatMoney(row.original.onHold, cur)}</span> },
    { id: "owed", header: "Owed", meta: { align: "right" }, cell: ({ row }) => <span className="whitespace-nowrap" data-testid="wallet-owed">{formatMoney(row.original.owed, cur)}</span> },
  ];

  const moneyEffect = v.is_inquiry
    ? "An inquiry: no money has been withdrawn."
    : d.reinstated
      ? "The disputed amount and the fee were withdrawn from the sellers and have been reinstated."
      : d.withdrawn
        ? "The disputed amount and the fee were withdrawn from the sellers' balances (split as below). If you win, they are reinstated."
        : "No money has been withdrawn yet.";

  return (
    <div className="flex flex-col gap-6" data-testid="dispute-detail" data-status={v.status}>
      <div>
        <Link href="/dashboard/disputes" className="text-sm text-slate-700 underline underline-offset-2 hover:text-brand-700">
          ← All disputes
        </Link>
      </div>
      <Card
        title={<span className="break-all">Dispute {v.id}</span>}
        description={`${v.is_inquiry ? "Inquiry" : "Chargeback"} · ${disputeReasonLabel(v.reason)}`}
        actions={<DisputeStatusBadge status={v.status} />}
      >
        <dl className="grid grid-cols-1 gap-x-6 gap-y-3 text-sm sm:grid-cols-2 lg:grid-cols-3">
          <div>
            <dt className="text-slate-600">Disputed amount</dt>
            <dd className="font-semibold" data-testid="dispute-amount">{formatMoney(d.amountMinor, cur)}</dd>
          </div>
          <div>
            <dt className="text-slate-600">Dispute fee</dt>
            <dd data-testid="dispute-fee">{formatMoney(d.feeMinor, cur)}</dd>
          </div>
          <div>
            <dt className="text-slate-600">Respond by</dt>
            <dd>
              <DeadlineCell dispute={v} now={now} />
            </dd>
          </div>
          <div>
            <dt className="text-slate-600">Opened</dt>
            <dd>
              <Time value={v.created_at} />
            </dd>
          </div>
          <div>
            <dt className="text-slate-600">Checkout</dt>
            <dd className="font-mono text-xs break-all">{v.checkout_id}</dd>
          </div>
          <div>
            <dt className="text-slate-600">Status</dt>
            <dd>{DISPUTE_STATUS_LABELS[v.status] ?? v.status}</dd>
          </div>
        </dl>
        <p className="mt-4 text-sm text-slate-700" data-testid="dispute-money-effect">
          {moneyEffect}
        </p>
      </Card>

      <DisputeResponse dispute={v} canRespond={canRespond} now={now} onAnswered={() => void query.refetch()} />

      <Card title="Split over the payment orders" description="Each order's seller carries its share of the disputed amount and of the fee.">
        <DataTable
          columns={allocationColumns}
          data={d.allocation}
          getRowId={(a) => a.paymentOrderId}
          caption="Dispute allocation"
          empty={{ title: "No orders" }}
          rowTestId="dispute-allocation-row"
          rowProps={(a) => ({ "data-seller": a.sellerReference, "data-amount": a.amountMinor, "data-fee": a.feeMinor })}
        />
      </Card>

      <Card title="Seller balances now" description="The sellers' wallets as they stand, in this dispute's currency (refreshed while the dispute is open).">
        <DataTable
          columns={walletColumns}
          data={d.wallets}
          getRowId={(w) => w.sellerId}
          caption="Seller balances"
          empty={{ title: "No sellers" }}
          rowTestId="dispute-wallet-row"
          rowProps={(w) => ({ "data-seller": w.sellerReference, "data-available": w.available, "data-pending": w.pending, "data-owed": w.owed })}
        />
      </Card>

      <Card title="Timeline" description="Every status change, oldest first.">
        <ol className="flex flex-col gap-3">
          {d.timeline.map((t, i) => (
            <li key={`${t.at}-${i}`} data-testid="dispute-timeline-entry" data-to={t.to} className="flex flex-col gap-0.5 border-l-2 border-slate-200 pl-3 text-sm sm:flex-row sm:items-baseline sm:gap-3">
              <Time value={t.at} className="shrink-0 text-xs text-slate-600" />
              <span>
                {t.from ? `${DISPUTE_STATUS_LABELS[t.from] ?? t.from} → ` : "Opened as "}
                <span className="font-medium">{DISPUTE_STATUS_LABELS[t.to] ?? t.to}</span>
                <span className="text-slate-600"> · {t.reason.replaceAll("_", " ")}</span>
              </span>
            </li>
          ))}
        </ol>
      </Card>
    </div>
  );
}
