// STUB (lead): the disputes helper replaces this file.
import type { Db } from "@/db/client";
import type { ConnectorFor } from "@/server/psp";
import type { DisputeView, SubmitEvidenceInput } from "./types";

/** Submits evidence once (409 evidence_already_submitted after), before due_by (409 dispute_not_open after). */
export async function submitDisputeEvidence(_db: Db, _connectorFor: ConnectorFor, _input: { merchantId: string; disputeId: string; evidence: SubmitEvidenceInput; userId: string }): Promise<DisputeView> {
  throw new Error("not implemented yet (issue 12: being built)");
}

/** Accepts the loss (Stripe close), once, while the dispute can still be answered. */
export async function acceptDispute(_db: Db, _connectorFor: ConnectorFor, _input: { merchantId: string; disputeId: string; userId: string }): Promise<DisputeView> {
  throw new Error("not implemented yet (issue 12: being built)");
}

/** Uploads an evidence file to the PSP (Stripe files API, purpose dispute_evidence); returns its id for the evidence. */
export async function uploadDisputeEvidenceFile(_db: Db, _connectorFor: ConnectorFor, _input: { merchantId: string; disputeId: string; fileName: string; contentType: string; data: Uint8Array }): Promise<{ fileId: string }> {
  throw new Error("not implemented yet (issue 12: being built)");
}
