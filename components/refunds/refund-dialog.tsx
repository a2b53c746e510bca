"use client";

import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useId, useState, type FormEvent } from "react";
import { useTRPC } from "@/components/trpc/react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field, Input, Select } from "@/components/ui/field";
import { formatMoney, minorToDecimal } from "@/components/ui/format";
import { readMoney } from "@/server/money/money";
import { REFUND_REASON_LABELS, REFUND_REASON_VALUES } from "@/server/refunds/router.schema";

// "Refund" on the payment detail page: a dialog with the amount prefilled with what is still refundable (in major
// units, as the merchant reads it, converted exactly to minor units), a reason, then a confirm step that says what
// will happen. refunds.create (admins) checks everything again under the order's lock.

type Reason = (typeof REFUND_REASON_VALUES)[number];

export interface RefundDialogProps {
  paymentOrderId: string;
  sellerName: string;
  currency: string;
  /** Minor units still refundable. */
  refundable: bigint;
  amount: bigint;
}

/** The typed amount in minor units, or the reason it is not one we can refund. */
function readAmount(text: string, currency: string, refundable: bigint): { minor: bigint } | { error: string } {
  const m = readMoney(text.trim(), currency);
  if (m instanceof Error) return { error: `Enter an amount in ${currency}, such as ${minorToDecimal(refundable, currency)}.` };
  if (m.amount <= 0n) return { error: "Enter an amount above zero." };
  if (m.amount > refundable) return { error: `At most ${formatMoney(refundable, currency)} can be refunded.` };
  return { minor: m.amount };
}

export function RefundButton({ paymentOrderId, sellerName, currency, refundable, amount }: RefundDialogProps) {
  const trpc = useTRPC();
  const router = useRouter();
  const ids = useId();
  const [open, setOpen] = useState(false);
  const [step, setStep] = useState<"form" | "confirm">("form");
  const [text, setText] = useState(minorToDecimal(refundable, currency));
  const [reason, setReason] = useState<Reason>("requested_by_customer");
  const [fieldError, setFieldError] = useState<string | null>(null);
  const create = useMutation(
    trpc.refunds.create.mutationOptions({
      onSuccess: () => {
        setOpen(false);
        router.refresh();
      },
    }),
  );
  const parsed = readAmount(text, currency, refundable);

  const onOpenChange = (next: boolean) => {
    setOpen(next);
    if (next) {
      // Each opening starts from what is refundable now.
      setStep("form");
      setText(minorToDecimal(refundable, currency));
      setReason("requested_by_customer");
      setFieldError(null);
      create.reset();
    }
  };
  const toConfirm = (e: FormEvent) => {
    e.preventDefault();
    if ("error" in parsed) return setFieldError(parsed.error);
    setFieldError(null);
    setStep("confirm");
  };
  const submit = () => {
    if ("error" in parsed) return;
    create.mutate({ paymentOrderId, amount: parsed.minor.toString(), reason });
  };

  const amountId = `${ids}-amount`;
  const reasonId = `${ids}-reason`;
  const serverError = create.error ? create.error.message : null;
  return (
    <Dialog
      open={open}
      onOpenChange={onOpenChange}
      trigger={
        <Button variant="secondary" size="sm" data-testid="refund-button" aria-label={`Refund ${paymentOrderId}`}>
          Refund
        </Button>
      }
      title={step === "form" ? "Refund this payment order" : "Confirm the refund"}
      description={
        step === "form" ? (
          <>
            {paymentOrderId} · {sellerName}. Up to <strong className="font-semibold text-slate-800">{formatMoney(refundable, currency)}</strong> of {formatMoney(amount, currency)} can be refunded.
          </>
        ) : undefined
      }
    >
      {step === "form" ? (
        <form onSubmit={toConfirm} className="flex flex-col gap-4" data-testid="refund-form" noValidate>
          <Field label={`Amount (${currency})`} htmlFor={amountId} error={fieldError} hint={`Refundable: ${formatMoney(refundable, currency)}. A partial amount refunds only that much.`}>
            <Input
              id={amountId}
              name="amount"
              inputMode="decimal"
              autoComplete="off"
              maxLength={32}
              value={text}
              onChange={(e) => setText(e.target.value)}
              aria-invalid={fieldError ? true : undefined}
              aria-describedby={fieldError ? `${amountId}-error ${amountId}-hint` : `${amountId}-hint`}
              data-testid="refund-amount"
            />
          </Field>
          <Field label="Reason" htmlFor={reasonId}>
            <Select id={reasonId} name="reason" value={reason} onChange={(e) => setReason(e.target.value as Reason)} data-testid="refund-reason">
              {REFUND_REASON_VALUES.map((r) => (
                <option key={r} value={r}>
                  {REFUND_REASON_LABELS[r]}
                </option>
              ))}
            </Select>
          </Field>
          <div className="flex flex-wrap justify-end gap-2">
            <Button variant="ghost" onClick={() => onOpenChange(false)}>
              Cancel
            </Button>
            <Button type="submit" variant="primary" data-testid="refund-continue">
              Continue
            </Button>
          </div>
        </form>
      ) : (
        <div className="flex flex-col gap-4" data-testid="refund-confirm">
          <p className="text-sm text-slate-700">
            Refund <strong className="font-semibold text-slate-900">{"minor" in parsed ? formatMoney(parsed.minor, currency) : "—"}</strong> of {paymentOrderId} to the buyer ({REFUND_REASON_LABELS[reason].toLowerCase()}). The amount
            is taken from {sellerName}&rsquo;s balance now; if the refund fails, it is given back. This cannot be undone once the PSP has paid it out.
          </p>
          {serverError ? (
            <p role="alert" className="text-sm text-red-700" data-testid="refund-error">
              {serverError}
            </p>
          ) : null}
          <div className="flex flex-wrap justify-end gap-2">
            <Button variant="ghost" onClick={() => setStep("form")} disabled={create.isPending}>
              Back
            </Button>
            <Button variant="danger" onClick={submit} disabled={create.isPending} data-testid="refund-submit">
              {create.isPending ? "Refunding…" : `Refund ${"minor" in parsed ? formatMoney(parsed.minor, currency) : ""}`}
            </Button>
          </div>
        </div>
      )}
    </Dialog>
  );
}
