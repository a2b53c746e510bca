"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import { useTRPC } from "@/components/trpc/react";
import { cn } from "@/components/ui/cn";
import { formatMoney } from "@/components/ui/format";
import type { BuyerCheckout, BuyerCheckoutStatus } from "@/server/payments/buyer-checkout";
import { buyerFailureMessage } from "@/server/payments/failure-messages";
import { CheckoutFrame, ReasonPanel } from "./checkout-frame";
import { ClosedPanel, SuccessPanel } from "./outcome";

// The hosted checkout. Card entry happens in the PSP-hosted field (an iframe from the PSP / sandbox):
// the card number never reaches this page's code or our server; we only see a PaymentIntent id. The
// outcome shown here is read back from our server, which fetched it from the PSP.
// Amounts are formatted with the locale the server read from Accept-Language (the same on both renders).

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

/**
 * Status polling: first interval, growth per poll, ceiling. Polling stops once the checkout is final (completed,
 * failed, blocked) or open with nothing in flight. An open checkout whose card form is out is polled slowly: a
 * payment confirmed just before a reload is reported by the PSP's webhook, not by this page.
 */
const POLL_MS: Partial<Record<BuyerCheckoutStatus | "open_card", { firstMs: number; maxMs: number }>> = {
  processing: { firstMs: 1000, maxMs: 5000 },
  review: { firstMs: 2000, maxMs: 15_000 },
  open_card: { firstMs: 5000, maxMs: 30_000 },
};
const POLL_GROWTH = 1.5;
const FINAL: ReadonlySet<BuyerCheckoutStatus> = new Set(["completed", "failed", "blocked"]);

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

type ErrorData = { appCode?: string; zodError?: { fieldErrors?: Record<string, string[] | undefined> } | null };
const errorData = (e: unknown): ErrorData | undefined => (e && typeof e === "object" && "data" in e ? ((e as { data?: ErrorData }).data ?? undefined) : undefined);

/** What the buyer reads for a failed call: the field's own sentence when the input was refused, else the server's message. */
export function buyerErrorMessage(e: unknown, field?: string): string {
  const d = errorData(e);
  const fieldMessage = field ? d?.zodError?.fieldErrors?.[field]?.[0] : undefined;
  if (fieldMessage) return fieldMessage;
  if (d?.zodError) return "Something in this form is not right. Check it and try again.";
  return e instanceof Error && e.message ? e.message : "Something went wrong. Try again.";
}

function pollKey(d: BuyerCheckout): keyof typeof POLL_MS | null {
  if (d.status === "processing" || d.status === "review") return d.status;
  if (d.status === "open" && d.attempt?.method === "card" && d.attempt.status === "pending") return "open_card";
  return null;
}

