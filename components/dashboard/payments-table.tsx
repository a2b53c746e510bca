"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc/react";
import { StatusBadge } from "@/components/ui/status-badge";
import { DoubleChargeBadge } from "./double-charge-badge";

const STATUSES = ["ALL", "NOT_STARTED", "EXECUTING", "SUCCESS", "FAILED"] as const;

export function PaymentsTable() {
  const trpc = useTRPC();
  const [status, setStatus] = useState<(typeof STATUSES)[number]>("ALL");
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const list = useQuery(trpc.payments.list.queryOptions({ status: status === "ALL" ? undefined : status, cursor, limit: 25 }));
  return (
    <div className="flex flex-col gap-3">
      <label className="flex items-center gap-2 text-sm">
        Status
        <select
          className="rounded-md border border-slate-300 px-2 py-1"
          value={status}
          onChange={(e) => {
            setStatus(e.target.value as (typeof STATUSES)[number]);
            setCursors([]);
          }}
        >
          {STATUSES.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </label>
      <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white">
        <table className="w-full text-left text-sm">
          <thead className="text-slate-500">
            <tr>
              <th className="px-4 py-2 font-medium">Payment order</th>
              <th className="px-4 py-2 font-medium">Seller</th>
              <th className="px-4 py-2 text-right font-medium">Amount</th>
              <th className="px-4 py-2 font-medium">Status</th>
              <th className="px-4 py-2 font-medium">Created</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.items.map((o) => (
              <tr key={o.id} className="border-t border-slate-100" data-testid="payment-row">
                <td className="px-4 py-2 font-mono text-xs">{o.payment_order_id}</td>
                <td className="px-4 py-2">{o.seller_account}</td>
                <td className="px-4 py-2 text-right tabular-nums">
                  {o.amount} {o.currency}
                </td>
                <td className="px-4 py-2">
                  <StatusBadge status={o.status} />
                  {o.doubleCharge ? <DoubleChargeBadge status={o.doubleCharge} /> : null}
                  {o.failure ? <span className="ml-2 text-xs text-red-700">{o.failure.message ?? o.failure.code}</span> : null}
                </td>
                <td className="px-4 py-2 text-slate-500">{new Date(o.created_at).toLocaleString()}</td>
              </tr>
            ))}
            {list.data && list.data.items.length === 0 ? (
              <tr>
                <td colSpan={5} className="px-4 py-6 text-center text-slate-500">
                  No payments yet.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
        {list.isLoading ? <p className="px-4 py-3 text-sm text-slate-500">Loading…</p> : null}
        {list.error ? <p role="alert" className="px-4 py-3 text-sm text-red-700">{list.error.message}</p> : null}
      </div>
      <div className="flex gap-2">
        <button className="rounded-md border border-slate-300 px-3 py-1 text-sm disabled:opacity-50" disabled={cursors.length === 0} onClick={() => setCursors((c) => c.slice(0, -1))}>
          Newer
        </button>
        <button
          className="rounded-md border border-slate-300 px-3 py-1 text-sm disabled:opacity-50"
          disabled={!list.data?.nextCursor}
          onClick={() => list.data?.nextCursor && setCursors((c) => [...c, list.data!.nextCursor!])}
        >
          Older
        </button>
      </div>
    </div>
  );
}
