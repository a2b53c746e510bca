"use client";

import Link from "next/link";
import { DataTable, type ColumnDef } from "@/components/ui/data-table";
import { Badge } from "@/components/ui/badge";
import { Money } from "@/components/ui/money";
import { Time } from "@/components/ui/time";
import type { PaymentDetailDispute, PaymentDetailOrder, PaymentDetailRefund, PaymentDetailSellerWallet } from "@/server/payments/payment-detail";
import { REFUND_REASON_LABELS } from "@/server/refunds/router.schema";
import { CancelRefundButton } from "./cancel-refund-button";
import { RefreshWhile } from "./refresh-while";
import { RefundButton } from "./refund-dialog";
import { RefundStatusBadge, refundFailureText } from "./refund-status-badge";

// The payment detail's "Refunds and disputes" section: per order what is refunded and what is still refundable
// (with the Refund button for admins, disabled with its reason), the refunds of the checkout's orders with their
// status and failure reason, the disputes of its charge, and each seller's balance now (available, pending, owed).
// While a refund is with the PSP the page refreshes itself until it settles.

export interface RefundsSectionProps {
  orders: PaymentDetailOrder[];
  refunds: PaymentDetailRefund[];
  disputes: PaymentDetailDispute[];
  wallets: PaymentDetailSellerWallet[];
  /** Admin on the dashboard: the Refund and Cancel buttons. Viewers and ops read only. */
  canRefund: boolean;
  scope: "merchant" | "ops";
}

const OPEN = new Set(["pending", "requires_action"]);

function orderColumns(canRefund: boolean): ColumnDef<PaymentDetailOrder, unknown>[] {
  const cols: ColumnDef<PaymentDetailOrder, unknown>[] = [
    {
      id: "order",
      header: "Payment order",
      cell: ({ row }) => (
        <span>
          <span className="font-mono text-xs break-all">{row.original.paymentOrderId}</span>
          <span className="block text-xs text-slate-600">{row.original.seller.name}</span>
        </span>
      ),
    },
    { id: "amount", header: "Paid", meta: { align: "right", priority: "low" }, cell: ({ row }) => <Money amount={row.original.amount} currency={row.original.currency} /> },
    { id: "refunded", header: "Refunded", meta: { align: "right" }, cell: ({ row }) => <Money amount={row.original.amountRefunded} currency={row.original.currency} /> },
    {
      id: "refundable",
      header: "Refundable",
      meta: { align: "right" },
      cell: ({ row }) => (
        <span data-testid="order-refundable" data-minor={row.original.refundable.toString()}>
          <Money amount={row.original.refundable} currency={row.original.currency} />
        </span>
      ),
    },
  ];
  if (!canRefund) return cols;
  cols.push({
    id: "actions",
    header: () => null,
    meta: { srLabel: "Actions" },
    cell: ({ row }) => {
      const o = row.original;
      if (o.refundBlockedReason) {
        return (
          <span className="flex flex-col items-start gap-1">
            <button type="button" disabled aria-describedby={`refund-blocked-${o.id}`} className="inline-flex cursor-not-allowed items-center rounded-md border border-slate-300 bg-white px-2.5 py-1 text-sm font-medium text-slate-800 opacity-50" data-testid="refund-button">
              Refund
            </button>
            <span id={`refund-blocked-${o.id}`} className="max-w-56 text-xs text-slate-600">
              {o.refundBlockedReason}
            </span>
          </span>
        );
      }
      return <RefundButton paymentOrderId={o.paymentOrderId} sellerName={o.seller.name} currency={o.currency} refundable={o.refundable} amount={o.amount} />;
    },
  });
  return cols;
}

function refundColumns(canRefund: boolean): ColumnDef<PaymentDetailRefund, unknown>[] {
  return [
    {
      id: "refund",
      header: "Refund",
      cell: ({ row }) => (
        <span>
          <span className="font-mono text-xs break-all">{row.original.id}</span>
          <span className="block font-mono text-xs text-slate-600 break-all">{row.original.paymentOrderId}</span>
        </span>
      ),
    },
    { id: "amount", header: "Amount", meta: { align: "right" }, cell: ({ row }) => <Money amount={row.original.amount} currency={row.original.currency} /> },
    {
      id: "status",
      header: "Status",
      cell: ({ row }) => {
        const failure = refundFailureText(row.original.failureReason, row.original.failureMessage);
        return (
          <span className="flex flex-col items-start gap-1">
            <RefundStatusBadge status={row.original.status} />
            {failure ? <span className="text-xs text-red-700">{failure}</span> : null}
          </span>
        );
      },
    },
    {
      id: "reason",
      header: "Reason",
      meta: { priority: "low" },
      cell: ({ row }) => (
        <span className="text-xs">
          {row.original.reason ? (REFUND_REASON_LABELS[row.original.reason as keyof typeof REFUND_REASON_LABELS] ?? row.original.reason) : "—"}
          {row.original.platformFeeReturned > 0n ? (
            <span className="block text-slate-600">
              fee returned <Money amount={row.original.platformFeeReturned} currency={row.original.currency} />
            </span>
          ) : null}
        </span>
      ),
    },
    { id: "created", header: "Created", meta: { priority: "low" }, cell: ({ row }) => <Time value={row.original.createdAt} className="text-xs whitespace-nowrap" /> },
    ...(canRefund
      ? [
          {
            id: "actions",
            header: () => null,
            meta: { srLabel: "Actions" },
            cell: ({ row }) => (OPEN.has(row.original.status) && row.original.psp === "stripe" && row.original.pspRefundId ? <CancelRefundButton refundId={row.original.id} /> : null),
          } satisfies ColumnDef<PaymentDetailRefund, unknown>,
        ]
      : []),
  ];
}

