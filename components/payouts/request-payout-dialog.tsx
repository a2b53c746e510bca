"use client";

import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useId, useState, type FormEvent } from "react";
import { useTRPC } from "@/components/trpc/react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field, Input } from "@/components/ui/field";
import { readMoney } from "@/server/money/money";
import { PAYOUT_DESCRIPTION_MAX } from "@/server/payouts/router.schema";
import { amountText, toMinor } from "./amount";
import { fieldErrorsOf, formError } from "./errors";
import { payoutHref } from "./links";

// "Request payout" on a seller's page (admins): the amount prefilled with what may be paid out now (in major units,
// read exactly), a description, then a confirm step that says whether it is sent at once or waits for a second
// admin (the merchant's approval threshold). One request key per opening: a double click makes one payout.
// payouts.request checks everything again under the seller's lock.

export interface RequestPayoutProps {
  sellerId: string;
  sellerName: string;
  currency: string;
  /** Decimal string in major units: what a payout could take now. */
  payableNow: string;
  destinationLabel: string;
  /** The approval threshold (major units) when it is in this currency, else null. */
  threshold: { amount: string; currency: string } | null;
}

function readAmount(text: string, currency: string, payable: bigint): { minor: bigint; decimal: string } | { error: string } {
  const m = readMoney(text.trim(), currency);
  if (m instanceof Error) return { error: `Enter an amount in ${currency}, such as 125.00.` };
  if (m.amount <= 0n) return { error: "Enter an amount above zero." };
  if (m.amount > payable) return { error: `At most ${amountText(payable, currency)} can be paid out now.` };
  return { minor: m.amount, decimal: text.trim() };
}

export function RequestPayoutButton({ sellerId, sellerName, currency, payableNow, destinationLabel, threshold }: RequestPayoutProps) {
  const trpc = useTRPC();
  const router = useRouter();
  const ids = useId();
  const payable = toMinor(payableNow, currency);
  const [open, setOpen] = useState(false);
  const [step, setStep] = useState<"form" | "confirm">("form");
  const [text, setText] = useState(payableNow);
  const [description, setDescription] = useState("");
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [requestKey, setRequestKey] = useState("");
  const request = useMutation(trpc.payouts.request.mutationOptions({ onSuccess: (p) => router.push(payoutHref(p.id)) }));
  const parsed = readAmount(text, currency, payable);
  const needsApproval = threshold !== null && threshold.currency === currency && "minor" in parsed && parsed.minor >= toMinor(threshold.amount, currency);

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
  const amountLabel = "minor" in parsed ? amountText(parsed.minor, currency) : "—";
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
            Up to <strong className="font-semibold text-slate-800">{amountText(payableNow, currency)}</strong> can be paid out now, to {destinationLabel}.
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
            hint={threshold && threshold.currency === currency ? `From ${amountText(threshold.amount, currency)} a second admin must approve the payout.` : "Sent as soon as you confirm."}
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
              This is at or above your approval threshold ({amountText(threshold!.amount, currency)}): it waits for another admin to approve it before anything is sent.
            </p>
          ) : (
            <p className="text-sm text-slate-700">It is sent to the PSP as soon as you confirm.</p>
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
