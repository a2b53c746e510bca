"use client";

import Link from "next/link";
import { Badge } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { DataTable, type ColumnDef } from "@/components/ui/data-table";
import { Money } from "@/components/ui/money";
import { Time } from "@/components/ui/time";
import type { LatestFailure } from "@/server/merchants/overview-stats";

// The latest failed payment orders, each linking to its detail page.

const href = (f: LatestFailure) => `/dashboard/payments/${encodeURIComponent(f.paymentOrderId)}`;

const COLUMNS: ColumnDef<LatestFailure, unknown>[] = [
  {
    id: "payment",
    header: "Payment",
    cell: ({ row }) => (
      <Link href={href(row.original)} className="font-mono text-xs break-all text-brand-700 underline">
        {row.original.paymentOrderId}
      </Link>
    ),
  },
  { id: "amount", header: "Amount", meta: { align: "right" }, cell: ({ row }) => <Money amount={row.original.amountMinor} currency={row.original.currency} /> },
  {
    id: "failure",
    header: "Failure",
    cell: ({ row }) => (
      <div className="flex max-w-md flex-col items-start gap-1">
        <Badge tone="danger">{row.original.failureCode ?? "failed"}</Badge>
        {row.original.failureMessage ? <span className="text-xs break-words text-slate-700">{row.original.failureMessage}</span> : null}
      </div>
    ),
  },
  { id: "seller", header: "Seller", meta: { priority: "low" }, cell: ({ row }) => row.original.sellerName },
  { id: "created", header: "Created", meta: { priority: "low" }, cell: ({ row }) => <Time value={row.original.createdAt} className="whitespace-nowrap" /> },
];

export function OverviewFailures({ failures }: { failures: LatestFailure[] }) {
  return (
    <Card title="Latest failures" description="The most recent failed payment orders, newest first.">
      <DataTable
        columns={COLUMNS}
        data={failures}
        getRowId={(f) => f.paymentOrderId}
        caption="Latest failed payment orders"
        empty={{ title: "No failed payments", description: "Payment orders the PSP refused or that timed out show here." }}
        rowTestId="failure-row"
        rowHref={href}
      />
    </Card>
  );
}
