"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "@/components/trpc/react";
import { Badge, type BadgeTone } from "@/components/ui/badge";
import { DataTable, type ColumnDef } from "@/components/ui/data-table";
import { formatMoney } from "@/components/ui/format";
import { Money } from "@/components/ui/money";
import { Time } from "@/components/ui/time";

// A held checkout's buyer over the last 30 days (risk.buyerHistory): other checkouts with the same email (by its
// lookup hash) or the same IP, across merchants, and earlier manual reviews. No buyer detail is shown or decrypted.

type Summary = { count: number; byStatus: Record<string, number>; totals: { currency: string; amount: bigint }[]; lastSeenAt: Date | null };
type RecentRow = {
  checkoutId: string;
  merchantName: string;
  status: string;
  amount: bigint;
  currency: string;
  createdAt: Date;
  matchedBy: ("email" | "ip")[];
  review: "approved" | "rejected" | null;
};

const STATUS_TONE: Record<string, BadgeTone> = { completed: "success", blocked: "danger", failed: "danger", review: "warning", processing: "info", open: "neutral" };

const columns: ColumnDef<RecentRow, unknown>[] = [
  {
    id: "checkout",
    header: "Checkout",
    cell: ({ row }) => (
      <Link className="font-mono text-xs break-all underline" href={`/ops/payments/${encodeURIComponent(row.original.checkoutId)}`}>
        {row.original.checkoutId}
      </Link>
    ),
  },
  { id: "merchant", header: "Merchant", meta: { priority: "low" }, cell: ({ row }) => row.original.merchantName },
  { id: "match", header: "Same", cell: ({ row }) => row.original.matchedBy.join(" + ") },
  { id: "amount", header: "Amount", meta: { align: "right" }, cell: ({ row }) => <Money amount={row.original.amount} currency={row.original.currency} /> },
  {
    id: "status",
    header: "Status",
    cell: ({ row }) => (
      <span className="flex flex-wrap gap-1">
        <Badge tone={STATUS_TONE[row.original.status] ?? "neutral"} data-status={row.original.status}>
          {row.original.status}
        </Badge>
        {row.original.review ? <Badge tone={row.original.review === "approved" ? "success" : "danger"}>review {row.original.review}</Badge> : null}
      </span>
    ),
  },
  { id: "at", header: "Created", meta: { priority: "low" }, cell: ({ row }) => <Time value={row.original.createdAt} /> },
];

function SummaryLine({ label, s, known }: { label: string; s: Summary; known: boolean }) {
  if (!known) return <li>{label}: not recorded on this checkout</li>;
  const statuses = Object.entries(s.byStatus)
    .map(([k, n]) => `${n} ${k}`)
    .join(", ");
  return (
    <li data-testid={`history-${label.toLowerCase().replace(/\W+/g, "-")}`}>
      {label}: <span className="font-semibold">{s.count}</span> other checkout{s.count === 1 ? "" : "s"}
      {s.count > 0 ? (
        <>
          {" "}
          ({statuses}) · {s.totals.map((t) => formatMoney(t.amount, t.currency)).join(" + ")} · last <Time value={s.lastSeenAt} />
        </>
      ) : null}
    </li>
  );
}

export function BuyerHistory({ checkoutId }: { checkoutId: string }) {
  const trpc = useTRPC();
  const q = useQuery(trpc.risk.buyerHistory.queryOptions({ checkoutId }));
  const h = q.data;
  return (
    <section className="flex flex-col gap-2 rounded-md border border-slate-100 bg-slate-50 p-3" aria-label={`Buyer history of ${checkoutId}`} data-testid="buyer-history">
      <h3 className="text-sm font-semibold">Buyer&apos;s last {h?.days ?? 30} days</h3>
      {q.error ? (
        <p role="alert" className="text-sm text-red-700">
          {q.error.message}
        </p>
      ) : null}
      {h ? (
        <>
          <ul className="text-sm text-slate-700">
            <SummaryLine label="Same email" s={h.email} known={h.hasEmail} />
            <SummaryLine label="Same IP" s={h.ip} known={h.hasIp} />
            <li>
              Earlier reviews:{" "}
              {h.reviews.length === 0
                ? "none"
                : h.reviews.map((r, i) => (
                    <span key={`${r.checkoutId}-${i}`}>
                      {i > 0 ? "; " : ""}
                      {r.outcome} <Time value={r.at} /> ({r.note})
                    </span>
                  ))}
            </li>
          </ul>
          {h.recent.length > 0 ? (
            <DataTable<RecentRow> caption={`Recent checkouts of this buyer (${checkoutId})`} columns={columns} data={h.recent} getRowId={(r) => r.checkoutId} rowTestId="buyer-history-row" empty={{ title: "None." }} />
          ) : null}
        </>
      ) : q.isLoading ? (
        <p className="text-sm text-slate-600" role="status">
          Loading…
        </p>
      ) : null}
    </section>
  );
}
