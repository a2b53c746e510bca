"use client";

import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useId, useState, type FormEvent } from "react";
import { fieldErrorsOf } from "@/components/trpc/field-errors";
import { useTRPC } from "@/components/trpc/react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field, Input } from "@/components/ui/field";
import { formatDecimalMoney, formatMoney } from "@/components/ui/format";
import { parseMoney, readMoney } from "@/server/money/money";
import { PAYOUT_DESCRIPTION_MAX } from "@/server/payouts/router.schema";
import { formError } from "./errors";
import { payoutHref } from "./links";

// "Request payout" on a seller's page (admins): the amount prefilled with what may be paid out now (in major units,
// read exactly), a description, then a confirm step that says whether it is sent at once or waits for a second
// admin (the merchant's approval threshold). One request key per opening: a double click makes one payout.
// payouts.request checks everything again under the seller's lock, and decides (server/payouts/build.ts,
// requestManualPayout): with a threshold set, a payout waits when its currency is not the threshold's, or when its
// amount plus the seller's manual payouts in that currency of the last 24 h reaches the threshold. The client does
// not know those recent payouts, so it can only say "waits" for certain; otherwise it says "unless".

export interface RequestPayoutProps {
  sellerId: string;
  sellerName: string;
  currency: string;
  /** Decimal string in major units: what a payout could take now. */
  payableNow: string;
  destinationLabel: string;
  /** The merchant's approval threshold (major units of the merchant's default currency, which may not be this one), or null when none is set. */
  threshold: { amount: string; currency: string } | null;
}

function readAmount(text: string, currency: string, payable: bigint): { minor: bigint; decimal: string } | { error: string } {
  const m = readMoney(text.trim(), currency);
  if (m instanceof Error) return { error: `Enter an amount in ${currency}, such as 125.00.` };
  if (m.amount <= 0n) return { error: "Enter an amount above zero." };
  if (m.amount > payable) return { error: `At most ${formatMoney(payable, currency)} can be paid out now.` };
  return { minor: m.amount, decimal: text.trim() };
}

