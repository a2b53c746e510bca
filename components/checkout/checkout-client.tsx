"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { useTRPC } from "@/components/trpc/react";
import type { BuyerCheckout } from "@/server/payments/buyer-checkout";
import { buyerFailureMessage } from "@/server/payments/failure-messages";

// The hosted checkout. Card entry happens in the PSP-hosted field (an iframe from the PSP / sandbox):
// the card number never reaches this page's code or our server; we only see a PaymentIntent id. The
// outcome shown here is read back from our server, which fetched it from the PSP.

export interface CheckoutConfig {
  publishableKey: string;
  stripeJsUrl: string;
}

type StripeLike = {
  elements: (o: { clientSecret: string }) => { create: (type: string) => { mount: (el: HTMLElement) => void; destroy: () => void } };
  confirmPayment: (o: unknown) => Promise<{ error?: { code?: string; decline_code?: string; message?: string; payment_intent?: { id: string } }; paymentIntent?: { id: string; status: string } }>;
};
declare global {
  interface Window {
    Stripe?: (pk: string) => StripeLike;
  }
}

const POLL_MS = 1500;
const REDIRECT_AFTER_S = 5;

function loadStripeJs(url: string): Promise<void> {
  if (window.Stripe) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = url;
    s.onload = () => resolve();
    s.onerror = () => reject(new Error("The card form could not be loaded. Check your connection and reload."));
    document.head.appendChild(s);
  });
}

function returnUrlWith(base: string, checkoutId: string, status: "succeeded" | "failed"): string {
  const u = new URL(base);
  u.searchParams.set("checkout_id", checkoutId);
  u.searchParams.set("status", status);
  return u.toString();
}

export function CheckoutClient({ initial, config }: { initial: BuyerCheckout; config: CheckoutConfig }) {
  const trpc = useTRPC();
  const [method, setMethod] = useState<"card" | "mpesa">(initial.attempt?.method ?? "card");
  const checkout = useQuery({
    ...trpc.checkout.get.queryOptions({ checkoutId: initial.checkoutId }),
    initialData: initial,
    refetchInterval: (q) => (q.state.data?.status === "processing" ? POLL_MS : false),
  });
  const data = checkout.data ?? initial;
  const paid = data.status === "completed";
  return (
    <main className="mx-auto flex min-h-screen w-full max-w-lg flex-col gap-6 px-4 py-8">
      <header>
        <p className="text-sm text-slate-500">Pay {data.merchantName}</p>
        <h1 className="text-2xl font-semibold">
          {data.total} {data.currency}
        </h1>
      </header>
      <section aria-labelledby="summary" className="rounded-lg border border-slate-200 bg-white">
        <h2 id="summary" className="border-b border-slate-200 px-4 py-2 text-sm font-semibold">
          Order summary
        </h2>
        <ul>
          {data.orders.map((o) => (
            <li key={o.sellerName} className="flex justify-between px-4 py-2 text-sm" data-testid="order-line">
              <span>{o.sellerName}</span>
              <span className="tabular-nums">
                {o.amount} {data.currency}
              </span>
            </li>
          ))}
        </ul>
      </section>
      {paid ? (
        <Outcome checkout={data} status="succeeded" />
      ) : data.status === "review" ? (
        <section role="status" className="rounded-lg bg-amber-50 p-4 text-amber-900">
          <h2 className="text-lg font-semibold">This payment is being reviewed</h2>
          <p className="mt-1 text-sm">{data.merchantName} will let you know when you can pay. You have not been charged.</p>
        </section>
      ) : data.status === "open" || data.status === "processing" ? (
        <>
          <fieldset className="flex gap-2" disabled={data.status === "processing"}>
            <legend className="mb-2 text-sm font-semibold">Pay with</legend>
            {(["card", "mpesa"] as const).map((m) => {
              const unavailable = m === "mpesa" && !data.mpesaAvailable;
              return (
                <label key={m} className={`flex-1 rounded-md border px-3 py-2 text-center text-sm font-medium ${unavailable ? "cursor-not-allowed opacity-50" : "cursor-pointer"} ${method === m ? "border-brand-600 bg-brand-50" : "border-slate-300"}`}>
                  <input type="radio" name="method" value={m} checked={method === m} disabled={unavailable} onChange={() => setMethod(m)} className="sr-only" />
                  {m === "card" ? "Card" : "M-Pesa"}
                </label>
              );
            })}
          </fieldset>
          {data.mpesaUnavailableReason ? <p className="-mt-4 text-xs text-slate-500">{data.mpesaUnavailableReason}</p> : null}
          {method === "card" ? <CardForm checkout={data} config={config} onSubmitted={() => void checkout.refetch()} /> : <MpesaForm checkout={data} onStarted={() => void checkout.refetch()} />}
        </>
      ) : (
        <Outcome checkout={data} status="failed" />
      )}
    </main>
  );
}

