"use client";

import { useMutation } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { fieldErrorsOf } from "@/components/trpc/field-errors";
import { useTRPC } from "@/components/trpc/react";
import { Button } from "@/components/ui/button";
import { Field, Input, Select } from "@/components/ui/field";
import { PAYOUT_INTERVAL_VALUES } from "@/server/payouts/router.schema";
import { formError } from "./errors";
import { INTERVAL_LABELS, WEEKDAYS } from "./schedule";
import type { SellerPayoutData } from "./types";

// A seller's payout schedule: daily, weekly on a weekday, monthly on a day (a shorter month pays on its last day) or
// manual only; a delay (funds settled in the last N days wait) and a minimum (a smaller balance carries over).
// Saved with payouts.updateSchedule (audited). Viewers see the fields disabled.

type Interval = (typeof PAYOUT_INTERVAL_VALUES)[number];

export function ScheduleForm({ seller, canEdit, onSaved }: { seller: SellerPayoutData; canEdit: boolean; onSaved: (s: SellerPayoutData) => void }) {
  const trpc = useTRPC();
  const ids = useId();
  const s = seller.schedule;
  const [interval, setPayInterval] = useState<Interval>(s.interval);
  const [weekly, setWeekly] = useState(s.weeklyAnchor);
  const [monthly, setMonthly] = useState(s.monthlyAnchor);
  const [delay, setDelay] = useState(String(s.delayDays));
  const [minimum, setMinimum] = useState(s.minimumAmount);
  const [delayError, setDelayError] = useState<string | null>(null);
  const save = useMutation(trpc.payouts.updateSchedule.mutationOptions({ onSuccess: onSaved }));
  const fields = fieldErrorsOf(save.error);
  const minimumError = fields.minimumAmount?.[0] ?? null;

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const delayDays = Number(delay);
    if (!/^\d{1,2}$/.test(delay.trim()) || delayDays > 30) return setDelayError("Enter a whole number of days from 0 to 30.");
    setDelayError(null);
    save.mutate({ sellerId: seller.id, interval, weeklyAnchor: weekly, monthlyAnchor: monthly, delayDays, minimumAmount: minimum.trim() });
  };
  const id = (k: string) => `${ids}-${k}`;
  const disabled = !canEdit;

  return (
    <form onSubmit={onSubmit} className="flex flex-col gap-4" aria-label="Payout schedule" noValidate>
      <div className="grid grid-cols-1 gap-3 sm:grid-cols-2">
        <Field label="Pay out" htmlFor={id("interval")}>
          <Select id={id("interval")} value={interval} onChange={(e) => setPayInterval(e.target.value as Interval)} disabled={disabled} data-testid="schedule-interval">
            {PAYOUT_INTERVAL_VALUES.map((v) => (
              <option key={v} value={v}>
                {INTERVAL_LABELS[v]}
              </option>
            ))}
          </Select>
        </Field>
        {interval === "weekly" ? (
          <Field label="On" htmlFor={id("weekly")}>
            <Select id={id("weekly")} value={weekly} onChange={(e) => setWeekly(Number(e.target.value))} disabled={disabled}>
              {WEEKDAYS.map((d, i) => (
                <option key={d} value={i + 1}>
                  {d}
                </option>
              ))}
            </Select>
          </Field>
        ) : null}
        {interval === "monthly" ? (
          <Field label="On day" htmlFor={id("monthly")} hint="A month shorter than this pays on its last day.">
            <Select id={id("monthly")} value={monthly} onChange={(e) => setMonthly(Number(e.target.value))} disabled={disabled} aria-describedby={id("monthly-hint")}>
              {Array.from({ length: 31 }, (_, i) => i + 1).map((d) => (
                <option key={d} value={d}>
                  {d}
                </option>
              ))}
            </Select>
          </Field>
        ) : null}
        <Field label="Delay (days)" htmlFor={id("delay")} error={delayError ?? fields.delayDays?.[0] ?? null} hint="Funds settled in the last N days wait for a later payout (0 to 30).">
          <Input id={id("delay")} inputMode="numeric" maxLength={2} value={delay} onChange={(e) => setDelay(e.target.value)} disabled={disabled} aria-invalid={delayError ? true : undefined} aria-describedby={`${id("delay")}-hint${delayError ? ` ${id("delay")}-error` : ""}`} />
        </Field>
        <Field label={`Minimum (${seller.defaultCurrency})`} htmlFor={id("minimum")} error={minimumError} hint="No scheduled payout below this; the balance carries over. 0 for none.">
          <Input id={id("minimum")} inputMode="decimal" maxLength={24} value={minimum} onChange={(e) => setMinimum(e.target.value)} disabled={disabled} aria-invalid={minimumError ? true : undefined} aria-describedby={`${id("minimum")}-hint${minimumError ? ` ${id("minimum")}-error` : ""}`} />
        </Field>
      </div>
      {canEdit ? (
        <div className="flex flex-wrap items-center gap-3">
          <Button type="submit" variant="primary" size="sm" disabled={save.isPending} data-testid="schedule-save">
            {save.isPending ? "Saving…" : "Save schedule"}
          </Button>
          {save.error && !minimumError ? (
            <p role="alert" className="text-sm text-red-700">
              {formError(save.error)}
            </p>
          ) : null}
          {save.isSuccess ? (
            <p role="status" className="text-sm text-green-800">
              Schedule saved.
            </p>
          ) : null}
        </div>
      ) : (
        <p className="text-sm text-slate-700">Only an admin can change the schedule.</p>
      )}
    </form>
  );
}
