// A member answers a dispute (docs/refunds.md "Disputes"): submit evidence once, or accept the loss (Stripe
// `close`), while it is respondable (needs_response / warning_needs_response, before due_by, not answered yet).
//
// The one-shot guard: a first transaction CLAIMS the answer (locks the dispute row, checks it, sets
// evidence_submitted_at / accepted_at, writes the audit row) and commits before the PSP is called. Two concurrent
// submissions serialize on the row: the second finds the claim and gets 409 evidence_already_submitted, so the PSP
// sees one update. The PSP call carries a deterministic idempotency key (dispute-evidence:<id>, dispute-close:<id>),
// so a retry of the same answer cannot act twice either. If the PSP refuses or cannot be reached, the claim is
// released (the member may try again); if it did act and only its answer was lost, the next sync (the webhook)
// records the submission from the PSP's dispute.
import { createHash } from "node:crypto";
import { and, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import type { Db, Tx } from "@/db/client";
import { disputes, disputeTransitions } from "@/db/schema";
import { recordAudit } from "@/server/audit/record-audit";
import { encryptField } from "@/server/crypto/field";
import { AppError } from "@/server/errors";
import type { ConnectorFor } from "@/server/psp";
import type { PspConnector, PspDispute } from "@/server/psp/types";
import { getDisputeView } from "./list-disputes";
import { isRespondable } from "./present";
import { DISPUTE_RESPONDABLE_STATUSES, transitionDispute, type Dispute } from "./state-machine";
import { applyPspDispute } from "./sync-dispute";
import type { DisputeView, SubmitEvidenceInput } from "./types";

export const EVIDENCE_TEXT_MAX = 20_000;
export const EVIDENCE_SHORT_MAX = 500;
export const EVIDENCE_FILE_MAX_BYTES = 5 * 1024 * 1024;
export const EVIDENCE_FILE_TYPES = ["application/pdf", "image/png", "image/jpeg"] as const;

const short = z.string().trim().max(EVIDENCE_SHORT_MAX).optional();
const long = z.string().trim().max(EVIDENCE_TEXT_MAX).optional();

/** What a member may submit: Stripe's evidence text fields (a subset) and one uploaded file. */
export const submitEvidenceSchema = z
  .object({
    customerName: short,
    customerEmailAddress: z.string().trim().max(EVIDENCE_SHORT_MAX).email().optional(),
    productDescription: long,
    uncategorizedText: long,
    refundPolicyDisclosure: long,
    shippingTrackingNumber: short,
    uncategorizedFile: z
      .string()
      .regex(/^file_[A-Za-z0-9]{1,64}$/, "Must be a file id (file_…) from the evidence upload.")
      .optional(),
  })
  .strict()
  .refine((e) => Object.values(e).some((v) => typeof v === "string" && v.length > 0), { message: "Give at least one evidence field or a file." });

function parseEvidence(input: SubmitEvidenceInput): SubmitEvidenceInput {
  const r = submitEvidenceSchema.safeParse(input);
  if (r.success) {
    // Empty strings are "not given".
    return Object.fromEntries(Object.entries(r.data).filter(([, v]) => typeof v === "string" && v.length > 0)) as SubmitEvidenceInput;
  }
  const fields = r.error.issues.map((i) => ({ path: i.path.join(".") || "evidence", message: i.message }));
  throw new AppError("validation_failed", `Invalid input: ${fields.map((f) => `${f.path}: ${f.message}`).join("; ")}`, { details: { fields } });
}

function disputeConnector(db: Db, connectorFor: ConnectorFor, dispute: Dispute): PspConnector {
  return connectorFor(db, dispute.psp as PspConnector["psp"]);
}

/** Locks the merchant's dispute and checks it can still be answered (dispute_not_open / evidence_already_submitted). */
async function lockRespondable(tx: Tx, merchantId: string, disputeId: string, now: Date): Promise<Dispute> {
  const [d] = await tx
    .select()
    .from(disputes)
    .where(and(eq(disputes.id, disputeId), eq(disputes.merchantId, merchantId)))
    .for("update");
  if (!d) throw new AppError("not_found", `Dispute ${disputeId} not found`);
  if (d.evidenceSubmittedAt) throw new AppError("evidence_already_submitted");
  if (!isRespondable(d, now)) {
    const why = d.acceptedAt ? "it was accepted" : !DISPUTE_RESPONDABLE_STATUSES.includes(d.status) ? `it is ${d.status}` : "its evidence deadline has passed";
    throw new AppError("dispute_not_open", `This dispute no longer takes evidence or an acceptance: ${why}.`);
  }
  return d;
}

/** Submits evidence once (409 evidence_already_submitted after), before due_by (409 dispute_not_open after). */
export async function submitDisputeEvidence(db: Db, connectorFor: ConnectorFor, input: { merchantId: string; disputeId: string; evidence: SubmitEvidenceInput; userId: string }): Promise<DisputeView> {
  const evidence = parseEvidence(input.evidence);
  const claimed = await db.transaction(async (tx) => {
    const d = await lockRespondable(tx, input.merchantId, input.disputeId, new Date());
    const { dispute } = await transitionDispute(tx, {
      disputeId: d.id,
      to: d.status,
      reason: "evidence_submitted",
      set: { evidenceSubmittedAt: new Date(), evidenceSubmittedByUserId: input.userId, evidenceEncrypted: encryptField(JSON.stringify(evidence)) },
    });
    // The audit names which fields were sent, never their text (it names the buyer).
    await recordAudit(tx, { actor: input.userId, action: "dispute.evidence_submitted", target: { type: "dispute", id: d.id }, merchantId: input.merchantId, data: { fields: Object.keys(evidence).sort(), pspDisputeId: d.pspDisputeId } });
    return dispute;
  });
  const connector = disputeConnector(db, connectorFor, claimed);
  if (!connector.submitDisputeEvidence) throw new AppError("validation_failed", `PSP ${claimed.psp} takes no dispute evidence`);
  let answer: PspDispute;
  try {
    answer = await connector.submitDisputeEvidence({ pspDisputeId: claimed.pspDisputeId, evidence, idempotencyKey: await answerKey(db, "dispute-evidence", claimed) });
  } catch (err) {
    await release(db, claimed.id, { evidenceSubmittedAt: null, evidenceSubmittedByUserId: null }, "evidence_submission_failed");
    throw err;
  }
  await applyPspDispute(db, answer, { reason: "evidence_submitted" });
  return getDisputeView(db, input.merchantId, claimed.id);
}

/** Accepts the loss (Stripe close), once, while the dispute can still be answered. */
export async function acceptDispute(db: Db, connectorFor: ConnectorFor, input: { merchantId: string; disputeId: string; userId: string }): Promise<DisputeView> {
  const claimed = await db.transaction(async (tx) => {
    const d = await lockRespondable(tx, input.merchantId, input.disputeId, new Date());
    const { dispute } = await transitionDispute(tx, { disputeId: d.id, to: d.status, reason: "accepted", set: { acceptedAt: new Date(), acceptedByUserId: input.userId } });
    await recordAudit(tx, { actor: input.userId, action: "dispute.accepted", target: { type: "dispute", id: d.id }, merchantId: input.merchantId, data: { pspDisputeId: d.pspDisputeId, amount: d.amount.toString(), currency: d.currency } });
    return dispute;
  });
  const connector = disputeConnector(db, connectorFor, claimed);
  if (!connector.closeDispute) throw new AppError("validation_failed", `PSP ${claimed.psp} cannot close disputes`);
  let answer: PspDispute;
  try {
    answer = await connector.closeDispute({ pspDisputeId: claimed.pspDisputeId, idempotencyKey: await answerKey(db, "dispute-close", claimed) });
  } catch (err) {
    await release(db, claimed.id, { acceptedAt: null, acceptedByUserId: null }, "accept_failed");
    throw err;
  }
  await applyPspDispute(db, answer, { reason: "accepted" });
  return getDisputeView(db, input.merchantId, claimed.id);
}

/**
 * `dispute-evidence:<id>` / `dispute-close:<id>`; the chargeback an answered inquiry escalated into is answered
 * anew, under `…:<id>:chargeback` (the inquiry's answer keeps its own key).
 */
async function answerKey(db: Db, prefix: string, d: Dispute): Promise<string> {
  if (d.isInquiry) return `${prefix}:${d.id}`;
  const [wasInquiry] = await db
    .select({ id: disputeTransitions.id })
    .from(disputeTransitions)
    .where(and(eq(disputeTransitions.disputeId, d.id), inArray(disputeTransitions.toStatus, ["warning_needs_response", "warning_under_review"])))
    .limit(1);
  return wasInquiry ? `${prefix}:${d.id}:chargeback` : `${prefix}:${d.id}`;
}

/** The PSP did not take the answer: the claim is lifted so the member can try again. */
async function release(db: Db, disputeId: string, set: Partial<Dispute>, reason: string): Promise<void> {
  await db.transaction(async (tx) => {
    const [d] = await tx.select({ status: disputes.status }).from(disputes).where(eq(disputes.id, disputeId)).for("update");
    if (d) await transitionDispute(tx, { disputeId, to: d.status, reason, set });
  });
}

const MAGIC: Record<(typeof EVIDENCE_FILE_TYPES)[number], number[]> = {
  "application/pdf": [0x25, 0x50, 0x44, 0x46],
  "image/png": [0x89, 0x50, 0x4e, 0x47],
  "image/jpeg": [0xff, 0xd8, 0xff],
};

function fileProblem(field: string, message: string): AppError {
  return new AppError("validation_failed", `Invalid input: ${field}: ${message}`, { details: { fields: [{ path: field, message }] } });
}

/** Uploads an evidence file to the PSP (Stripe files API, purpose dispute_evidence); returns its id for the evidence. */
export async function uploadDisputeEvidenceFile(db: Db, connectorFor: ConnectorFor, input: { merchantId: string; disputeId: string; fileName: string; contentType: string; data: Uint8Array }): Promise<{ fileId: string }> {
  const type = input.contentType.split(";")[0]!.trim().toLowerCase() as (typeof EVIDENCE_FILE_TYPES)[number];
  if (!EVIDENCE_FILE_TYPES.includes(type)) throw fileProblem("file", "Must be a PDF, PNG or JPEG file.");
  if (input.data.byteLength === 0) throw fileProblem("file", "The file is empty.");
  if (input.data.byteLength > EVIDENCE_FILE_MAX_BYTES) throw fileProblem("file", `Must be at most ${EVIDENCE_FILE_MAX_BYTES / 1024 / 1024} MB.`);
  if (!MAGIC[type].every((b, i) => input.data[i] === b)) throw fileProblem("file", `The file's content is not a ${type.split("/")[1]!.toUpperCase()}.`);
  const fileName = input.fileName.trim();
  if (!fileName || fileName.length > 200 || /[\u0000-\u001f/\\]/.test(fileName)) throw fileProblem("fileName", "Must be 1 to 200 characters, without slashes or control characters.");
  const [d] = await db
    .select()
    .from(disputes)
    .where(and(eq(disputes.id, input.disputeId), eq(disputes.merchantId, input.merchantId)));
  if (!d) throw new AppError("not_found", `Dispute ${input.disputeId} not found`);
  if (d.evidenceSubmittedAt) throw new AppError("evidence_already_submitted");
  if (!isRespondable(d)) throw new AppError("dispute_not_open");
  const connector = disputeConnector(db, connectorFor, d);
  if (!connector.uploadDisputeFile) throw new AppError("validation_failed", `PSP ${d.psp} takes no evidence files`);
  const digest = createHash("sha256").update(input.data).digest("hex").slice(0, 32);
  return connector.uploadDisputeFile({ fileName, contentType: type, data: input.data, idempotencyKey: `dispute-file:${d.id}:${digest}` });
}
