"use client";

import { useMutation } from "@tanstack/react-query";
import { useId, useState, type FormEvent, type ReactNode } from "react";
import { useTRPC } from "@/components/trpc/react";
import { Button } from "@/components/ui/button";
import { Field, Input, Textarea } from "@/components/ui/field";
import { Time } from "@/components/ui/time";
import { ACCEPT_MAX_DAYS, CASE_STATUS_LABELS, NOTE_MAX } from "./labels";
import { AdjustmentLines } from "./adjustment-lines";
import type { CaseAdjustment, CaseDetail } from "./types";

// The actions on one reconciliation case, each a call the server decides on again (server/reconciliation/actions.ts,
// adjustments.ts): acknowledge, accept with a note and an optional date that re-raises it, re-query the PSP, propose
// the implied adjusting entry, and, while one is pending, approve / reject it as a second ops user (four eyes: the
// proposer sees why they cannot, and may withdraw it). A refusal is shown verbatim; every button is disabled while
// any call is in flight, so nothing is sent twice.

const DAY_MS = 86_400_000;

function ErrorLine({ error, testId }: { error: { message: string } | null; testId: string }) {
  return error ? (
    <p role="alert" className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800" data-testid={testId}>
      {error.message}
    </p>
  ) : null;
}

function Section({ title, children, testId }: { title: string; children: ReactNode; testId: string }) {
  return (
    <div className="flex flex-col gap-2 border-t border-slate-100 pt-3 first:border-t-0 first:pt-0" data-testid={testId}>
      <h3 className="text-sm font-semibold">{title}</h3>
      {children}
    </div>
  );
}

/** A required note and a submit button, as a form. */
function NoteForm(props: { label: string; hint?: string; submit: string; pending: boolean; busy: boolean; onSubmit: (note: string) => void; optional?: boolean; variant?: "primary" | "secondary" | "danger"; testId: string; children?: ReactNode }) {
  const ids = useId();
  const [note, setNote] = useState("");
  const [missing, setMissing] = useState(false);
  const noteId = `${ids}-note`;
  return (
    <form
      className="flex flex-col gap-2"
      data-testid={props.testId}
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        if (props.busy) return;
        if (!props.optional && !note.trim()) {
          setMissing(true);
          return;
        }
        setMissing(false);
        props.onSubmit(note.trim());
      }}
    >
      <Field label={props.label} htmlFor={noteId} hint={props.hint} error={missing ? "Enter a note: it is kept with the case and in the audit log." : null}>
        <Textarea
          id={noteId}
          rows={2}
          maxLength={NOTE_MAX}
          value={note}
          onChange={(e) => setNote(e.target.value)}
          disabled={props.busy}
          aria-invalid={missing ? true : undefined}
          aria-describedby={[props.hint ? `${noteId}-hint` : null, missing ? `${noteId}-error` : null].filter(Boolean).join(" ") || undefined}
        />
      </Field>
      {props.children}
      <div>
        <Button type="submit" size="sm" variant={props.variant ?? "secondary"} disabled={props.busy}>
          {props.pending ? "Working…" : props.submit}
        </Button>
      </div>
    </form>
  );
}

/** The facts changed under the user (a conflict): show them the case as it is now; the error line says why. */
function refetchOnConflict(err: unknown, refetch: () => void): void {
  if ((err as { data?: { code?: string } } | null)?.data?.code === "CONFLICT") refetch();
}

function AcceptForm({ caseId, factsVersion, busy, onDone }: { caseId: string; factsVersion: number; busy: boolean; onDone: () => void }) {
  const trpc = useTRPC();
  const ids = useId();
  const [until, setUntil] = useState("");
  const accept = useMutation(trpc.reconciliation.accept.mutationOptions({ onSuccess: onDone, onError: (e) => refetchOnConflict(e, onDone) }));
  const today = new Date();
  const min = new Date(today.getTime() + DAY_MS).toISOString().slice(0, 10);
  const max = new Date(today.getTime() + ACCEPT_MAX_DAYS * DAY_MS).toISOString().slice(0, 10);
  const untilId = `${ids}-until`;
  return (
    <>
      <NoteForm
        label="Why it is acceptable (required)"
        submit="Accept with note"
        pending={accept.isPending}
        busy={busy || accept.isPending}
        testId="accept-form"
        onSubmit={(note) => accept.mutate({ caseId, note, factsVersion, expiresAt: until ? new Date(`${until}T00:00:00.000Z`) : undefined })}
      >
        <Field label="Re-raise on (optional, UTC)" htmlFor={untilId} hint="If the discrepancy is still there on this day, the case opens again." className="max-w-sm">
          <Input id={untilId} type="date" min={min} max={max} value={until} onChange={(e) => setUntil(e.target.value)} disabled={busy || accept.isPending} aria-describedby={`${untilId}-hint`} />
        </Field>
      </NoteForm>
      <ErrorLine error={accept.error} testId="accept-error" />
    </>
  );
}

