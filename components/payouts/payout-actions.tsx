"use client";

import { useMutation } from "@tanstack/react-query";
import { useId, useState } from "react";
import { useTRPC } from "@/components/trpc/react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field, Textarea } from "@/components/ui/field";
import { PAYOUT_CANCEL_REASON_MAX } from "@/server/payouts/router.schema";

// The maker-checker buttons of a payout waiting for approval, Approve and Reject (payouts.cancel: only a payout
// waiting for approval can be canceled), each behind a confirm dialog. The server decides again: a requester
// approving their own payout gets payout_self_approval, a payout no longer waiting payout_not_cancelable; the
// dialog shows that message.

export function ApprovePayoutButton({ payoutId, amountLabel, sellerName, onDone }: { payoutId: string; amountLabel: string; sellerName: string; onDone: () => void }) {
  const trpc = useTRPC();
  const [open, setOpen] = useState(false);
  const approve = useMutation(trpc.payouts.approve.mutationOptions({ onSuccess: () => (setOpen(false), onDone()) }));
  return (
    <Dialog
      open={open}
      onOpenChange={(next) => {
        setOpen(next);
        if (next) approve.reset();
      }}
      trigger={
        <Button variant="primary" size="sm" data-testid="approve-payout">
          Approve payout
        </Button>
      }
      title="Approve this payout?"
      description={
        <>
          <strong className="font-semibold text-slate-800">{amountLabel}</strong> to {sellerName} is sent to the PSP as soon as you approve it. A payout cannot be recalled once the PSP has paid it.
        </>
      }
    >
      {approve.error ? (
        <p role="alert" className="mb-3 text-sm text-red-700" data-testid="approve-error">
          {approve.error.message}
        </p>
      ) : null}
      <div className="flex flex-wrap justify-end gap-2">
        <Button variant="ghost" onClick={() => setOpen(false)} disabled={approve.isPending}>
          Not now
        </Button>
        <Button variant="primary" onClick={() => approve.mutate({ payoutId })} disabled={approve.isPending} data-testid="approve-confirm">
          {approve.isPending ? "Approving…" : `Approve and send ${amountLabel}`}
        </Button>
      </div>
    </Dialog>
  );
}

/** Reject: cancels a payout waiting for approval (its hold is released). */
export function CancelPayoutButton({ payoutId, onDone }: { payoutId: string; onDone: () => void }) {
  const trpc = useTRPC();
  const ids = useId();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const cancel = useMutation(trpc.payouts.cancel.mutationOptions({ onSuccess: () => (setOpen(false), onDone()) }));
  const reasonId = `${ids}-reason`;
  return (
    <Dialog
      open={open}
      onOpenChange={(next) => {
        setOpen(next);
        if (!next) return;
        cancel.reset();
        setReason("");
      }}
      trigger={
        <Button variant="secondary" size="sm" data-testid="cancel-payout">
          Reject payout
        </Button>
      }
      title="Reject this payout?"
      description="Nothing is sent to the PSP. The held amount goes back to the seller's available balance and is paid in a later payout."
    >
      <form
        className="flex flex-col gap-4"
        onSubmit={(e) => {
          e.preventDefault();
          cancel.mutate({ payoutId, reason: reason.trim() || undefined });
        }}
      >
        <Field label="Reason (optional)" htmlFor={reasonId} hint="Kept in the payout's history and the audit log.">
          <Textarea id={reasonId} rows={3} maxLength={PAYOUT_CANCEL_REASON_MAX} value={reason} onChange={(e) => setReason(e.target.value)} aria-describedby={`${reasonId}-hint`} />
        </Field>
        {cancel.error ? (
          <p role="alert" className="text-sm text-red-700" data-testid="cancel-error">
            {cancel.error.message}
          </p>
        ) : null}
        <div className="flex flex-wrap justify-end gap-2">
          <Button variant="ghost" onClick={() => setOpen(false)} disabled={cancel.isPending}>
            Keep it
          </Button>
          <Button type="submit" variant="danger" disabled={cancel.isPending} data-testid="cancel-confirm">
            {cancel.isPending ? "Rejecting…" : "Reject the payout"}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
