"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc/react";

// The buyer's details in clear, fetched only when ops asks: each reveal is audited (buyer_data.viewed).
export function BuyerDetailsReveal({ checkoutId }: { checkoutId: string }) {
  const trpc = useTRPC();
  const [shown, setShown] = useState(false);
  const details = useQuery(trpc.ops.buyerDetails.queryOptions({ checkoutId }, { enabled: shown, staleTime: Infinity, gcTime: 0, retry: false }));
  if (!shown) {
    return (
      <button className="self-start text-sm text-slate-600 underline" onClick={() => setShown(true)}>
        Show buyer details (logged)
      </button>
    );
  }
  if (details.error) return <p role="alert" className="text-sm text-red-700">{details.error.message}</p>;
  const d = details.data;
  if (!d) return <p className="text-sm text-slate-500">Loading…</p>;
  return (
    <dl className="grid grid-cols-[auto_1fr] gap-x-3 text-sm" data-testid="buyer-details">
      <dt className="text-slate-500">Email</dt>
      <dd>{d.email}</dd>
      {d.name ? (<><dt className="text-slate-500">Name</dt><dd>{d.name}</dd></>) : null}
      {d.phone ? (<><dt className="text-slate-500">Phone</dt><dd>{d.phone}</dd></>) : null}
      {d.ip ? (<><dt className="text-slate-500">IP</dt><dd className="font-mono text-xs">{d.ip}</dd></>) : null}
      {d.country ? (<><dt className="text-slate-500">Country</dt><dd>{d.country}</dd></>) : null}
      {d.mpesaPhones.length > 0 ? (<><dt className="text-slate-500">M-Pesa</dt><dd>{d.mpesaPhones.join(", ")}</dd></>) : null}
    </dl>
  );
}