function PendingAdjustment({ adjustment, viewerId, busy, onDone }: { adjustment: CaseAdjustment; viewerId: string; busy: boolean; onDone: () => void }) {
  const trpc = useTRPC();
  const approve = useMutation(trpc.reconciliation.approveAdjustment.mutationOptions({ onSuccess: onDone }));
  const reject = useMutation(trpc.reconciliation.rejectAdjustment.mutationOptions({ onSuccess: onDone }));
  const mine = adjustment.proposedByUserId === viewerId;
  const working = busy || approve.isPending || reject.isPending;
  return (
    <div className="flex flex-col gap-3" data-testid="pending-adjustment" data-adjustment-id={adjustment.id}>
      <div className="rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-950">
        <p className="font-medium">Adjustment awaiting approval</p>
        <p>
          Proposed by <strong className="font-semibold">{adjustment.proposedByName ?? adjustment.proposedByUserId}</strong> on <Time value={adjustment.proposedAt} />: &ldquo;{adjustment.note}&rdquo;
        </p>
      </div>
      <AdjustmentLines lines={adjustment.lines} caption="Lines awaiting approval" />
      {mine ? (
        <>
          <p className="text-sm text-slate-700" data-testid="four-eyes">
            You proposed this adjustment, so you cannot approve it: a second ops user must approve or reject it (four eyes). You may withdraw it.
          </p>
          <NoteForm label="Why you withdraw it (required)" submit="Withdraw" pending={reject.isPending} busy={working} testId="withdraw-form" onSubmit={(note) => reject.mutate({ adjustmentId: adjustment.id, note })} />
        </>
      ) : (
        <div className="grid gap-4 md:grid-cols-2">
          <NoteForm
            label="Approval note (optional)"
            hint="Approving posts these lines to the ledger and resolves the case."
            submit="Approve and post"
            variant="primary"
            optional
            pending={approve.isPending}
            busy={working}
            testId="approve-form"
            onSubmit={(note) => approve.mutate({ adjustmentId: adjustment.id, note: note || undefined })}
          />
          <NoteForm label="Why you reject it (required)" submit="Reject" variant="danger" pending={reject.isPending} busy={working} testId="reject-form" onSubmit={(note) => reject.mutate({ adjustmentId: adjustment.id, note })} />
        </div>
      )}
      <ErrorLine error={approve.error ?? reject.error} testId="adjustment-error" />
    </div>
  );
}

export function CaseActions({ detail, viewerId, onDone }: { detail: CaseDetail; viewerId: string; onDone: () => void }) {
  const trpc = useTRPC();
  const acknowledge = useMutation(trpc.reconciliation.acknowledge.mutationOptions({ onSuccess: onDone }));
  const requery = useMutation(trpc.reconciliation.requery.mutationOptions({ onSuccess: onDone }));
  const propose = useMutation(trpc.reconciliation.proposeAdjustment.mutationOptions({ onSuccess: onDone, onError: (e) => refetchOnConflict(e, onDone) }));
  const busy = acknowledge.isPending || requery.isPending || propose.isPending;
  const pending = detail.adjustments.find((a) => a.status === "pending") ?? null;

  if (detail.status === "resolved") {
    return <p className="text-sm text-slate-700">This case is resolved. If the discrepancy comes back (or its facts change), the matcher re-opens it.</p>;
  }
  return (
    <div className="flex flex-col gap-4">
      <Section title="Take it" testId="acknowledge-section">
        {detail.status === "open" ? (
          <div className="flex flex-wrap items-center gap-3">
            <Button size="sm" disabled={busy} onClick={() => (busy ? undefined : acknowledge.mutate({ caseId: detail.id }))} data-testid="acknowledge">
              {acknowledge.isPending ? "Working…" : "Acknowledge"}
            </Button>
            <span className="text-sm text-slate-600">Tells the other ops users someone is on it; the case stays in the queue.</span>
          </div>
        ) : (
          <p className="text-sm text-slate-600">Acknowledged: someone is on it.</p>
        )}
        <ErrorLine error={acknowledge.error} testId="acknowledge-error" />
      </Section>

      <Section title="Re-query the PSP" testId="requery-section">
        <div className="flex flex-wrap items-center gap-3">
          <Button size="sm" disabled={busy} onClick={() => (busy ? undefined : requery.mutate({ caseId: detail.id }))} data-testid="requery">
            {requery.isPending ? "Re-querying…" : "Re-query"}
          </Button>
          <span className="text-sm text-slate-600">Fetches this reference&rsquo;s rows from the PSP again and re-matches the case; a late row closes it.</span>
        </div>
        {requery.data ? (
          <p className="text-sm text-slate-700" role="status" data-testid="requery-result">
            {requery.data.imported ? `${requery.data.imported.rowsAdded} new row(s) of ${requery.data.imported.rowsSeen}` : "PSP status checked"}; the case is now {CASE_STATUS_LABELS[requery.data.status].toLowerCase()}.
          </p>
        ) : null}
        <ErrorLine error={requery.error} testId="requery-error" />
      </Section>

      <Section title="Adjusting entry" testId="adjustment-section">
        {pending ? (
          <PendingAdjustment adjustment={pending} viewerId={viewerId} busy={busy} onDone={onDone} />
        ) : detail.impliedAdjustment.lines ? (
          <>
            <p className="text-sm text-slate-600">Proposing posts nothing yet: another ops user approves it, and only then are the lines of &ldquo;Implied adjusting entry&rdquo; posted.</p>
            <NoteForm
              label="Why the ledger should be adjusted (required)"
              submit="Propose adjustment"
              variant="primary"
              pending={propose.isPending}
              busy={busy}
              testId="propose-form"
              onSubmit={(note) => propose.mutate({ caseId: detail.id, note, factsVersion: detail.factsVersion })}
            />
            <ErrorLine error={propose.error} testId="propose-error" />
          </>
        ) : (
          <p className="text-sm text-slate-700" data-testid="adjustment-refusal">
            {detail.impliedAdjustment.refusal}
          </p>
        )}
      </Section>

      <Section title="Accept" testId="accept-section">
        {detail.type === "invariant" ? (
          <p className="text-sm text-slate-700">An invariant breach cannot be accepted: fix its cause, and the matcher resolves the case.</p>
        ) : (
          <AcceptForm caseId={detail.id} factsVersion={detail.factsVersion} busy={busy} onDone={onDone} />
        )}
      </Section>
    </div>
  );
}
