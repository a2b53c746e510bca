"use client";

import { useMutation } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { fieldErrorsOf } from "@/components/trpc/field-errors";
import { useTRPC } from "@/components/trpc/react";
import { Button } from "@/components/ui/button";
import { Field, Input } from "@/components/ui/field";
import { Time } from "@/components/ui/time";
import { destinationText } from "./destination";
import { formError } from "./errors";
import type { SellerPayoutData } from "./types";

// Where a seller is paid: a Stripe connected account (checked at Stripe) or an M-Pesa phone (stored encrypted;
// only its last three digits are ever shown). Saving a new one holds the seller's payouts for 24 hours (a fraud
// guard) and is audited; the form says so before the admin saves. Viewers see the destination only.

type Psp = "stripe" | "mpesa";

export function DestinationForm({ seller, canEdit, onSaved }: { seller: SellerPayoutData; canEdit: boolean; onSaved: (s: SellerPayoutData) => void }) {
  const trpc = useTRPC();
  const ids = useId();
  const [psp, setPsp] = useState<Psp>(seller.destination?.type === "mpesa_phone" ? "mpesa" : "stripe");
  const [account, setAccount] = useState("");
  const [phone, setPhone] = useState("");
  const save = useMutation(
    trpc.payouts.setDestination.mutationOptions({
      onSuccess: (s) => {
        setAccount("");
        setPhone("");
        onSaved(s);
      },
    }),
  );
  const fields = fieldErrorsOf(save.error);
  const accountError = fields["destination.stripeAccountId"]?.[0] ?? fields.stripeAccountId?.[0] ?? null;
  const phoneError = fields["destination.phone"]?.[0] ?? fields.phone?.[0] ?? null;
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate({ sellerId: seller.id, destination: psp === "stripe" ? { psp, stripeAccountId: account.trim() } : { psp, phone: phone.trim() } });
  };
  const accountId = `${ids}-account`;
  const phoneId = `${ids}-phone`;

  return (
    <div className="flex flex-col gap-4">
      <dl className="text-sm">
        <dt className="text-slate-600">Current destination</dt>
        <dd className="font-medium text-slate-900" data-testid="seller-destination">
          {destinationText(seller.destination)}
        </dd>
      </dl>
      {canEdit ? (
        <form onSubmit={onSubmit} className="flex flex-col gap-4" aria-label="Change the payout destination" noValidate>
          <fieldset className="flex flex-col gap-2">
            <legend className="text-sm font-medium text-slate-700">{seller.destination ? "New destination" : "Destination"}</legend>
            <div className="flex flex-wrap gap-4 text-sm">
              {(["stripe", "mpesa"] as const).map((p) => (
                <label key={p} className="inline-flex items-center gap-2">
                  <input type="radio" name={`${ids}-psp`} value={p} checked={psp === p} onChange={() => setPsp(p)} className="size-4 accent-brand-600" />
                  {p === "stripe" ? "Stripe connected account" : "M-Pesa phone"}
                </label>
              ))}
            </div>
          </fieldset>
          {psp === "stripe" ? (
            <Field label="Connected account id" htmlFor={accountId} error={accountError} hint="The seller's Stripe account, such as acct_1A2B3C. PayBridge checks it at Stripe.">
              <Input id={accountId} value={account} onChange={(e) => setAccount(e.target.value)} maxLength={64} autoComplete="off" spellCheck={false} aria-invalid={accountError ? true : undefined} aria-describedby={`${accountId}-hint${accountError ? ` ${accountId}-error` : ""}`} data-testid="destination-account" />
            </Field>
          ) : (
            <Field label="M-Pesa phone number" htmlFor={phoneId} error={phoneError} hint="A Kenyan number such as 254708374149. Stored encrypted; only its last three digits are shown.">
              <Input id={phoneId} type="tel" value={phone} onChange={(e) => setPhone(e.target.value)} maxLength={20} autoComplete="off" aria-invalid={phoneError ? true : undefined} aria-describedby={`${phoneId}-hint${phoneError ? ` ${phoneId}-error` : ""}`} data-testid="destination-phone" />
            </Field>
          )}
          <p className="text-sm text-slate-700">Saving a new destination holds this seller&rsquo;s payouts for 24 hours, a guard against a destination changed by someone who should not.</p>
          {save.error && !accountError && !phoneError ? (
            <p role="alert" className="text-sm text-red-700" data-testid="destination-error">
              {formError(save.error)}
            </p>
          ) : null}
          {save.isSuccess && save.data.heldUntil ? (
            <p role="status" className="text-sm text-green-800" data-testid="destination-saved">
              Saved. Payouts are held until <Time value={save.data.heldUntil} />.
            </p>
          ) : null}
          <div>
            <Button type="submit" variant="primary" size="sm" disabled={save.isPending} data-testid="destination-save">
              {save.isPending ? "Saving…" : "Save destination"}
            </Button>
          </div>
        </form>
      ) : (
        <p className="text-sm text-slate-700">Only an admin can change where this seller is paid.</p>
      )}
    </div>
  );
}
