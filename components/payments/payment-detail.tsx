import Link from "next/link";
import type { ReactNode } from "react";
import { Badge, type BadgeTone } from "@/components/ui/badge";
import { buttonClasses } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { EmptyState } from "@/components/ui/empty-state";
import { Money } from "@/components/ui/money";
import { Time } from "@/components/ui/time";
import { RefundsSection } from "@/components/refunds/refunds-section";
import type { PaymentDetail, PaymentMethodDetails } from "@/server/payments/payment-detail";
import { BuyerReveal } from "./buyer-reveal";
import { PaymentOrdersTable } from "./payment-orders-table";
import { PaymentTimeline } from "./payment-timeline";

// The payment detail page (dashboard and ops console): a checkout, its orders with fee and net per seller, how it
// was paid, who paid (masked; the clear read is a logged reveal), its full timeline, and its refunds and disputes
// (components/refunds/refunds-section.tsx: the Refund dialog for admins on the dashboard).

const CHECKOUT_TONE: Record<string, BadgeTone> = { completed: "success", processing: "warning", open: "info", review: "warning", failed: "danger", blocked: "danger" };
const CHECKOUT_LABEL: Record<string, string> = { completed: "Paid", processing: "Processing", open: "Awaiting payment", review: "In risk review", failed: "Failed", blocked: "Blocked" };

function Facts({ children }: { children: ReactNode }) {
  return <dl className="grid grid-cols-1 gap-x-6 gap-y-3 text-sm sm:grid-cols-2 lg:grid-cols-3">{children}</dl>;
}

function Fact({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <div className="min-w-0" data-testid={testId}>
      <dt className="text-xs text-slate-600">{label}</dt>
      <dd className="mt-0.5 break-words text-slate-900">{children}</dd>
    </div>
  );
}

function methodText(m: PaymentMethodDetails): string {
  if (m.method === "mpesa") return m.phoneHint ? `M-Pesa, phone ending ${m.phoneHint.slice(-3)}` : "M-Pesa";
  const brand = m.card?.brand ? m.card.brand.charAt(0).toUpperCase() + m.card.brand.slice(1) : "Card";
  return m.card?.last4 ? `${brand} ending ${m.card.last4}` : brand;
}

function MethodFacts({ method }: { method: PaymentMethodDetails | null }) {
  if (!method) return <Fact label="Payment method">Not chosen yet</Fact>;
  return (
    <>
      <Fact label="Payment method" testId="payment-method">
        {methodText(method)}
      </Fact>
      <Fact label="PSP reference">
        <span className="font-mono text-xs break-all">{method.pspReference ?? "—"}</span>
      </Fact>
      <Fact label={method.method === "mpesa" ? "M-Pesa receipt" : "Charge"}>
        <span className="font-mono text-xs break-all" data-testid="payment-receipt">
          {method.receipt ?? "—"}
        </span>
      </Fact>
    </>
  );
}

