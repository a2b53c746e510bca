"use client";

import { useEffect, useState } from "react";
import { buttonClasses } from "@/components/ui/button";
import { formatDateTime, formatMoney } from "@/components/ui/format";
import type { BuyerCheckout } from "@/server/payments/buyer-checkout";
import { ReasonPanel } from "./checkout-frame";

// The end of a checkout: the receipt of a paid one, or why it can no longer be paid; and the way back to the
// shop. The automatic return replaces this page in the history (location.replace), so Back from the shop
// never lands here to be sent forward again; a page shown again from history never redirects by itself.

/** Seconds before the buyer is sent back to the shop after a checkout finishes on this visit. */
export const REDIRECT_AFTER_S = 5;

function returnUrlWith(base: string, checkoutId: string, status: "succeeded" | "failed"): string {
  const u = new URL(base);
  u.searchParams.set("checkout_id", checkoutId);
  u.searchParams.set("status", status);
  return u.toString();
}

/** This document came from the back/forward history (a reload of such an entry included). */
function shownFromHistory(): boolean {
  const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming | undefined;
  return nav?.type === "back_forward";
}

function ReturnToShop({ checkout, status, auto }: { checkout: BuyerCheckout; status: "succeeded" | "failed"; auto: boolean }) {
  const target = returnUrlWith(checkout.returnUrl, checkout.checkoutId, status);
  // `auto` is only ever true after the checkout finished in this browser (never on the server render), so
  // reading the navigation type here cannot make the two renders differ.
  const [left, setLeft] = useState<number | null>(() => (auto && typeof window !== "undefined" && !shownFromHistory() ? REDIRECT_AFTER_S : null));
  useEffect(() => {
    // Restored from the back/forward cache: the countdown's state came back with it; stop it.
    const onShow = (e: PageTransitionEvent) => e.persisted && setLeft(null);
    window.addEventListener("pageshow", onShow);
    return () => window.removeEventListener("pageshow", onShow);
  }, []);
  useEffect(() => {
    if (left === null) return;
    if (left <= 0) {
      window.location.replace(target);
      return;
    }
    const t = setTimeout(() => setLeft((s) => (s === null ? null : s - 1)), 1000);
    return () => clearTimeout(t);
  }, [left, target]);
  return (
    <p className="mt-3 text-sm print:hidden" data-testid="return-to-shop">
      {left !== null ? <>Returning you to {checkout.merchantName} in {left} s. </> : null}
      <a
        className={left !== null ? "font-medium underline" : buttonClasses({ variant: "secondary" })}
        href={target}
        onClick={(e) => {
          e.preventDefault();
          window.location.replace(target);
        }}
      >
        {left !== null ? "Return now" : `Return to ${checkout.merchantName}`}
      </a>
    </p>
  );
}

const BRANDS: Record<string, string> = { visa: "Visa", mastercard: "Mastercard", amex: "American Express", discover: "Discover", jcb: "JCB", diners: "Diners Club", unionpay: "UnionPay" };

function paidWith(r: NonNullable<BuyerCheckout["receipt"]>): string {
  if (r.method === "mpesa") return "M-Pesa";
  const brand = r.cardBrand ? (BRANDS[r.cardBrand] ?? r.cardBrand) : "Card";
  return r.cardLast4 ? `${brand} ending ${r.cardLast4}` : brand;
}

export function SuccessPanel({ checkout, locale, autoReturn }: { checkout: BuyerCheckout; locale: string; autoReturn: boolean }) {
  const r = checkout.receipt;
  const rows: [string, string, string][] = r
    ? [
        ["Reference", r.reference, "receipt-reference"],
        ["Amount", formatMoney(checkout.totalMinor, checkout.currency, locale), "receipt-amount"],
        ["Paid with", paidWith(r), "receipt-method"],
        ...(r.mpesaReceipt ? ([["M-Pesa receipt", r.mpesaReceipt, "receipt-mpesa"]] as [string, string, string][]) : []),
        ["Paid on", formatDateTime(r.paidAt, checkout.branding.timeZone), "receipt-time"],
        ["Paid to", checkout.merchantName, "receipt-merchant"],
        ...(checkout.branding.supportEmail ? ([["Support", checkout.branding.supportEmail, "receipt-support"]] as [string, string, string][]) : []),
      ]
    : [];
  return (
    <section role="status" aria-labelledby="paid-heading" className="rounded-lg border border-green-200 bg-green-50 p-4 text-green-950 print:border-slate-400 print:bg-white" data-testid="receipt">
      <h2 id="paid-heading" className="text-lg font-semibold">
        Payment successful
      </h2>
      <p className="mt-1 text-sm">Keep this receipt for your records.</p>
      {rows.length > 0 ? (
        <dl className="mt-3 grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">
          {rows.map(([k, v, id]) => (
            <div key={id} className="contents">
              <dt className="font-medium">{k}</dt>
              <dd className="break-all" data-testid={id}>
                {v}
              </dd>
            </div>
          ))}
        </dl>
      ) : null}
      <p className="mt-3 print:hidden">
        <button type="button" className={buttonClasses({ variant: "secondary", size: "sm" })} onClick={() => window.print()}>
          Print receipt
        </button>
      </p>
      <ReturnToShop checkout={checkout} status="succeeded" auto={autoReturn} />
    </section>
  );
}

function closedText(c: BuyerCheckout): { title: string; body: string } {
  const name = c.merchantName;
  switch (c.closedReason) {
    case "expired":
      return { title: "This checkout has expired", body: `It was not paid in time, so nothing was charged. Go back to ${name} to start a new payment.` };
    case "risk_blocked":
      return { title: "This payment cannot be accepted", body: `${name}'s payment checks did not accept this payment, so nothing was charged. Contact ${name} if you think this is a mistake.` };
    case "review_rejected":
      return { title: "This payment was declined after review", body: `${name} reviewed this payment and declined it, so nothing was charged. Contact ${name} to pay another way.` };
    default:
      return { title: "This checkout can no longer be paid", body: `Nothing was charged. Go back to ${name} to start a new payment.` };
  }
}

export function ClosedPanel({ checkout, autoReturn }: { checkout: BuyerCheckout; autoReturn: boolean }) {
  const { title, body } = closedText(checkout);
  return (
    <ReasonPanel tone="danger" title={title} testId="checkout-closed">
      <p data-reason={checkout.closedReason ?? undefined}>{body}</p>
      {checkout.branding.supportEmail ? <p className="mt-1">Support: {checkout.branding.supportEmail}</p> : null}
      <ReturnToShop checkout={checkout} status="failed" auto={autoReturn} />
    </ReasonPanel>
  );
}
