import { z } from "zod";

// Inputs of the dashboard's disputes procedures (server/disputes/router.ts). Zod only, so client components import
// the limits from here. A malformed id is a 400 before any query runs.

export const ZDisputeIdValue = z.string().regex(/^dsp_[0-9A-Z]{26}$/, "not a dispute id");
export const ZReminderIdValue = z.string().regex(/^dsr_[0-9A-Z]{26}$/, "not a reminder id");

export const DISPUTE_STATUS_VALUES = ["warning_needs_response", "warning_under_review", "warning_closed", "needs_response", "under_review", "won", "lost"] as const;
export const DISPUTE_LIST_PAGE_DEFAULT = 25;

export const ZListDisputesInput = z.object({
  status: z.enum(DISPUTE_STATUS_VALUES).optional(),
  sort: z.enum(["due_by", "created"]).default("due_by"),
  cursor: z.string().min(1).max(512).optional(),
  limit: z.number().int().min(1).max(100).default(DISPUTE_LIST_PAGE_DEFAULT),
});

/** Max lengths of the evidence's text fields (Stripe takes 20,000 characters across them; we cap each). */
export const EVIDENCE_TEXT_MAX = { customerName: 200, customerEmailAddress: 254, productDescription: 4000, uncategorizedText: 8000, refundPolicyDisclosure: 4000, shippingTrackingNumber: 200 } as const;
export type EvidenceTextField = keyof typeof EVIDENCE_TEXT_MAX;

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `at most ${max} characters`)
    .optional()
    .transform((v) => (v ? v : undefined));

export const ZEvidenceInput = z
  .object({
    customerName: optionalText(EVIDENCE_TEXT_MAX.customerName),
    customerEmailAddress: z
      .string()
      .trim()
      .max(EVIDENCE_TEXT_MAX.customerEmailAddress)
      .optional()
      .transform((v) => (v ? v : undefined))
      .refine((v) => v === undefined || z.email().safeParse(v).success, "not an email address"),
    productDescription: optionalText(EVIDENCE_TEXT_MAX.productDescription),
    uncategorizedText: optionalText(EVIDENCE_TEXT_MAX.uncategorizedText),
    refundPolicyDisclosure: optionalText(EVIDENCE_TEXT_MAX.refundPolicyDisclosure),
    shippingTrackingNumber: optionalText(EVIDENCE_TEXT_MAX.shippingTrackingNumber),
    /** The PSP file id returned by the evidence-file upload. */
    uncategorizedFile: z
      .string()
      .regex(/^file_[A-Za-z0-9]{1,64}$/, "not a file id")
      .optional(),
  })
  .strict()
  .refine((e) => Object.values(e).some((v) => v !== undefined), { message: "Give at least one piece of evidence (a text field or a file)." });

export const ZSubmitEvidenceInput = z.object({ disputeId: ZDisputeIdValue, evidence: ZEvidenceInput });

/** The evidence file: what the upload route takes (the domain checks again: uploadDisputeEvidenceFile). */
export const EVIDENCE_FILE_MAX_BYTES = 5 * 1024 * 1024;
export const EVIDENCE_FILE_TYPES = ["application/pdf", "image/png", "image/jpeg"] as const;