export function PaymentDetailView({ detail, scope, backHref, canRefund = false }: { detail: PaymentDetail; scope: "merchant" | "ops"; backHref: string; canRefund?: boolean }) {
  const c = detail.checkout;
  const title = detail.focusPaymentOrderId ?? c.id;
  return (
    <div className="flex flex-col gap-4" data-testid="payment-detail" data-checkout-id={c.id}>
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div className="min-w-0">
          <Link href={backHref} className="text-sm text-brand-700 underline-offset-2 hover:underline">
            ← {scope === "ops" ? "Ops console" : "Payments"}
          </Link>
          <h2 className="mt-1 flex flex-wrap items-center gap-2 text-base font-semibold">
            <span className="break-all">Payment {title}</span>
            <Badge tone={CHECKOUT_TONE[c.status] ?? "neutral"} data-status={c.status}>
              {CHECKOUT_LABEL[c.status] ?? c.status}
            </Badge>
            {detail.doubleCharges.length > 0 ? (
              <Badge tone="danger" data-testid="double-charge-flag">
                Charged twice
              </Badge>
            ) : null}
          </h2>
        </div>
        <p className="text-2xl font-semibold">
          <Money amount={c.totalAmount} currency={c.currency} />
        </p>
      </div>

      <Card title="Summary" headingLevel={3}>
        <Facts>
          <Fact label="Checkout">
            <span className="font-mono text-xs break-all">{c.id}</span>
          </Fact>
          {scope === "ops" ? (
            <Fact label="Merchant">
              <Link href={`/ops/merchants/${encodeURIComponent(c.merchantId)}`} className="text-brand-700 underline underline-offset-2">
                {c.merchantName}
              </Link>{" "}
              <span className="font-mono text-xs text-slate-600">{c.merchantId}</span>
            </Fact>
          ) : null}
          <Fact label="Created">
            <Time value={c.createdAt} />
          </Fact>
          <Fact label="Platform fee" testId="total-fee">
            <Money amount={c.totalFee} currency={c.currency} /> <span className="text-xs text-slate-600">({(c.feeBps / 100).toFixed(2)} %)</span>
          </Fact>
          <Fact label="Net to sellers" testId="total-net">
            <Money amount={c.totalNet} currency={c.currency} />
          </Fact>
          <MethodFacts method={detail.method} />
          <Fact label="Buyer">
            <span data-testid="buyer-masked">{c.buyer.emailMasked ?? "—"}</span>
            {c.buyer.country ? <span className="text-slate-600"> · {c.buyer.country}</span> : null}
            <span className="mt-1 block">
              <BuyerReveal checkoutId={c.id} scope={scope} />
            </span>
          </Fact>
        </Facts>
        {detail.doubleCharges.length > 0 ? (
          <ul className="mt-4 flex flex-col gap-1 rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-900" data-testid="double-charges">
            {detail.doubleCharges.map((d) => (
              <li key={d.id}>
                The buyer was charged a second time: <Money amount={d.amount} currency={d.currency} /> ({d.pspReference}),{" "}
                {d.status === "refunded" ? "refunded." : "owed back to the buyer until it is refunded."}
              </li>
            ))}
          </ul>
        ) : null}
      </Card>

      <Card title="Payment orders" description="One per seller, in the order you sent them. The fee is as posted in the ledger once paid." headingLevel={3}>
        <PaymentOrdersTable orders={detail.orders} focusPaymentOrderId={detail.focusPaymentOrderId} />
      </Card>

      <Card title="Refunds and disputes" description="Money given back to the buyer, per payment order, and chargebacks on the charge." headingLevel={3} data-testid="refunds-disputes">
        <RefundsSection orders={detail.orders} refunds={detail.refunds} disputes={detail.disputes} wallets={detail.sellerWallets} canRefund={scope === "merchant" && canRefund} scope={scope} />
      </Card>

      <Card title="Timeline" description="Everything that happened to this payment, oldest first." headingLevel={3}>
        <PaymentTimeline entries={detail.timeline} truncated={detail.timelineTruncated} />
      </Card>
    </div>
  );
}

/** The branded answer for a payment that does not exist here (unknown, malformed or another merchant's id). */
export function PaymentNotFound({ backHref, scope }: { backHref: string; scope: "merchant" | "ops" }) {
  return (
    <div className="rounded-lg border border-slate-200 bg-white" data-testid="payment-not-found">
      <h2 className="sr-only">Payment not found</h2>
      <EmptyState
        title="Payment not found"
        description={
          scope === "ops"
            ? "No checkout has this id. Check the id, or find the payment from the merchant's page."
            : "There is no payment with this id in this account. It may belong to another account you can switch to, or the link may be mistyped."
        }
        action={
          <Link href={backHref} className={buttonClasses({ variant: "secondary", size: "sm" })}>
            {scope === "ops" ? "Back to the ops console" : "Back to payments"}
          </Link>
        }
      />
    </div>
  );
}
