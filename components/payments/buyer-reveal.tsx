"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc/react";
import { Button } from "@/components/ui/button";

// The buyer's details in clear on the payment page, fetched only when asked: each reveal is audited
// (buyer_data.viewed) by payments.buyerDetails (the merchant's staff) or ops.buyerDetails (ops).
export function BuyerReveal({ checkoutId, scope }: { checkoutId: string; scope: "merchant" | "ops" }) {
  const trpc = useTRPC();
  const [shown, setShown] = useState(false);
  const options = { enabled: shown, staleTime: Infinity, gcTime: 0, retry: false } as const;
  const merchant = useQuery(trpc.payments.buyerDetails.queryOptions({ checkoutId }, { ...options, enabled: shown && scope === "merchant" }));
  const ops = useQuery(trpc.ops.buyerDetails.queryOptions({ checkoutId }, { ...options, enabled: shown && scope === "ops" }));
  const details = scope === "merchant" ? merchant : ops;
  if (!shown) {
    return (
      <Button size="sm" variant="secondary" onClick={() => setShown(true)} data-testid="buyer-reveal">
        Show buyer details (logged)
      </Button>
    );
  }
  if (details.error) return <p role="alert" className="text-sm text-red-700">{details.error.message}</p>;
  const d = details.data;
  if (!d) return <p className="text-sm text-slate-600" role="status">Loading…</p>;
  const rows: [string, string | null][] = [
    ["Email", d.email],
    ["Name", d.name],
    ["Phone", d.phone],
    ["IP", d.ip],
    ["Country", d.country],
    ["M-Pesa", d.mpesaPhones.length ? d.mpesaPhones.join(", ") : null],
  ];
  return (
    <dl className="grid grid-cols-[max-content_1fr] gap-x-3 gap-y-1 text-sm" data-testid="buyer-details">
      {rows
        .filter(([, v]) => v)
        .map(([k, v]) => (
          <div key={k} className="contents">
            <dt className="text-slate-600">{k}</dt>
            <dd className="break-all">{v}</dd>
          </div>
        ))}
    </dl>
  );
}
