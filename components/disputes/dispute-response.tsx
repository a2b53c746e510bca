"use client";

import { useMutation } from "@tanstack/react-query";
import { TRPCClientError } from "@trpc/client";
import { useState, type FormEvent } from "react";
import { fieldErrorsOf } from "@/components/trpc/field-errors";
import { useTRPC } from "@/components/trpc/react";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Dialog } from "@/components/ui/dialog";
import { Field, Input, Textarea } from "@/components/ui/field";
import { Time } from "@/components/ui/time";
import { EVIDENCE_FILE_MAX_BYTES, EVIDENCE_FILE_TYPES, EVIDENCE_TEXT_MAX, type EvidenceTextField } from "@/server/disputes/dashboard.schema";
import type { DisputeView } from "@/server/disputes/types";
import { deadlineState } from "./deadline";

// The merchant's one answer to a dispute: evidence (text fields and one file, submitted once: the Submit button is
// disabled from the first click, and the server's one-shot guard refuses a second submission anyway), or accepting
// the loss. Both behind a confirm dialog. Admins only; viewers see the state and why they cannot act.

const FIELDS: { key: EvidenceTextField; label: string; hint?: string; long?: boolean; type?: string }[] = [
  { key: "uncategorizedText", label: "Your evidence", hint: "What happened, in your words: what the buyer ordered and why the charge is valid.", long: true },
  { key: "productDescription", label: "Product or service description", long: true },
  { key: "customerName", label: "Buyer's name" },
  { key: "customerEmailAddress", label: "Buyer's email", type: "email" },
  { key: "shippingTrackingNumber", label: "Shipping tracking number" },
  { key: "refundPolicyDisclosure", label: "How the refund policy was shown to the buyer", long: true },
];

type Draft = Record<EvidenceTextField, string>;
const emptyDraft = (): Draft => Object.fromEntries(FIELDS.map((f) => [f.key, ""])) as Draft;

const errorMessage = (err: unknown) => (err instanceof Error ? err.message : "Something went wrong.");
const isBadInput = (err: unknown) => err instanceof TRPCClientError && (err.data as { code?: string } | undefined)?.code === "BAD_REQUEST";

async function uploadEvidenceFile(disputeId: string, file: File): Promise<string> {
  const body = new FormData();
  body.append("file", file);
  const res = await fetch(`/api/dashboard/disputes/${encodeURIComponent(disputeId)}/evidence-file`, { method: "POST", body });
  const json = (await res.json().catch(() => null)) as { file_id?: string; error?: { message?: string } } | null;
  if (!res.ok || !json?.file_id) throw new Error(json?.error?.message ?? `The file upload failed (HTTP ${res.status}).`);
  return json.file_id;
}

