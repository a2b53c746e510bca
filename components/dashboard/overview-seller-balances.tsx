"use client";

import { Card } from "@/components/ui/card";
import { DataTable, type ColumnDef } from "@/components/ui/data-table";
import { Money } from "@/components/ui/money";
import type { SellerBalance } from "@/server/merchants/get-seller-balances";

// Each seller's pending / available / on-hold balance per currency, from the ledger.

const COLUMNS: ColumnDef<SellerBalance, unknown>[] = [
  { id: "seller", header: "Seller", cell: ({ row }) => row.original.sellerName },
  { id: "reference", header: "Seller account", meta: { priority: "low" }, cell: ({ row }) => <span className="font-mono text-xs">{row.original.reference}</span> },
  {
    id: "pending",
    header: "Pending",
    meta: { align: "right" },
    cell: ({ row }) => (
      <span data-testid="pending">
        <Money amount={row.original.pendingMinor} currency={row.original.currency} />
      </span>
    ),
  },
  { id: "available", header: "Available", meta: { align: "right" }, cell: ({ row }) => <Money amount={row.original.availableMinor} currency={row.original.currency} /> },
  { id: "onHold", header: "On hold", meta: { align: "right", priority: "low" }, cell: ({ row }) => <Money amount={row.original.onHoldMinor} currency={row.original.currency} /> },
];

export function OverviewSellerBalances({ balances }: { balances: SellerBalance[] }) {
  return (
    <Card title="Seller balances" description="Pending balances become available when the PSP settles; payouts are made from available balances.">
      <DataTable
        columns={COLUMNS}
        data={balances}
        getRowId={(b) => `${b.sellerId}:${b.currency}`}
        caption="Balance per seller and currency"
        empty={{ title: "No sellers yet" }}
        // balance-<seller account>: the row the end-to-end tests read a seller's pending balance from.
        rowProps={(b) => ({ "data-testid": `balance-${b.reference}`, "data-currency": b.currency })}
      />
    </Card>
  );
}