function Outcome({ checkout, status }: { checkout: BuyerCheckout; status: "succeeded" | "failed" }) {
  const [left, setLeft] = useState(REDIRECT_AFTER_S);
  const target = returnUrlWith(checkout.returnUrl, checkout.checkoutId, status);
  useEffect(() => {
    if (left <= 0) {
      window.location.assign(target);
      return;
    }
    const t = setTimeout(() => setLeft((s) => s - 1), 1000);
    return () => clearTimeout(t);
  }, [left, target]);
  return (
    <section role="status" className={`rounded-lg p-4 ${status === "succeeded" ? "bg-green-50 text-green-900" : "bg-red-50 text-red-900"}`}>
      <h2 className="text-lg font-semibold">{status === "succeeded" ? "Payment successful" : "This checkout can no longer be paid"}</h2>
      <p className="mt-1 text-sm">
        Returning you to {checkout.merchantName} in {left} s.{" "}
        <a className="underline" href={target}>
          Return now
        </a>
      </p>
    </section>
  );
}

function CardForm({ checkout, config, onSubmitted }: { checkout: BuyerCheckout; config: CheckoutConfig; onSubmitted: () => void }) {
  const trpc = useTRPC();
  const mountRef = useRef<HTMLDivElement>(null);
  const stripeRef = useRef<{ stripe: StripeLike; elements: ReturnType<StripeLike["elements"]> } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [ready, setReady] = useState(false);
  const [busy, setBusy] = useState(false);
  const prepare = useMutation(trpc.checkout.prepareCard.mutationOptions());
  const submit = useMutation(trpc.checkout.submitCard.mutationOptions());
  const { mutateAsync: prepareAsync } = prepare;

  useEffect(() => {
    let cancelled = false;
    let element: { destroy: () => void } | undefined;
    (async () => {
      try {
        const session = await prepareAsync({ checkoutId: checkout.checkoutId });
        await loadStripeJs(config.stripeJsUrl);
        if (cancelled || !mountRef.current || !window.Stripe) return;
        const stripe = window.Stripe(config.publishableKey);
        const elements = stripe.elements({ clientSecret: session.clientSecret });
        const el = elements.create("payment");
        el.mount(mountRef.current);
        element = el;
        stripeRef.current = { stripe, elements };
        setReady(true);
      } catch (e) {
        if (!cancelled) setError(e instanceof Error ? e.message : "The card form could not be loaded.");
      }
    })();
    return () => {
      cancelled = true;
      element?.destroy();
    };
  }, [checkout.checkoutId, config.publishableKey, config.stripeJsUrl, prepareAsync]);

  // Back from a bank's 3-D Secure page (live Stripe may redirect): tell our server, which asks the PSP.
  const { mutate: submitReturned } = submit;
  useEffect(() => {
    const params = new URLSearchParams(window.location.search);
    const returned = params.get("payment_intent");
    if (!returned) return;
    window.history.replaceState(null, "", window.location.pathname);
    submitReturned({ checkoutId: checkout.checkoutId, paymentIntentId: returned }, { onSettled: onSubmitted });
  }, [checkout.checkoutId, submitReturned, onSubmitted]);

  const processing = checkout.status === "processing";
  const failure = !processing && checkout.attempt?.method === "card" ? checkout.attempt.failureMessage : null;
  // Past the decline limits the PaymentIntent in this form was canceled: the server's message says what next.
  const closed = checkout.attempt?.method === "card" && checkout.attempt.retiredForDeclines;

  async function pay() {
    if (!stripeRef.current || busy) return; // a double click never confirms twice
    setBusy(true);
    setError(null);
    try {
      const { stripe, elements } = stripeRef.current;
      const result = await stripe.confirmPayment({ elements, redirect: "if_required", confirmParams: { return_url: window.location.href } });
      const piId = result.paymentIntent?.id ?? result.error?.payment_intent?.id;
      if (result.error) setError(buyerFailureMessage(result.error.decline_code ?? result.error.code, result.error.message) ?? "The payment failed.");
      // Whatever the field said, our server fetches the real outcome from the PSP.
      if (piId) await submit.mutateAsync({ checkoutId: checkout.checkoutId, paymentIntentId: piId });
      onSubmitted();
    } catch (e) {
      setError(e instanceof Error ? e.message : "The payment failed.");
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-label="Card payment" className="flex flex-col gap-3">
      <div ref={mountRef} className="min-h-16 rounded-md border border-slate-300 bg-white p-2" data-testid="card-field" />
      {error || failure ? (
        <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">
          {closed ? failure : (error ?? failure)}
        </p>
      ) : null}
      <button
        type="button"
        onClick={pay}
        disabled={!ready || busy || processing || closed}
        className="rounded-md bg-brand-600 px-4 py-3 text-base font-semibold text-white hover:bg-brand-700 disabled:opacity-60"
      >
        {busy || processing ? "Processing…" : `Pay ${checkout.total} ${checkout.currency}`}
      </button>
      <p className="text-xs text-slate-500">Card details are entered in a secure field hosted by our payment provider.</p>
    </section>
  );
}

function MpesaForm({ checkout, onStarted }: { checkout: BuyerCheckout; onStarted: () => void }) {
  const trpc = useTRPC();
  const [phone, setPhone] = useState("");
  const start = useMutation(trpc.checkout.startMpesa.mutationOptions({ onSuccess: onStarted }));
  const attempt = checkout.attempt?.method === "mpesa" ? checkout.attempt : null;
  const waiting = checkout.status === "processing" && attempt !== null;
  const failed = !waiting && attempt && (attempt.status === "failed" || attempt.status === "canceled");
  const fieldError = start.error?.message;
  return (
    <form
      className="flex flex-col gap-3"
      onSubmit={(e) => {
        e.preventDefault();
        if (!start.isPending && !waiting) start.mutate({ checkoutId: checkout.checkoutId, phone });
      }}
    >
      <label className="flex flex-col gap-1 text-sm font-medium">
        M-Pesa phone number
        <input
          name="phone"
          type="tel"
          inputMode="tel"
          autoComplete="tel"
          placeholder="0712 345 678"
          required
          value={phone}
          onChange={(e) => setPhone(e.target.value)}
          disabled={waiting}
          aria-invalid={fieldError ? true : undefined}
          className="rounded-md border border-slate-300 px-3 py-2 text-base font-normal"
        />
      </label>
      {checkout.mpesaPhoneHint ? (
        <p className="-mt-2 text-xs text-slate-500">
          {checkout.merchantName} sends M-Pesa requests for this payment only to the phone number you gave them (ending {checkout.mpesaPhoneHint}).
        </p>
      ) : null}
      {fieldError ? (
        <p role="alert" className="text-sm text-red-800">
          {fieldError}
        </p>
      ) : null}
      {waiting ? (
        <p role="status" className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900">
          Check your phone ({attempt.phoneHint}) and enter your M-Pesa PIN to pay {checkout.total} {checkout.currency}.
        </p>
      ) : null}
      {failed ? (
        <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">
          {attempt.failureMessage}
        </p>
      ) : null}
      <button type="submit" disabled={start.isPending || waiting} className="rounded-md bg-green-700 px-4 py-3 text-base font-semibold text-white hover:bg-green-800 disabled:opacity-60">
        {waiting ? "Waiting for M-Pesa…" : failed ? "Send again" : "Send payment request"}
      </button>
    </form>
  );
}
