import type { Tx } from "@/db/client";
import { auditLog } from "@/db/schema";

/**
 * Every action the audit log records. Closed: a new kind of audit row starts by adding its action here. The
 * strings are stored as they are (audit_log.action) and read by tests and pages, so never rename one.
 */
export const AUDIT_ACTIONS = [
  "api_key.created",
  "api_key.revoked",
  "buyer_data.viewed",
  "dispute.accepted",
  "dispute.evidence_submitted",
  "double_charge.marked_refunded",
  "encryption.reencrypted",
  "engine_run.replayed",
  "exception.resolved",
  "exception.retried",
  "merchant.settings_updated",
  "merchant.updated",
  "payout.approved",
  "payout.canceled",
  "payout.requested",
  "payout_destination.set",
  "payout_schedule.updated",
  "recon_adjustment.approved",
  "recon_adjustment.proposed",
  "recon_adjustment.rejected",
  "recon_case.accepted",
  "recon_case.acknowledged",
  "recon_case.requeried",
  "recon_import.uploaded",
  "recon_run.requested",
  "refund.canceled",
  "refund.created",
  "risk_review.approved",
  "risk_review.rejected",
  "risk_rule.created",
  "risk_rule.disabled",
  "risk_rule.enabled",
  "team.invitation_accepted",
  "team.invitation_resent",
  "team.invitation_revoked",
  "team.member_invited",
  "team.member_removed",
  "team.member_role_changed",
  "user.sessions_revoked",
  "webhook_delivery.resent",
  "webhook_endpoint.created",
  "webhook_endpoint.disabled",
  "webhook_endpoint.test_sent",
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

const KNOWN_ACTIONS: ReadonlySet<string> = new Set(AUDIT_ACTIONS);

export function isAuditAction(value: string): value is AuditAction {
  return KNOWN_ACTIONS.has(value);
}

export interface AuditEntry {
  /** The user who acted; null/undefined when no user did (e.g. a call with an API key). */
  actor: string | null | undefined;
  action: AuditAction;
  /** What was acted on: audit_log.target_type / target_id. */
  target: { type: string; id: string };
  /** The merchant whose log this row belongs to; null/omitted for platform-wide actions. */
  merchantId?: string | null;
  /**
   * A change, field by field: stored in `data` as `{ [field]: { from: before[field], to: after[field] } }`
   * for every field of either. Give both or neither.
   */
  before?: Record<string, unknown>;
  after?: Record<string, unknown>;
  /** Anything else worth keeping (a note, a reference, the created row's settings): stored in `data`. */
  data?: Record<string, unknown>;
}

/**
 * Writes one audit_log row. Takes a transaction handle: the row commits (or not) with the change it records.
 * An action outside AUDIT_ACTIONS is refused here as well as by the type (a cast or untyped caller).
 */
export async function recordAudit(tx: Tx, entry: AuditEntry): Promise<{ id: string; createdAt: Date }> {
  if (!isAuditAction(entry.action)) throw new Error(`Unknown audit action: ${JSON.stringify(entry.action)}`);
  if ((entry.before === undefined) !== (entry.after === undefined)) {
    throw new Error(`Audit ${entry.action}: give both before and after, or neither`);
  }
  const data: Record<string, unknown> = { ...entry.data };
  if (entry.before && entry.after) {
    for (const field of new Set([...Object.keys(entry.before), ...Object.keys(entry.after)])) {
      data[field] = { from: entry.before[field], to: entry.after[field] };
    }
  }
  const [row] = await tx
    .insert(auditLog)
    .values({
      actorUserId: entry.actor ?? null,
      merchantId: entry.merchantId ?? null,
      action: entry.action,
      targetType: entry.target.type,
      targetId: entry.target.id,
      data,
    })
    .returning({ id: auditLog.id, createdAt: auditLog.createdAt });
  return row!;
}
