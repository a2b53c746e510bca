import type { Metadata } from "next";
import Link from "next/link";
import { MerchantDetailTables } from "@/components/ops/merchant-tables";
import { Card } from "@/components/ui/card";
import { forPage } from "@/server/trpc/page-guard";
import { serverCaller } from "@/server/trpc/rsc";

// Ops drill-down of one merchant: settings and fee, team, balances per currency, recent payments (each opens
// /ops/payments/<checkoutId>), open exceptions and double charges, latest audit entries. ops.merchantDetail decides
// who may see it (ops only); an unknown id is not_found, which forPage turns into /no-access.

export const metadata: Metadata = { title: "Merchant" };

export default async function OpsMerchantPage({ params }: { params: Promise<{ merchantId: string }> }) {
  const { merchantId } = await params;
  const caller = await serverCaller();
  const d = await forPage(() => caller.ops.merchantDetail({ merchantId: decodeURIComponent(merchantId).slice(0, 64) }));
  const m = d.merchant;
  const settings: [string, string][] = [
    ["Id", m.id],
    ["Display name", m.displayName ?? "— (uses the name)"],
    ["Country", m.country],
    ["Default currency", m.defaultCurrency],
    ["Platform fee", `${(m.platformFeeBps / 100).toFixed(2)}% (${m.platformFeeBps} bps)`],
    ["Time zone", m.timeZone],
    ["Support email", m.supportEmail ?? "—"],
    ["Logo", m.logoUrl ?? "—"],
    ["Accent colour", m.accentColor ?? "—"],
    ["Sellers", d.sellers.map((s) => `${s.name} (${s.reference}, ${s.defaultCurrency})`).join("; ") || "—"],
  ];
  return (
    <div className="flex flex-col gap-4" data-testid="merchant-detail">
      <p className="text-sm">
        <Link className="underline" href="/ops">
          ← Merchants
        </Link>
      </p>
      <Card title={m.name} description={`${d.openExceptions.count} open exception${d.openExceptions.count === 1 ? "" : "s"} · ${d.doubleCharges.length} double charge${d.doubleCharges.length === 1 ? "" : "s"} awaiting a refund`}>
        <dl className="grid gap-x-6 gap-y-2 text-sm sm:grid-cols-2">
          {settings.map(([k, v]) => (
            <div key={k} className="flex min-w-0 flex-col">
              <dt className="text-slate-600">{k}</dt>
              <dd className="break-all text-slate-900">{v}</dd>
            </div>
          ))}
        </dl>
      </Card>
      <MerchantDetailTables
        merchantId={m.id}
        members={d.members}
        balances={d.balances.map((b) => ({ currency: b.currency, pending: b.pending.toString(), available: b.available.toString(), onHold: b.onHold.toString() }))}
        payments={d.recentPayments.map((p) => ({ ...p, amount: p.amount.toString() }))}
        exceptions={d.openExceptions.items}
        doubleCharges={d.doubleCharges.map((c) => ({ ...c, amount: c.amount.toString() }))}
        audit={d.recentAudit}
      />
    </div>
  );
}