export function DisputeResponse({ dispute, canRespond, now, onAnswered }: { dispute: DisputeView; canRespond: boolean; now: Date; onAnswered: () => void }) {
  const trpc = useTRPC();
  const [draft, setDraft] = useState<Draft>(emptyDraft);
  const [file, setFile] = useState<File | null>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [confirmSubmit, setConfirmSubmit] = useState(false);
  const [confirmAccept, setConfirmAccept] = useState(false);
  /** Set on the first click of the dialog's Submit: stays set (one shot), unless nothing was sent (bad input). */
  const [sent, setSent] = useState(false);
  const [acceptSent, setAcceptSent] = useState(false);
  const submit = useMutation(trpc.disputes.submitEvidence.mutationOptions());
  const accept = useMutation(trpc.disputes.accept.mutationOptions());
  const state = deadlineState(dispute, now);

  if (!dispute.respondable || state.kind === "overdue") {
    return (
      <Card title="Your response" data-testid="dispute-response" data-state="closed">
        <p className="text-sm text-slate-700">
          {dispute.accepted_at ? (
            <>
              You accepted the loss on <Time value={dispute.accepted_at} />.
            </>
          ) : dispute.evidence_submitted_at ? (
            <>
              Evidence submitted on <Time value={dispute.evidence_submitted_at} />. {dispute.status === "won" ? "The dispute was decided in your favour." : dispute.status === "lost" ? "The dispute was decided against you." : "The card network is reviewing it."}
            </>
          ) : state.kind === "overdue" ? (
            "The deadline for evidence has passed without a response: the dispute will be lost."
          ) : (
            "This dispute no longer takes evidence."
          )}
        </p>
      </Card>
    );
  }

  if (!canRespond) {
    return (
      <Card title="Your response" data-testid="dispute-response" data-state="viewer">
        <p className="text-sm text-slate-700">Only an admin of this merchant can submit evidence or accept the loss.</p>
      </Card>
    );
  }

  const setField = (k: EvidenceTextField, value: string) => setDraft({ ...draft, [k]: value });
  const hasEvidence = FIELDS.some((f) => draft[f.key].trim() !== "") || file !== null;
  const fieldErrors = fieldErrorsOf(submit.error);

  const onFile = (f: File | null) => {
    setFileError(null);
    if (f && f.size > EVIDENCE_FILE_MAX_BYTES) return (setFile(null), setFileError("The file is larger than 5 MB."));
    if (f && !(EVIDENCE_FILE_TYPES as readonly string[]).includes(f.type)) return (setFile(null), setFileError("The file must be a PDF, PNG or JPEG."));
    setFile(f);
  };

  const openConfirm = (e: FormEvent) => {
    e.preventDefault();
    setFormError(null);
    if (!hasEvidence) return setFormError("Give at least one piece of evidence (a text field or a file).");
    setConfirmSubmit(true);
  };

  const doSubmit = async () => {
    if (sent) return;
    setSent(true);
    setFormError(null);
    try {
      const uncategorizedFile = file ? await uploadEvidenceFile(dispute.id, file) : undefined;
      const evidence = Object.fromEntries(FIELDS.flatMap((f) => (draft[f.key].trim() ? [[f.key, draft[f.key].trim()]] : [])));
      await submit.mutateAsync({ disputeId: dispute.id, evidence: { ...evidence, ...(uncategorizedFile ? { uncategorizedFile } : {}) } });
      setConfirmSubmit(false);
      onAnswered();
    } catch (err) {
      setConfirmSubmit(false);
      setFormError(errorMessage(err));
      // Nothing reached the PSP (bad input, a refused file): the member may correct it and try again.
      if (isBadInput(err) || !(err instanceof TRPCClientError)) setSent(false);
      else onAnswered();
    }
  };

  const doAccept = async () => {
    if (acceptSent) return;
    setAcceptSent(true);
    try {
      await accept.mutateAsync({ disputeId: dispute.id });
      setConfirmAccept(false);
      onAnswered();
    } catch (err) {
      setConfirmAccept(false);
      setFormError(errorMessage(err));
      onAnswered();
    }
  };

  return (
    <Card title="Your response" description="Submit evidence once, before the deadline, or accept the loss." data-testid="dispute-response" data-state="open">
      <form onSubmit={openConfirm} className="flex flex-col gap-4" aria-label="Dispute evidence" noValidate>
        <div className="grid grid-cols-1 gap-4 md:grid-cols-2">
          {FIELDS.map((f) => {
            const id = `ev-${f.key}`;
            const error = fieldErrors[`evidence.${f.key}`]?.[0] ?? fieldErrors[f.key]?.[0] ?? null;
            const describedBy = [f.hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(" ") || undefined;
            return (
              <Field key={f.key} label={f.label} htmlFor={id} hint={f.hint} error={error} className={f.long ? "md:col-span-2" : undefined}>
                {f.long ? (
                  <Textarea id={id} rows={f.key === "uncategorizedText" ? 5 : 3} maxLength={EVIDENCE_TEXT_MAX[f.key]} value={draft[f.key]} onChange={(e) => setField(f.key, e.target.value)} aria-describedby={describedBy} aria-invalid={error ? true : undefined} disabled={sent} />
                ) : (
                  <Input id={id} type={f.type ?? "text"} maxLength={EVIDENCE_TEXT_MAX[f.key]} value={draft[f.key]} onChange={(e) => setField(f.key, e.target.value)} aria-describedby={describedBy} aria-invalid={error ? true : undefined} disabled={sent} autoComplete="off" />
                )}
              </Field>
            );
          })}
          <Field label="Evidence file (optional)" htmlFor="ev-file" hint="One PDF, PNG or JPEG, at most 5 MB: a receipt, a delivery confirmation, your terms." error={fileError} className="md:col-span-2">
            <Input id="ev-file" type="file" accept={EVIDENCE_FILE_TYPES.join(",")} onChange={(e) => onFile(e.target.files?.[0] ?? null)} aria-describedby={fileError ? "ev-file-hint ev-file-error" : "ev-file-hint"} disabled={sent} />
          </Field>
        </div>
        {formError ? (
          <p role="alert" className="text-sm text-red-700" data-testid="dispute-response-error">
            {formError}
          </p>
        ) : null}
        <div className="flex flex-wrap items-center gap-2">
          <Button type="submit" variant="primary" disabled={sent || acceptSent}>
            {sent ? "Submitting…" : "Submit evidence"}
          </Button>
          <Button variant="danger" onClick={() => setConfirmAccept(true)} disabled={sent || acceptSent}>
            {acceptSent ? "Accepting…" : "Accept the loss"}
          </Button>
        </div>
      </form>

      <Dialog open={confirmSubmit} onOpenChange={(o) => !sent && setConfirmSubmit(o)} title="Submit this evidence?" description="You can submit evidence once: after this, nothing can be added or changed, and the card network decides.">
        <p className="mb-4 text-sm text-slate-700">
          {file ? `The file ${file.name} is uploaded first, then the evidence is sent.` : "No file is attached."} The decision usually takes weeks; this page shows it when it arrives.
        </p>
        <div className="flex flex-wrap justify-end gap-2">
          <Button onClick={() => setConfirmSubmit(false)} disabled={sent}>
            Cancel
          </Button>
          <Button variant="primary" onClick={() => void doSubmit()} disabled={sent}>
            {sent ? "Submitting…" : "Submit evidence once"}
          </Button>
        </div>
      </Dialog>

      <Dialog open={confirmAccept} onOpenChange={(o) => !acceptSent && setConfirmAccept(o)} title="Accept the loss?" description="The dispute is closed as lost: the disputed amount and the fee stay withdrawn from the sellers, and no evidence can be submitted after this.">
        <div className="flex flex-wrap justify-end gap-2">
          <Button onClick={() => setConfirmAccept(false)} disabled={acceptSent}>
            Cancel
          </Button>
          <Button variant="danger" onClick={() => void doAccept()} disabled={acceptSent}>
            {acceptSent ? "Accepting…" : "Accept the loss"}
          </Button>
        </div>
      </Dialog>
    </Card>
  );
}
