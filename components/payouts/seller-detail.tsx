"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "@/components/trpc/react";
import { Card } from "@/components/ui/card";
import { formatDecimalMoney } from "@/components/ui/format";
import { Time } from "@/components/ui/time";
import { useNow } from "@/components/disputes/use-now";
import { destinationText } from "./destination";
import { DestinationForm } from "./destination-form";
import { PayoutsTable } from "./payouts-table";
import { RequestPayoutButton } from "./request-payout-dialog";
import { scheduleText } from "./schedule";
import { ScheduleForm } from "./schedule-form";
import { PayoutReadiness } from "./sellers-table";
import type { SellerBalance, SellerPayoutData } from "./types";

// One seller's payouts page (payouts.seller): balances per currency (available, pending, on hold, owed, and what a
// payout could take now) with Request payout for admins, the destination (with the 24 h hold after a change), the
// schedule, and the seller's payouts.

const BALANCE_TILES: { key: keyof Omit<SellerBalance, "currency">; label: string; help: string }[] = [
  { key: "available", label: "Available", help: "Settled by the PSP: can be paid out." },
  { key: "pending", label: "Pending", help: "Paid by buyers, not yet settled by the PSP." },
  { key: "onHold", label: "On hold", help: "Reserved for payouts not yet paid." },
  { key: "owed", label: "Owed", help: "Refunds and disputes above the balance: netted in the next payout." },
  { key: "payableNow", label: "Payable now", help: "What a payout could take now." },
];

function Balances({ seller, balance, canRequest, threshold }: { seller: SellerPayoutData; balance: SellerBalance; canRequest: boolean; threshold: { amount: string; currency: string } | null }) {
  return (
    <section aria-labelledby={`bal-${balance.currency}`} className="flex flex-col gap-3" data-testid="seller-balance" data-currency={balance.currency} data-available={balance.available} data-payable={balance.payableNow}>
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h3 id={`bal-${balance.currency}`} className="text-sm font-semibold text-slate-900">
          {balance.currency}
        </h3>
        {canRequest ? (
          <RequestPayoutButton sellerId={seller.id} sellerName={seller.name} currency={balance.currency} payableNow={balance.payableNow} destinationLabel={destinationText(seller.destination)} threshold={threshold} />
        ) : null}
      </div>
      <dl className="grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-5">
        {BALANCE_TILES.map((t) => (
          <div key={t.key} className={t.key === "payableNow" ? "rounded-md border border-brand-600/30 bg-brand-50 p-3" : "rounded-md border border-slate-200 p-3"}>
            <dt className="text-xs font-medium text-slate-600">{t.label}</dt>
            <dd className="mt-1 text-lg font-semibold whitespace-nowrap text-slate-900 tabular-nums" data-testid={`balance-${t.key}`}>
              {formatDecimalMoney(balance[t.key], balance.currency)}
            </dd>
            <dd className="mt-0.5 text-xs text-slate-600">{t.help}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

export function SellerDetailView({ initial, isAdmin, threshold }: { initial: SellerPayoutData; isAdmin: boolean; threshold: { amount: string | null; currency: string } }) {
  const trpc = useTRPC();
  const now = useNow().getTime();
  const qc = useQueryClient();
  const queryOptions = trpc.payouts.seller.queryOptions({ sellerId: initial.id });
  const query = useQuery({ ...queryOptions, initialData: initial, refetchInterval: 15_000 });
  const s = query.data;
  const held = s.heldUntil && new Date(s.heldUntil).getTime() > now;
  const onSaved = (next: SellerPayoutData) => {
    qc.setQueryData(queryOptions.queryKey, next);
    void qc.invalidateQueries({ queryKey: trpc.payouts.sellers.queryKey() });
  };
  const limit = threshold.amount ? { amount: threshold.amount, currency: threshold.currency } : null;

  return (
    <div className="flex flex-col gap-6" data-testid="seller-detail" data-seller-id={s.id}>
      <div>
        <Link href="/dashboard/sellers" className="text-sm text-slate-700 underline underline-offset-2 hover:text-brand-700">
          ← All sellers
        </Link>
      </div>
      <Card title={s.name} description={`${s.reference} · ${scheduleText(s.schedule, s.defaultCurrency)}`} actions={<PayoutReadiness seller={s} now={now} />}>
        <div className="flex flex-col gap-5">
          {!s.destination ? (
            <p className="rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="no-destination-notice">
              This seller has no payout destination: nothing can be paid out until an admin sets one below.
            </p>
          ) : null}
          {held ? (
            <p className="rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="held-notice">
              Payouts are held until <Time value={s.heldUntil} className="font-semibold" /> because the payout destination changed. This 24-hour hold guards against a destination changed by
              someone who should not; the balance is paid out after it.
            </p>
          ) : null}
          {s.balances.map((b) => (
            <Balances key={b.currency} seller={s} balance={b} canRequest={isAdmin && Boolean(s.destination) && !held} threshold={limit} />
          ))}
        </div>
      </Card>

      <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
        <Card title="Payout destination" description="Where this seller's payouts are sent.">
          <DestinationForm key={s.destination ? JSON.stringify(s.destination) : "none"} seller={s} canEdit={isAdmin} onSaved={onSaved} />
        </Card>
        <Card title="Schedule" description="When PayBridge pays this seller without anyone asking.">
          <ScheduleForm seller={s} canEdit={isAdmin} onSaved={onSaved} />
        </Card>
      </div>

      <section className="flex flex-col gap-3" aria-labelledby="seller-payouts-heading">
        <h2 id="seller-payouts-heading" className="text-base font-semibold">
          Payouts of {s.name}
        </h2>
        <PayoutsTable sellerId={s.id} />
      </section>
    </div>
  );
}
