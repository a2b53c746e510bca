import { Card } from "@/components/ui/card";
import { EmptyState } from "@/components/ui/empty-state";
import { Money } from "@/components/ui/money";
import type { CurrencyTotals } from "@/server/merchants/overview-stats";

// Balance totals per currency over all the merchant's sellers (from the ledger): one tile per currency.

const FIGURES = [
  { key: "pendingMinor", label: "Pending", hint: "Paid by buyers, not yet settled by the PSP" },
  { key: "availableMinor", label: "Available", hint: "Settled; can be paid out" },
  { key: "onHoldMinor", label: "On hold", hint: "Reserved for payouts in progress" },
] as const;

export function OverviewTotals({ totals }: { totals: CurrencyTotals[] }) {
  return (
    <Card title="Balances" description="What your sellers are owed, per currency, from the ledger.">
      {totals.length === 0 ? (
        <EmptyState title="No balances yet" description="When a payment succeeds, what each seller earned shows here as pending until the PSP settles it." />
      ) : (
        <div className="grid gap-4 sm:grid-cols-2 xl:grid-cols-3">
          {totals.map((t) => (
            <section key={t.currency} aria-labelledby={`totals-${t.currency}`} className="rounded-md border border-slate-200 p-3" data-testid={`totals-${t.currency}`}>
              <h3 id={`totals-${t.currency}`} className="text-sm font-semibold text-slate-800">
                {t.currency}
              </h3>
              <dl className="mt-2 grid grid-cols-1 gap-2">
                {FIGURES.map((f) => (
                  <div key={f.key} className="flex flex-wrap items-baseline justify-between gap-x-3">
                    <dt className="text-sm text-slate-600" title={f.hint}>
                      {f.label}
                    </dt>
                    <dd className="text-base font-semibold text-slate-900" data-testid={f.key.replace("Minor", "")}>
                      <Money amount={t[f.key]} currency={t.currency} />
                    </dd>
                  </div>
                ))}
              </dl>
            </section>
          ))}
        </div>
      )}
    </Card>
  );
}
