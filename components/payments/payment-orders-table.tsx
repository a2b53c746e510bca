"use client";

import { DataTable, type ColumnDef } from "@/components/ui/data-table";
import { Money } from "@/components/ui/money";
import { StatusBadge } from "@/components/ui/status-badge";
import type { PaymentDetailOrder } from "@/server/payments/payment-detail";

// A checkout's payment orders, one per seller, in the merchant's order: amount, platform fee and the seller's net.

const columns: ColumnDef<PaymentDetailOrder, unknown>[] = [
  {
    id: "order",
    header: "Payment order",
    cell: ({ row }) => (
      <span>
        <span className="font-mono text-xs break-all">{row.original.paymentOrderId}</span>
        {/* On a phone the seller, net and status columns are hidden: shown here instead. */}
        <span className="mt-1 flex flex-col items-start gap-1 text-xs text-slate-600 md:hidden">
          <span>
            {row.original.seller.name} · net <Money amount={row.original.net} currency={row.original.currency} />
          </span>
          <StatusBadge status={row.original.status} />
        </span>
      </span>
    ),
  },
  {
    id: "seller",
    header: "Seller",
    meta: { priority: "low" },
    cell: ({ row }) => (
      <span>
        {row.original.seller.name}
        <span className="block font-mono text-xs text-slate-600">{row.original.seller.reference}</span>
      </span>
    ),
  },
  { id: "amount", header: "Amount", meta: { align: "right" }, cell: ({ row }) => <Money amount={row.original.amount} currency={row.original.currency} /> },
  {
    id: "fee",
    header: "Fee",
    meta: { align: "right", priority: "low" },
    cell: ({ row }) => (
      <span title={row.original.feeSource === "ledger" ? "As posted in the ledger" : "At the merchant's fee rate (not posted yet)"}>
        <Money amount={row.original.fee} currency={row.original.currency} />
        {row.original.feeSource === "rate" ? <span className="block text-xs text-slate-600">expected</span> : null}
      </span>
    ),
  },
  { id: "net", header: "Net", meta: { align: "right", priority: "low" }, cell: ({ row }) => <Money amount={row.original.net} currency={row.original.currency} /> },
  {
    id: "status",
    header: "Status",
    meta: { priority: "low" },
    cell: ({ row }) => (
      <span className="flex flex-col items-start gap-1">
        <StatusBadge status={row.original.status} />
        {row.original.failure ? <span className="text-xs text-red-700">{row.original.failure.message ?? row.original.failure.code}</span> : null}
      </span>
    ),
  },
];

export function PaymentOrdersTable({ orders, focusPaymentOrderId }: { orders: PaymentDetailOrder[]; focusPaymentOrderId: string | null }) {
  return (
    <DataTable
      columns={columns}
      data={orders}
      getRowId={(o) => o.id}
      caption="Payment orders of this checkout"
      empty={{ title: "This checkout has no payment orders." }}
      rowTestId="detail-order-row"
      rowProps={(o) => ({ "data-payment-order-id": o.paymentOrderId, "data-focus": o.paymentOrderId === focusPaymentOrderId ? "true" : undefined })}
    />
  );
}
