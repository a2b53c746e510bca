"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/react";
import { pspLabel } from "@/components/ui/psp-label";
import { Time } from "@/components/ui/time";
import { formatDecimalMoney } from "@/components/ui/format";

// The merchant's double charges (server/payments/double-charges.ts): shown above the payments table only when
// there are any, so a buyer's complaint ("I paid twice") can be answered from the dashboard.

export function DoubleChargesPanel() {
  const trpc = useTRPC();
  const list = useQuery(trpc.payments.doubleCharges.queryOptions());
  if (list.error) {
    return (
      <p role="alert" className="text-sm text-red-700">
        Could not load double charges: {list.error.message}
      </p>
    );
  }
  const items = list.data ?? [];
  if (items.length === 0) return null;
  const pending = items.filter((d) => d.status === "awaiting_refund").length;
  // Amber while a buyer still waits for their money; plain once every extra charge is refunded.
  const tone = pending > 0 ? { box: "border-amber-300 bg-amber-50", rule: "border-amber-200 divide-amber-200", text: "text-amber-900" } : { box: "border-slate-200 bg-white", rule: "border-slate-200 divide-slate-100", text: "text-slate-800" };
  return (
    <section aria-labelledby="double-charges-heading" className={`rounded-lg border ${tone.box}`} data-testid="double-charges-panel">
      <div className={`border-b px-4 py-3 ${tone.rule}`}>
        <h3 id="double-charges-heading" className={`font-semibold ${tone.text}`}>
          Charged twice{" "}
          <span className="font-normal">
            · {items.length} extra {items.length === 1 ? "charge" : "charges"}
            {pending > 0 ? `, ${pending} refund pending` : ", all refunded"}
          </span>
        </h3>
        <p className={`mt-1 text-sm ${tone.text}`}>
          {pending > 0
            ? "The buyer was charged twice for one checkout. The extra charge is not in your balance and will be refunded to the buyer."
            : "The buyer was charged twice for one checkout. The extra charge was never in your balance and has been refunded to the buyer."}
        </p>
      </div>
      <ul className={`divide-y ${tone.rule}`}>
        {items.map((d) => (
          <li key={d.id} className="flex flex-col gap-1 px-4 py-3 text-sm" data-testid="double-charge">
            <div className="flex flex-wrap items-center justify-between gap-2">
              <span>
                <span className="font-semibold tabular-nums">
                  {formatDecimalMoney(d.amount, d.currency)}
                </span>{" "}
                · {pspLabel(d.psp)} · <span className="font-mono text-xs">{d.pspReference}</span>
              </span>
              <RefundStatus status={d.status} />
            </div>
            <div className="flex flex-wrap gap-x-4 gap-y-1 text-slate-600">
              <span>
                Checkout <span className="font-mono text-xs">{d.checkoutId}</span>
              </span>
              <span>
                Charged <Time value={d.createdAt} />
              </span>
              {d.status === "refunded" ? (
                <span>
                  Refunded{d.resolvedAt ? <> <Time value={d.resolvedAt} /></> : null}
                  {d.resolutionNote ? `: ${d.resolutionNote}` : ""}
                </span>
              ) : null}
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

function RefundStatus({ status }: { status: "awaiting_refund" | "refunded" }) {
  const refunded = status === "refunded";
  return (
    <span
      className={`inline-flex rounded-md px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${refunded ? "bg-green-50 text-green-800 ring-green-600/20" : "bg-amber-100 text-amber-900 ring-amber-600/30"}`}
      data-status={status}
    >
      {refunded ? "Refunded" : "Refund pending"}
    </span>
  );
}
