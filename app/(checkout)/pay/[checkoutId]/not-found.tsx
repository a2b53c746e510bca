import type { Metadata } from "next";
import { CheckoutFrame, ReasonPanel } from "@/components/checkout/checkout-frame";
import { checkoutTestMode } from "@/server/payments/buyer-checkout";

export const metadata: Metadata = { title: "Checkout not found", robots: { index: false } };

// /pay/<anything that is not a checkout>: a malformed id, an unknown one. No merchant is known, so the frame is
// the product's own; the page says what happened and what the buyer can do.
export default function CheckoutNotFound() {
  return (
    <CheckoutFrame branding={null} testMode={checkoutTestMode()}>
      <h1 className="text-2xl font-semibold">Checkout not found</h1>
      <ReasonPanel tone="neutral" title="This payment link does not work" testId="checkout-not-found">
        <p>The link may be mistyped or incomplete. Nothing has been charged.</p>
        <p className="mt-2">Go back to the shop you came from and start the payment again, or ask the shop for a new payment link.</p>
      </ReasonPanel>
    </CheckoutFrame>
  );
}
