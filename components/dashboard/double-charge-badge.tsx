// Beside a payment order whose checkout was charged twice (payments.list's doubleCharge).
export function DoubleChargeBadge({ status }: { status: "awaiting_refund" | "refunded" }) {
  const refunded = status === "refunded";
  return (
    <span
      className={`ml-2 inline-flex rounded-md px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${refunded ? "bg-slate-50 text-slate-700 ring-slate-500/20" : "bg-amber-100 text-amber-900 ring-amber-600/30"}`}
      title={refunded ? "The buyer was charged twice for this checkout; the extra charge was refunded." : "The buyer was charged twice for this checkout; the extra charge will be refunded."}
      data-testid="double-charge-badge"
      data-status={status}
    >
      {refunded ? "Charged twice · refunded" : "Charged twice"}
    </span>
  );
}
