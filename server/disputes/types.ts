// The disputes domain's shared shapes (the contract between its PSP sync, API and dashboard).
import type { DisputeAllocation } from "@/db/schema";
import type { DisputeEvidenceInput } from "@/server/psp/types";
import type { Dispute, DisputeStatus } from "./state-machine";

export type { Dispute, DisputeAllocation, DisputeEvidenceInput, DisputeStatus };

/** The public API's (and merchant webhooks') view of a dispute. Amounts are decimal strings. */
export interface DisputeView {
  object: "dispute";
  id: string;
  checkout_id: string;
  /** The merchant's payment_order_ids the dispute covers (its allocation, one per order). */
  payment_orders: { payment_order_id: string; seller_account: string; amount: string; fee: string }[];
  amount: string;
  fee: string;
  currency: string;
  status: DisputeStatus;
  reason: string;
  is_inquiry: boolean;
  /** Absolute deadline for evidence (ISO), and whether it can still be answered. */
  evidence_due_by: string | null;
  evidence_submitted_at: string | null;
  accepted_at: string | null;
  respondable: boolean;
  created_at: string;
  updated_at: string;
}

export interface ListDisputesInput {
  status?: DisputeStatus;
  /** "due_by" (soonest deadline first, open ones first) or "created" (newest first). */
  sort: "due_by" | "created";
  cursor?: string;
  limit: number;
}

export interface DisputePage {
  data: DisputeView[];
  hasMore: boolean;
  nextCursor: string | null;
}

/** What a member submits (text fields; the file is uploaded first and named by its PSP file id). */
export type SubmitEvidenceInput = DisputeEvidenceInput;