function disputeColumns(scope: "merchant" | "ops"): ColumnDef<PaymentDetailDispute, unknown>[] {
  return [
    {
      id: "dispute",
      header: "Dispute",
      cell: ({ row }) =>
        scope === "merchant" ? (
          <Link href={`/dashboard/disputes/${encodeURIComponent(row.original.id)}`} className="font-mono text-xs break-all text-slate-900 underline underline-offset-2 hover:text-brand-700">
            {row.original.id}
          </Link>
        ) : (
          <span className="font-mono text-xs break-all">{row.original.id}</span>
        ),
    },
    { id: "amount", header: "Amount", meta: { align: "right" }, cell: ({ row }) => <Money amount={row.original.amount} currency={row.original.currency} /> },
    {
      id: "status",
      header: "Status",
      cell: ({ row }) => (
        <span className="flex flex-col items-start gap-1">
          <Badge tone={row.original.status === "won" ? "success" : row.original.status === "lost" ? "danger" : row.original.status.endsWith("closed") ? "neutral" : "warning"} data-status={row.original.status}>
            {row.original.status.replaceAll("_", " ")}
          </Badge>
          {row.original.isInquiry ? <span className="text-xs text-slate-600">inquiry</span> : null}
        </span>
      ),
    },
    { id: "reason", header: "Reason", meta: { priority: "low" }, cell: ({ row }) => <span className="text-xs">{row.original.reason.replaceAll("_", " ")}</span> },
    { id: "due", header: "Evidence due", meta: { priority: "low" }, cell: ({ row }) => (row.original.evidenceDueBy ? <Time value={row.original.evidenceDueBy} className="text-xs whitespace-nowrap" /> : "—") },
  ];
}

export function RefundsSection({ orders, refunds, disputes, wallets, canRefund, scope }: RefundsSectionProps) {
  const refundable = orders.some((o) => o.status === "SUCCESS");
  return (
    <div className="flex flex-col gap-5">
      <RefreshWhile active={refunds.some((r) => OPEN.has(r.status))} />
      {refundable ? (
        <DataTable columns={orderColumns(canRefund)} data={orders} getRowId={(o) => o.id} caption="What can be refunded, per payment order" captionVisible empty={{ title: "No payment orders." }} rowTestId="refundable-order-row" rowProps={(o) => ({ "data-payment-order-id": o.paymentOrderId })} />
      ) : (
        <p className="text-sm text-slate-600">Nothing is paid yet, so there is nothing to refund.</p>
      )}
      <DataTable
        columns={refundColumns(canRefund)}
        data={refunds}
        getRowId={(r) => r.id}
        caption="Refunds"
        captionVisible
        empty={{ title: "No refunds", description: refundable && canRefund ? "Use Refund above to give a buyer money back, in full or in part." : undefined }}
        rowTestId="refund-row"
        rowProps={(r) => ({ "data-refund-id": r.id, "data-status": r.status })}
      />
      <DataTable columns={disputeColumns(scope)} data={disputes} getRowId={(d) => d.id} caption="Disputes" captionVisible empty={{ title: "No disputes", description: "A dispute the buyer's bank opens on this payment appears here." }} rowTestId="dispute-row" rowProps={(d) => ({ "data-dispute-id": d.id, "data-status": d.status })} />
      {wallets.length > 0 ? (
        <div>
          <h4 className="text-sm font-medium text-slate-700">Seller balances now</h4>
          <ul className="mt-2 grid grid-cols-1 gap-3 sm:grid-cols-2">
            {wallets.map((w) => (
              <li key={w.sellerId} className="rounded-md border border-slate-200 p-3 text-sm" data-testid="seller-wallet" data-seller-reference={w.reference} data-available={w.available.toString()} data-pending={w.pending.toString()} data-owed={w.owed.toString()}>
                <p className="font-medium text-slate-900">
                  {w.name} <span className="font-mono text-xs text-slate-600">{w.reference}</span>
                </p>
                <dl className="mt-1 grid grid-cols-[max-content_1fr] gap-x-3 gap-y-0.5">
                  <dt className="text-slate-600">Available</dt>
                  <dd className="text-right">
                    <Money amount={w.available} currency={w.currency} />
                  </dd>
                  <dt className="text-slate-600">Pending</dt>
                  <dd className="text-right">
                    <Money amount={w.pending} currency={w.currency} />
                  </dd>
                  <dt className="text-slate-600">Owed</dt>
                  <dd className={w.owed > 0n ? "text-right text-red-700" : "text-right"}>
                    <Money amount={w.owed} currency={w.currency} />
                  </dd>
                </dl>
              </li>
            ))}
          </ul>
          <p className="mt-2 text-xs text-slate-600">A refund takes from available first, then pending; beyond that the seller owes the rest, which their next payout nets.</p>
        </div>
      ) : null}
    </div>
  );
}
