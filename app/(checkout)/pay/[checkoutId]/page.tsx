import type { Metadata } from "next";
import { headers } from "next/headers";
import { notFound } from "next/navigation";
import { CheckoutClient } from "@/components/checkout/checkout-client";
import { buyerLocale } from "@/components/checkout/locale";
import { TRPCReactProvider } from "@/components/trpc/react";
import { getDb } from "@/db";
import { env } from "@/server/env.js";
import { AppError } from "@/server/errors";
import { getCheckoutForBuyer } from "@/server/payments/buyer-checkout";
import { sandboxUrl } from "@/server/psp/config";

export const metadata: Metadata = { title: "Checkout", robots: { index: false } };
export const dynamic = "force-dynamic";

// Public on purpose: the checkout id is the buyer's capability. Reads go through the same service the
// tRPC checkout router uses. A malformed or unknown id is the branded not-found page (not-found.tsx).
export default async function CheckoutPage({ params }: { params: Promise<{ checkoutId: string }> }) {
  const { checkoutId } = await params;
  if (!/^chk_[0-9A-Z]{26}$/.test(checkoutId)) notFound();
  const checkout = await getCheckoutForBuyer(getDb(), checkoutId).catch((e) => {
    if (e instanceof AppError && e.code === "not_found") notFound();
    throw e;
  });
  // Amounts are formatted in the buyer's language; the same locale goes to the browser so both renders agree.
  const locale = buyerLocale((await headers()).get("accept-language"));
  const stripeJsUrl = env.PSP_MODE === "live" ? "https://js.stripe.com/v3" : `${sandboxUrl()}/v3`;
  return (
    <TRPCReactProvider>
      <CheckoutClient initial={checkout} locale={locale} config={{ publishableKey: env.STRIPE_PUBLISHABLE_KEY, stripeJsUrl }} />
    </TRPCReactProvider>
  );
}
