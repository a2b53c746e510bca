import type { Db } from "@/db/client";
import { recordAudit } from "@/server/audit/record-audit";
import { AppError } from "@/server/errors";
import { moveException, type OpsException } from "./exception-state";
import { RESOLUTION_NOTE_MAX_LENGTH } from "./limits";
import { EXCEPTION_AUDIT_TARGET } from "./read-exceptions";

// Ops close an exception by hand: resolved (handled: reconciled, refunded, retried successfully) or ignored
// (not worth acting on), always with a note saying why, and an audit row in the same transaction. A closed
// exception stays closed; if the same thing happens again, a new one opens.

export async function resolveException(db: Db, opts: { id: string; actorUserId: string; note: string; as: "resolved" | "ignored" }): Promise<OpsException> {
  // The router trims and bounds the note; the row and the audit trail must never carry an empty one.
  const note = opts.note.trim();
  if (!note || note.length > RESOLUTION_NOTE_MAX_LENGTH) throw new AppError("validation_failed", `A note of 1 to ${RESOLUTION_NOTE_MAX_LENGTH} characters is required.`);
  return db.transaction(async (tx) => {
    const { before, after } = await moveException(tx, { id: opts.id, to: opts.as, set: () => ({ resolvedAt: new Date(), resolvedBy: opts.actorUserId, resolutionNote: note }) });
    await recordAudit(tx, {
      actor: opts.actorUserId,
      merchantId: after.merchantId,
      action: "exception.resolved",
      target: { type: EXCEPTION_AUDIT_TARGET, id: after.id },
      data: { as: opts.as, note, from: before.status, kind: after.kind, reason: after.reason, subject: `${after.subjectType}:${after.subjectId}` },
    });
    return after;
  });
}
