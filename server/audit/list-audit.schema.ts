import { z } from "zod";
import { PAGE_DIRECTIONS } from "@/server/ops/keyset-page";
import { AUDIT_ACTOR_MAX, AUDIT_ID_MAX, AUDIT_PAGE_MAX, AUDIT_PAGE_SIZE } from "./list-audit-limits";
import { AUDIT_ACTIONS } from "./record-audit";

// Input of the ops audit-log list (ops.auditLog). Dates are whole UTC days, both ends included: the ops console
// shows every time in UTC.

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "Use YYYY-MM-DD")
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), "Not a calendar date");

export const ZListAuditInput = z
  .object({
    /** Part of the acting user's email, any case. */
    actor: z.string().trim().min(1).max(AUDIT_ACTOR_MAX).optional(),
    action: z.enum(AUDIT_ACTIONS).optional(),
    merchantId: z.string().trim().min(1).max(64).optional(),
    /** The audited object's id, exactly (a checkout, a key, an exception, a run…). */
    targetId: z.string().trim().min(1).max(AUDIT_ID_MAX).optional(),
    /** First UTC day included. */
    from: day.optional(),
    /** Last UTC day included. */
    to: day.optional(),
    cursor: z.string().min(1).max(64).optional(),
    direction: z.enum(PAGE_DIRECTIONS).default("next"),
    limit: z.number().int().min(1).max(AUDIT_PAGE_MAX).default(AUDIT_PAGE_SIZE),
  })
  .refine((v) => !v.from || !v.to || v.from <= v.to, { message: "The start date is after the end date", path: ["to"] });

export type TListAuditInput = z.output<typeof ZListAuditInput>;
