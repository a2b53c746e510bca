"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "@/components/trpc/react";
import { Badge } from "@/components/ui/badge";
import { DataTable, type ColumnDef } from "@/components/ui/data-table";
import { formatDecimalMoney } from "@/components/ui/format";
import { Time } from "@/components/ui/time";
import { useNow } from "@/components/disputes/use-now";
import { destinationText } from "./destination";
import { sellerHref } from "./links";
import { scheduleText } from "./schedule";
import type { SellerPayoutData } from "./types";

// Every seller of the merchant with their payout balances (payouts.sellers): one row per seller and currency, so
// the amounts line up. What a payout could take now is beside the four balances; a seller without a destination,
// or whose payouts are held after a destination change, says so.

type Row = { seller: SellerPayoutData; balance: SellerPayoutData["balances"][number]; first: boolean };

export function PayoutReadiness({ seller, now }: { seller: SellerPayoutData; now: number }) {
  if (!seller.destination) return <Badge tone="warning" data-state="no_destination">No destination</Badge>;
  if (seller.heldUntil && new Date(seller.heldUntil).getTime() > now) {
    return (
      <span className="flex flex-col items-start gap-0.5">
        <Badge tone="warning" data-state="held">Held</Badge>
        <span className="text-xs text-slate-600">
          until <Time value={seller.heldUntil} />
        </span>
      </span>
    );
  }
  return <Badge tone="success" data-state="ready">Ready</Badge>;
}

const money = (v: string, currency: string, testId: string) => (
  <span className="whitespace-nowrap tabular-nums" data-testid={testId}>
    {formatDecimalMoney(v, currency)}
  </span>
);

function columns(now: number): ColumnDef<Row, unknown>[] {
  return [
    {
      id: "seller",
      header: "Seller",
      cell: ({ row }) =>
        row.original.first ? (
          <span className="flex flex-col gap-0.5">
            <Link href={sellerHref(row.original.seller.id)} className="font-medium text-slate-900 underline underline-offset-2 hover:text-brand-700">
              {row.original.seller.name}
            </Link>
            <span className="text-xs break-all text-slate-600">{row.original.seller.reference}</span>
          </span>
        ) : (
          <span className="text-xs text-slate-600">
            {row.original.seller.name} ({row.original.balance.currency})
          </span>
        ),
    },
    { id: "available", header: "Available", meta: { align: "right" }, cell: ({ row }) => money(row.original.balance.available, row.original.balance.currency, "seller-available") },
    { id: "pending", header: "Pending", meta: { align: "right", priority: "low" }, cell: ({ row }) => money(row.original.balance.pending, row.original.balance.currency, "seller-pending") },
    { id: "onHold", header: "On hold", meta: { align: "right", priority: "low" }, cell: ({ row }) => money(row.original.balance.onHold, row.original.balance.currency, "seller-on-hold") },
    { id: "owed", header: "Owed", meta: { align: "right", priority: "low" }, cell: ({ row }) => money(row.original.balance.owed, row.original.balance.currency, "seller-owed") },
    { id: "payable", header: "Payable now", meta: { align: "right" }, cell: ({ row }) => <span className="font-medium">{money(row.original.balance.payableNow, row.original.balance.currency, "seller-payable")}</span> },
    { id: "state", header: "Payouts", cell: ({ row }) => (row.original.first ? <PayoutReadiness seller={row.original.seller} now={now} /> : null) },
    {
      id: "destination",
      header: "Destination",
      meta: { priority: "low" },
      cell: ({ row }) =>
        row.original.first ? (
          <span className="flex flex-col text-xs">
            <span>{destinationText(row.original.seller.destination)}</span>
            <span className="text-slate-600">{scheduleText(row.original.seller.schedule, row.original.seller.defaultCurrency)}</span>
          </span>
        ) : null,
    },
  ];
}

export function SellersTable({ initial }: { initial: SellerPayoutData[] }) {
  const trpc = useTRPC();
  const now = useNow().getTime();
  const query = useQuery({ ...trpc.payouts.sellers.queryOptions(), initialData: initial, refetchInterval: 30_000 });
  const rows: Row[] = query.data.flatMap((seller) => seller.balances.map((balance, i) => ({ seller, balance, first: i === 0 })));
  return (
    <DataTable
      columns={columns(now)}
      data={rows}
      getRowId={(r) => `${r.seller.id}:${r.balance.currency}`}
      caption="Sellers and their balances"
      error={query.error ? { message: query.error.message } : null}
      rowTestId="seller-row"
      rowProps={(r) => ({ "data-seller-id": r.seller.id, "data-seller-reference": r.seller.reference, "data-currency": r.balance.currency, "data-available": r.balance.available, "data-payable": r.balance.payableNow })}
      rowHref={(r) => sellerHref(r.seller.id)}
      empty={{ title: "No sellers yet", description: "Your sellers are set up with your PayBridge account; each payment names its seller by seller_account." }}
    />
  );
}