export function RequestPayoutButton({ sellerId, sellerName, currency, payableNow, destinationLabel, threshold }: RequestPayoutProps) {
  const trpc = useTRPC();
  const router = useRouter();
  const ids = useId();
  const payable = parseMoney(payableNow, currency).amount;
  const [open, setOpen] = useState(false);
  const [step, setStep] = useState<"form" | "confirm">("form");
  const [text, setText] = useState(payableNow);
  const [description, setDescription] = useState("");
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [requestKey, setRequestKey] = useState("");
  const request = useMutation(trpc.payouts.request.mutationOptions({ onSuccess: (p) => router.push(payoutHref(p.id)) }));
  const parsed = readAmount(text, currency, payable);
  // Certain to wait for a second admin (another currency than the threshold's, or this amount alone reaches it); the
  // seller's other manual payouts of the last 24 h may make it wait too (the server's rule, above).
  const otherCurrency = threshold !== null && threshold.currency !== currency;
  const needsApproval = threshold !== null && "minor" in parsed && (otherCurrency || parsed.minor >= parseMoney(threshold.amount, currency).amount);
  const thresholdLabel = threshold ? formatDecimalMoney(threshold.amount, threshold.currency) : null;

  const onOpenChange = (next: boolean) => {
    setOpen(next);
    if (!next) return;
    setStep("form");
    setText(payableNow);
    setDescription("");
    setFieldError(null);
    setRequestKey(crypto.randomUUID());
    request.reset();
  };
  const toConfirm = (e: FormEvent) => {
    e.preventDefault();
    if ("error" in parsed) return setFieldError(parsed.error);
    setFieldError(null);
    setStep("confirm");
  };
  const submit = () => {
    if ("error" in parsed || request.isPending || request.isSuccess) return;
    request.mutate({ sellerId, currency, amount: parsed.decimal, description: description.trim() || undefined, requestKey });
  };

  const amountId = `${ids}-amount`;
  const descriptionId = `${ids}-description`;
  const serverFields = fieldErrorsOf(request.error);
  const amountLabel = "minor" in parsed ? formatMoney(parsed.minor, currency) : "—";
  return (
    <Dialog
      open={open}
      onOpenChange={onOpenChange}
      trigger={
        <Button variant="primary" size="sm" disabled={payable <= 0n} data-testid="request-payout">
          Request payout<span className="sr-only"> of the {currency} balance</span>
        </Button>
      }
      title={step === "form" ? `Pay out ${sellerName}` : "Confirm the payout"}
      description={
        step === "form" ? (
          <>
            Up to <strong className="font-semibold text-slate-800">{formatDecimalMoney(payableNow, currency)}</strong> can be paid out now, to {destinationLabel}.
          </>
        ) : undefined
      }
    >
      {step === "form" ? (
        <form onSubmit={toConfirm} className="flex flex-col gap-4" data-testid="request-payout-form" noValidate>
          <Field
            label={`Amount (${currency})`}
            htmlFor={amountId}
            error={fieldError ?? serverFields.amount?.[0] ?? null}
            hint={
              threshold === null
                ? "Sent as soon as you confirm."
                : otherCurrency
                  ? `Your approval threshold is in ${threshold.currency}, so a payout in ${currency} always waits for a second admin to approve it.`
                  : `Sent as soon as you confirm, unless it and this seller's other manual payouts of the last 24 hours together reach ${thresholdLabel}: then a second admin must approve it.`
            }
          >
            <Input
              id={amountId}
              name="amount"
              inputMode="decimal"
              autoComplete="off"
              maxLength={24}
              value={text}
              onChange={(e) => setText(e.target.value)}
              aria-invalid={fieldError ? true : undefined}
              aria-describedby={fieldError ? `${amountId}-error ${amountId}-hint` : `${amountId}-hint`}
              data-testid="payout-amount-input"
            />
          </Field>
          <Field label="Description (optional)" htmlFor={descriptionId} hint="Shown on the payout and in its CSV.">
            <Input id={descriptionId} name="description" maxLength={PAYOUT_DESCRIPTION_MAX} value={description} onChange={(e) => setDescription(e.target.value)} aria-describedby={`${descriptionId}-hint`} autoComplete="off" />
          </Field>
          <div className="flex flex-wrap justify-end gap-2">
            <Button variant="ghost" onClick={() => onOpenChange(false)}>
              Cancel
            </Button>
            <Button type="submit" variant="primary" data-testid="request-payout-continue">
              Continue
            </Button>
          </div>
        </form>
      ) : (
        <div className="flex flex-col gap-4" data-testid="request-payout-confirm">
          <p className="text-sm text-slate-700">
            Pay <strong className="font-semibold text-slate-900">{amountLabel}</strong> to {sellerName} ({destinationLabel}). The amount is held from the seller&rsquo;s available balance now.
          </p>
          {needsApproval ? (
            <p className="rounded-md border border-blue-200 bg-blue-50 px-3 py-2 text-sm text-blue-900" data-testid="request-needs-approval">
              {otherCurrency ? `Your approval threshold (${thresholdLabel}) is in another currency than this payout` : `This is at or above your approval threshold (${thresholdLabel})`}: it waits for
              another admin to approve it before anything is sent.
            </p>
          ) : threshold === null ? (
            <p className="text-sm text-slate-700">It is sent to the PSP as soon as you confirm.</p>
          ) : (
            <p className="text-sm text-slate-700">
              It is sent to the PSP as soon as you confirm, unless it and this seller&rsquo;s other manual payouts of the last 24 hours together reach your approval threshold ({thresholdLabel}): then it waits for a second admin to approve it.
            </p>
          )}
          {request.error ? (
            <p role="alert" className="text-sm text-red-700" data-testid="request-payout-error">
              {formError(request.error)}
            </p>
          ) : null}
          <div className="flex flex-wrap justify-end gap-2">
            <Button variant="ghost" onClick={() => setStep("form")} disabled={request.isPending}>
              Back
            </Button>
            <Button variant="primary" onClick={submit} disabled={request.isPending || request.isSuccess} data-testid="request-payout-submit">
              {request.isPending || request.isSuccess ? "Requesting…" : needsApproval ? `Request ${amountLabel} for approval` : `Pay out ${amountLabel}`}
            </Button>
          </div>
        </div>
      )}
    </Dialog>
  );
}
