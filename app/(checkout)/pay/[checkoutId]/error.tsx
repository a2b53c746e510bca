"use client";

import { CheckoutFrame, ReasonPanel } from "@/components/checkout/checkout-frame";

// An unexpected failure loading the checkout (the database down, …): the buyer is told nothing was charged by
// this page and may retry; the digest lets support find the log line.
export default function CheckoutError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <CheckoutFrame branding={null} testMode={false}>
      <h1 className="text-2xl font-semibold">Checkout unavailable</h1>
      <ReasonPanel tone="warning" title="This checkout could not be loaded">
        <p>Something went wrong on our side. Try again in a moment. Reference: {error.digest ?? "unknown"}</p>
        <button type="button" onClick={reset} className="mt-3 rounded-md border border-slate-300 bg-white px-3 py-1.5 font-medium text-slate-800">
          Try again
        </button>
      </ReasonPanel>
    </CheckoutFrame>
  );
}