export function CheckoutClient({ initial, config, locale }: { initial: BuyerCheckout; config: CheckoutConfig; locale: string }) {
  const trpc = useTRPC();
  const [method, setMethod] = useState<"card" | "mpesa">(initial.attempt?.method ?? "card");
  // The buyer is sent back to the shop only after seeing the checkout finish on this visit: a page opened (or
  // reopened from history) on a checkout that was already final shows its outcome and a link, never a redirect.
  const [finishedHere] = useState(() => !FINAL.has(initial.status));
  const polls = useRef<{ key: string | null; from: number }>({ key: null, from: 0 });
  const checkout = useQuery({
    ...trpc.checkout.get.queryOptions({ checkoutId: initial.checkoutId }),
    initialData: initial,
    refetchInterval: (q) => {
      const key = q.state.data ? pollKey(q.state.data) : null;
      const poll = key ? POLL_MS[key] : undefined;
      if (!key || !poll) return false;
      // Backoff restarts whenever the state polled for changes (review -> open, a new push, …).
      if (polls.current.key !== key) polls.current = { key, from: q.state.dataUpdateCount };
      return Math.min(poll.maxMs, Math.round(poll.firstMs * POLL_GROWTH ** (q.state.dataUpdateCount - polls.current.from)));
    },
  });
  const data = checkout.data ?? initial;
  const { refetch } = checkout;
  const refresh = useCallback(() => void refetch(), [refetch]);
  const money = (minor: string) => formatMoney(minor, data.currency, locale);

  // Back from a bank's 3-D Secure page (live Stripe may redirect): tell our server, which asks the PSP.
  const { mutate: submitReturned } = useMutation(trpc.checkout.submitCard.mutationOptions());
  useEffect(() => {
    const returned = new URLSearchParams(window.location.search).get("payment_intent");
    if (!returned || !/^pi_[A-Za-z0-9_]{1,97}$/.test(returned)) return;
    window.history.replaceState(null, "", window.location.pathname);
    submitReturned({ checkoutId: initial.checkoutId, paymentIntentId: returned }, { onSettled: refresh });
  }, [initial.checkoutId, submitReturned, refresh]);

  const cardInFlight = data.status === "processing" && data.attempt?.method !== "mpesa";
  return (
    <CheckoutFrame branding={data.branding} testMode={data.testMode}>
      <div>
        <p className="text-sm text-slate-600">Pay {data.merchantName}</p>
        <h1 className="text-3xl font-semibold tabular-nums" data-testid="checkout-total">
          {money(data.totalMinor)}
        </h1>
      </div>
      <section aria-labelledby="summary" className="rounded-lg border border-slate-200 bg-white">
        <h2 id="summary" className="border-b border-slate-200 px-4 py-2 text-sm font-semibold">
          Order summary
        </h2>
        <ul>
          {data.orders.map((o, i) => (
            <li key={`${i}:${o.sellerName}`} className="flex justify-between gap-4 px-4 py-2 text-sm" data-testid="order-line">
              <span>{o.sellerName}</span>
              <span className="whitespace-nowrap tabular-nums">{money(o.amountMinor)}</span>
            </li>
          ))}
        </ul>
      </section>
      {data.status === "completed" ? (
        <SuccessPanel checkout={data} locale={locale} autoReturn={finishedHere} />
      ) : data.status === "failed" || data.status === "blocked" ? (
        <ClosedPanel checkout={data} autoReturn={finishedHere} />
      ) : data.status === "review" ? (
        <ReasonPanel tone="warning" title="This payment is being reviewed" testId="checkout-review">
          <p>{data.merchantName} is checking this payment before it can be paid. You have not been charged.</p>
          <p className="mt-1">Keep this page open: it updates by itself as soon as the review is done.</p>
        </ReasonPanel>
      ) : cardInFlight ? (
        // A card payment in flight (also right after a reload): its state, never the form or an error.
        <ReasonPanel tone="neutral" title="Processing your payment…" testId="checkout-processing">
          <p>Your card payment is being confirmed. Do not pay again: this page updates by itself.</p>
        </ReasonPanel>
      ) : (
        <>
          <MethodChoice checkout={data} method={method} onChange={setMethod} />
          {method === "card" ? <CardForm checkout={data} config={config} amountText={money(data.totalMinor)} onSubmitted={refresh} /> : <MpesaForm checkout={data} amountText={money(data.totalMinor)} receivedAtMs={checkout.dataUpdatedAt} onStarted={refresh} />}
        </>
      )}
    </CheckoutFrame>
  );
}

function MethodChoice({ checkout, method, onChange }: { checkout: BuyerCheckout; method: "card" | "mpesa"; onChange: (m: "card" | "mpesa") => void }) {
  return (
    <div className="flex flex-col gap-1">
      <fieldset className="flex gap-2" disabled={checkout.status === "processing"}>
        <legend className="mb-2 text-sm font-semibold">Pay with</legend>
        {(["card", "mpesa"] as const).map((m) => {
          const unavailable = m === "mpesa" && !checkout.mpesaAvailable;
          return (
            <label
              key={m}
              data-testid={`method-${m}`}
              className={cn(
                "flex-1 rounded-md border bg-white px-3 py-2 text-center text-sm font-medium",
                // The radio itself is visually hidden: its keyboard focus shows on the label.
                "has-focus-visible:outline-2 has-focus-visible:outline-offset-2 has-focus-visible:outline-slate-900",
                unavailable ? "cursor-not-allowed opacity-60" : "cursor-pointer",
                method === m ? "border-(--accent) ring-2 ring-(--accent)" : "border-slate-300",
              )}
            >
              <input type="radio" name="method" value={m} checked={method === m} disabled={unavailable} onChange={() => onChange(m)} className="sr-only" />
              {m === "card" ? "Card" : "M-Pesa"}
            </label>
          );
        })}
      </fieldset>
      {checkout.mpesaUnavailableReason ? <p className="text-xs text-slate-600">{checkout.mpesaUnavailableReason}</p> : null}
    </div>
  );
}

const PAY_BUTTON = "rounded-md bg-(--accent) px-4 py-3 text-base font-semibold text-(--on-accent) hover:opacity-90 disabled:opacity-60";

