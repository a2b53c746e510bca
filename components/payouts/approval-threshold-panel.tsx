"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { fieldErrorsOf } from "@/components/trpc/field-errors";
import { useTRPC } from "@/components/trpc/react";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Field, Input } from "@/components/ui/field";
import { formatDecimalMoney } from "@/components/ui/format";
import { Time } from "@/components/ui/time";
import { formError } from "./errors";

// Maker-checker for manual payouts: from this amount (the merchant's default currency) a payout requested by one
// admin waits for another admin's approval. Empty = no approval needed. Saved with payouts.setApprovalThreshold
// (audited merchant.settings_updated). Viewers read it.

interface ThresholdView {
  amount: string | null;
  currency: string;
  /** A raise or a removal waits 24 h before it takes effect (one admin cannot switch approvals off alone). */
  pending: { amount: string | null; effectiveAt: string } | null;
}

export function ApprovalThresholdPanel({ initial, canEdit }: { initial: ThresholdView; canEdit: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const ids = useId();
  const options = trpc.payouts.approvalThreshold.queryOptions();
  const query = useQuery({ ...options, initialData: initial });
  const current = query.data;
  const [text, setText] = useState(initial.amount ?? "");
  const save = useMutation(
    trpc.payouts.setApprovalThreshold.mutationOptions({
      onSuccess: (next) => {
        qc.setQueryData(options.queryKey, next);
        setText((next.pending ? next.pending.amount : next.amount) ?? "");
      },
    }),
  );
  const fieldError = fieldErrorsOf(save.error).amount?.[0] ?? null;
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate({ amount: text.trim() === "" ? null : text.trim() });
  };
  const inputId = `${ids}-threshold`;
  const summary = current.amount
    ? `Manual payouts of ${formatDecimalMoney(current.amount, current.currency)} or more need a second admin's approval.`
    : "No approval needed: an admin's manual payout is sent at once.";

  return (
    <Card title="Approval of manual payouts" description="Maker-checker: one admin requests a large payout, another approves it. Both are recorded in the audit log.">
      <div className="flex flex-col gap-3">
        <p className="text-sm text-slate-800" data-testid="approval-threshold" data-amount={current.amount ?? ""}>
          {summary}
        </p>
        {current.pending ? (
          <p className="text-sm text-amber-900" data-testid="approval-threshold-pending">
            {current.pending.amount ? `Raised to ${formatDecimalMoney(current.pending.amount, current.currency)}` : "Removed"} from <Time value={current.pending.effectiveAt} className="font-semibold" />: a
            raise or a removal takes effect 24 hours after it is saved, so no admin can switch approvals off for a payout of their own.
          </p>
        ) : null}
        {canEdit ? (
          <form onSubmit={onSubmit} className="flex flex-wrap items-end gap-3" aria-label="Approval threshold" noValidate>
            <Field label={`Threshold (${current.currency})`} htmlFor={inputId} error={fieldError} className="w-full sm:w-64">
              <Input id={inputId} inputMode="decimal" maxLength={24} autoComplete="off" value={text} onChange={(e) => setText(e.target.value)} aria-invalid={fieldError ? true : undefined} aria-describedby={`${inputId}-hint${fieldError ? ` ${inputId}-error` : ""}`} data-testid="threshold-input" />
            </Field>
            <Button type="submit" variant="primary" size="sm" disabled={save.isPending} data-testid="threshold-save">
              {save.isPending ? "Saving…" : "Save threshold"}
            </Button>
            <p id={`${inputId}-hint`} className="w-full text-xs text-slate-600">
              Leave empty for no approval. Lowering it applies at once; raising or removing it, after 24 hours.
            </p>
            {save.error && !fieldError ? (
              <p role="alert" className="w-full text-sm text-red-700">
                {formError(save.error)}
              </p>
            ) : null}
            {save.isSuccess ? (
              <p role="status" className="w-full text-sm text-green-800">
                Saved.
              </p>
            ) : null}
          </form>
        ) : (
          <p className="text-sm text-slate-700">Only an admin can change the threshold.</p>
        )}
      </div>
    </Card>
  );
}
