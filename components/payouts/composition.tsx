import Link from "next/link";
import { disputeHref } from "@/components/disputes/links";
import { paymentDetailHref } from "@/components/payments/links";
import { buttonClasses } from "@/components/ui/button";
import { cn } from "@/components/ui/cn";
import { formatMoney } from "@/components/ui/format";
import { Time } from "@/components/ui/time";
import { parseMoney } from "@/server/money/money";
import type { PayoutItemView } from "@/server/payouts/types";
import { payoutHref, payoutItemsCsvHref } from "./links";

// A payout's composition, frozen when it was created: every ledger movement of the seller's money it pays out
// (payments, their fees, refunds, dispute debits, adjustments) plus the balance carried over from the previous
// payout and the part carried forward to the next one. The total row sums the items exactly (bigint minor units)
// and says whether it equals the payout's amount (it always should: the server asserts it before inserting).

export const PAYOUT_ITEM_LABELS: Record<string, string> = {
  carried_over: "Carried over",
  payment: "Payment",
  fee: "Platform fee",
  refund: "Refund",
  dispute: "Dispute debit",
  dispute_reversal: "Dispute won",
  payout_returned: "Payout returned",
  adjustment: "Adjustment",
  carried_forward: "Carried forward",
};

const SOURCE_PAGE: Record<string, (id: string) => string> = { payout: payoutHref, dispute: disputeHref };

function Reference({ item }: { item: PayoutItemView }) {
  if (item.payment_order_id) {
    return (
      <Link href={paymentDetailHref(item.payment_order_id)} className="font-mono text-xs break-all text-slate-900 underline underline-offset-2 hover:text-brand-700">
        {item.payment_order_id}
      </Link>
    );
  }
  if (item.source_id && item.source_type && SOURCE_PAGE[item.source_type]) {
    return (
      <Link href={SOURCE_PAGE[item.source_type]!(item.source_id)} className="font-mono text-xs break-all text-slate-900 underline underline-offset-2 hover:text-brand-700">
        {item.source_id}
      </Link>
    );
  }
  return item.source_id ? <span className="font-mono text-xs break-all">{item.source_id}</span> : <span className="text-slate-600">—</span>;
}

export function PayoutComposition({ payoutId, items, amount, currency }: { payoutId: string; items: PayoutItemView[]; amount: string; currency: string }) {
  const amountMinor = parseMoney(amount, currency).amount;
  const total = items.reduce((sum, i) => sum + parseMoney(i.amount, currency).amount, 0n);
  const matches = total === amountMinor;
  return (
    <div className="flex flex-col gap-3">
      <div className="relative overflow-x-auto rounded-lg border border-slate-200 bg-white" role="region" aria-label="Payout composition" tabIndex={0}>
        <table className="w-full text-left text-sm" data-testid="payout-composition">
          <caption className="sr-only">Payout composition: every item of the payout, summing to its amount</caption>
          <thead className="bg-slate-50 text-slate-600">
            <tr>
              <th scope="col" className="px-3 py-2 text-xs font-semibold tracking-wide whitespace-nowrap uppercase">Item</th>
              <th scope="col" className="hidden px-3 py-2 text-xs font-semibold tracking-wide whitespace-nowrap uppercase md:table-cell">Reference</th>
              <th scope="col" className="hidden px-3 py-2 text-xs font-semibold tracking-wide whitespace-nowrap uppercase md:table-cell">Date</th>
              <th scope="col" className="px-3 py-2 text-right text-xs font-semibold tracking-wide whitespace-nowrap uppercase">Amount</th>
            </tr>
          </thead>
          <tbody>
            {items.map((item, i) => {
              const minor = parseMoney(item.amount, currency).amount;
              return (
                <tr key={`${item.kind}-${item.source_id ?? ""}-${i}`} className="border-t border-slate-100 align-top" data-testid="payout-item" data-kind={item.kind} data-minor={minor.toString()}>
                  <td className="px-3 py-2">
                    <span className="font-medium text-slate-900">{PAYOUT_ITEM_LABELS[item.kind] ?? item.kind}</span>
                    <span className="block text-xs text-slate-600">{item.description}</span>
                    <span className="block md:hidden">
                      <Reference item={item} />
                    </span>
                  </td>
                  <td className="hidden px-3 py-2 md:table-cell">
                    <Reference item={item} />
                  </td>
                  <td className="hidden px-3 py-2 md:table-cell">
                    <Time value={item.occurred_at} className="text-xs whitespace-nowrap" />
                  </td>
                  <td className={cn("px-3 py-2 text-right whitespace-nowrap tabular-nums", minor < 0n ? "text-red-800" : "text-slate-900")}>{formatMoney(minor, currency)}</td>
                </tr>
              );
            })}
            {items.length === 0 ? (
              <tr>
                <td colSpan={4} className="px-4 py-6 text-center text-sm text-slate-600">
                  This payout has no items.
                </td>
              </tr>
            ) : null}
          </tbody>
          <tfoot>
            <tr className="border-t-2 border-slate-300 bg-slate-50">
              <th scope="row" className="px-3 py-2 text-left font-semibold text-slate-900 md:hidden">
                Total
              </th>
              <th scope="row" colSpan={3} className="hidden px-3 py-2 text-left font-semibold text-slate-900 md:table-cell">
                Total ({items.length} {items.length === 1 ? "item" : "items"})
              </th>
              <td className="px-3 py-2 text-right font-semibold whitespace-nowrap tabular-nums" data-testid="composition-total" data-minor={total.toString()}>
                {formatMoney(total, currency)}
              </td>
            </tr>
          </tfoot>
        </table>
      </div>
      <div className="flex flex-wrap items-center justify-between gap-3">
        {matches ? (
          <p className="text-sm text-slate-700" data-testid="composition-check" data-matches="true">
            The items sum exactly to the payout amount, {formatMoney(amountMinor, currency)}.
          </p>
        ) : (
          <p role="alert" className="text-sm font-medium text-red-700" data-testid="composition-check" data-matches="false">
            The items sum to {formatMoney(total, currency)}, not the payout amount {formatMoney(amountMinor, currency)}. Contact support.
          </p>
        )}
        <a href={payoutItemsCsvHref(payoutId)} className={buttonClasses({ variant: "secondary", size: "sm" })} download data-testid="composition-csv">
          Download CSV<span className="sr-only"> of the composition of payout {payoutId}</span>
        </a>
      </div>
    </div>
  );
}