function CardForm({ checkout, config, amountText, onSubmitted }: { checkout: BuyerCheckout; config: CheckoutConfig; amountText: string; onSubmitted: () => void }) {
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
        if (cancelled) return;
        // Paid (or being paid) since this page was rendered, e.g. a reload right after Pay: show the
        // checkout's real state, not the refusal.
        const code = errorData(e)?.appCode;
        if (code === "already_paid" || code === "payment_in_progress") return onSubmitted();
        setError(buyerErrorMessage(e));
      }
    })();
    return () => {
      cancelled = true;
      element?.destroy();
    };
  }, [checkout.checkoutId, config.publishableKey, config.stripeJsUrl, prepareAsync, onSubmitted]);

  const failure = checkout.attempt?.method === "card" ? checkout.attempt.failureMessage : null;
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
      if (errorData(e)?.appCode === "already_paid") onSubmitted();
      else setError(buyerErrorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  const shown = closed ? failure : (error ?? failure);
  return (
    <section aria-label="Card payment" className="flex flex-col gap-3">
      <div ref={mountRef} className="min-h-16 rounded-md border border-slate-300 bg-white p-2" data-testid="card-field" />
      {shown ? (
        <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">
          {shown}
        </p>
      ) : null}
      <button type="button" onClick={pay} disabled={!ready || busy || closed} className={PAY_BUTTON}>
        {busy ? "Processing…" : `Pay ${amountText}`}
      </button>
      <p className="text-xs text-slate-600">Card details are entered in a secure field hosted by our payment provider.</p>
    </section>
  );
}

/** Seconds left of an STK push, counted down in the browser from the server's figure (its clock, not ours). */
function useSecondsLeft(secondsLeft: number | null, receivedAtMs: number): number | null {
  const [now, setNow] = useState<number | null>(null);
  useEffect(() => {
    if (secondsLeft === null) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [secondsLeft, receivedAtMs]);
  if (secondsLeft === null) return null;
  // Before the first tick (and on the server) the figure as received: both renders agree.
  if (now === null) return secondsLeft;
  return Math.max(0, secondsLeft - Math.floor(Math.max(0, now - receivedAtMs) / 1000));
}

function formatCountdown(s: number): string {
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function MpesaForm({ checkout, amountText, receivedAtMs, onStarted }: { checkout: BuyerCheckout; amountText: string; receivedAtMs: number; onStarted: () => void }) {
  const trpc = useTRPC();
  const [phone, setPhone] = useState("");
  const start = useMutation(trpc.checkout.startMpesa.mutationOptions({ onSuccess: onStarted }));
  const attempt = checkout.attempt?.method === "mpesa" ? checkout.attempt : null;
  const waiting = checkout.status === "processing" && attempt !== null;
  const secondsLeftAtFetch = waiting ? attempt.secondsLeft : null;
  const left = useSecondsLeft(secondsLeftAtFetch, receivedAtMs);
  const timedOut = waiting && left === 0;
  const failed = !waiting && attempt && (attempt.status === "failed" || attempt.status === "canceled");
  const fieldError = start.error ? buyerErrorMessage(start.error, "phone") : null;
  return (
    <form
      className="flex flex-col gap-3"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (!start.isPending && (!waiting || timedOut)) start.mutate({ checkoutId: checkout.checkoutId, phone });
      }}
    >
      <div className="flex flex-col gap-1">
        <label className="text-sm font-medium" htmlFor="mpesa-phone">
          M-Pesa phone number
        </label>
        <input
        id="mpesa-phone"
        name="phone"
        type="tel"
        inputMode="tel"
        autoComplete="tel"
        placeholder="0712 345 678"
        maxLength={32}
        value={phone}
        onChange={(e) => setPhone(e.target.value)}
        disabled={waiting && !timedOut}
        aria-invalid={fieldError ? true : undefined}
        aria-describedby={fieldError ? "mpesa-phone-error" : undefined}
        className="rounded-md border border-slate-300 px-3 py-2 text-base font-normal"
        />
      </div>
      {checkout.mpesaPhoneHint ? (
        <p className="-mt-2 text-xs text-slate-600">
          {checkout.merchantName} sends M-Pesa requests for this payment only to the phone number you gave them (ending {checkout.mpesaPhoneHint}).
        </p>
      ) : null}
      {fieldError ? (
        <p role="alert" id="mpesa-phone-error" className="text-sm text-red-800" data-testid="mpesa-error">
          {fieldError}
        </p>
      ) : null}
      {waiting ? (
        <div role="status" className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="mpesa-waiting">
          {timedOut ? (
            <p>The request to your phone ({attempt.phoneHint}) has timed out. Send it again to pay {amountText}.</p>
          ) : (
            <p>
              Check your phone ({attempt.phoneHint}) and enter your M-Pesa PIN to pay {amountText}.
              {left !== null ? (
                <>
                  {" "}
                  The request expires in{" "}
                  <span className="font-semibold tabular-nums" data-testid="mpesa-countdown">
                    {formatCountdown(left)}
                  </span>
                  .
                </>
              ) : null}
            </p>
          )}
        </div>
      ) : null}
      {failed ? (
        <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">
          {attempt.failureMessage}
        </p>
      ) : null}
      <button type="submit" disabled={start.isPending || (waiting && !timedOut)} className="rounded-md bg-green-700 px-4 py-3 text-base font-semibold text-white hover:bg-green-800 disabled:opacity-60">
        {waiting && !timedOut ? "Waiting for M-Pesa…" : failed || timedOut ? "Send again" : "Send payment request"}
      </button>
    </form>
  );
}
