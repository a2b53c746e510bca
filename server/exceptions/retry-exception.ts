import type { Db } from "@/db/client";
import { recordAudit } from "@/server/audit/record-audit";
import { AppError } from "@/server/errors";
import { isCatalogEventName, type CatalogEventName } from "@/server/events/catalog";
import { enqueueEvent } from "@/server/outbox";
import { autoResolveExceptions, moveException } from "./exception-state";
import { EXCEPTION_AUDIT_TARGET } from "./read-exceptions";

// Ops' "retry": the exception's domain event is emitted again through the outbox (so it works on any Inngest:
// Cloud, self-hosted or the local engine), with a fresh id per retry (`exception-retry:<id>:<n>`: the engine
// dedupes by event id, so re-sending the first id would run nothing). The status, the count and the audit row
// commit with the outbox row or not at all. If the run fails again, its onFailure bumps the exception back to open.

export function retryEventId(exceptionId: string, n: number): string {
  return `exception-retry:${exceptionId}:${n}`;
}

export async function retryException(db: Db, opts: { id: string; actorUserId: string; expectedRetryCount: number }): Promise<{ eventId: string }> {
  // A subject that reached its outcome since (the janitor resolves it within 5 minutes) is not run again: a
  // delivered webhook would be POSTed twice. The same auto-resolution, for this row only, commits first.
  const resolved = await autoResolveExceptions(db, { id: opts.id });
  if (Object.values(resolved).some((n) => n > 0)) {
    throw new AppError("conflict", "Not retried: its subject has reached its outcome since this was recorded, so the exception is resolved now.");
  }
  return db.transaction(async (tx) => {
    let eventId = "";
    let eventName: CatalogEventName | undefined;
    // moveException locks the row and refuses a resolved or ignored exception (invalid_transition).
    const { after } = await moveException(tx, {
      id: opts.id,
      to: "retrying",
      set: (current) => {
        const e = current.retryEvent;
        if (!e || !isCatalogEventName(e.name)) {
          throw new AppError("conflict", "This exception has no event to retry: re-running it cannot help. Resolve it once it is reconciled.");
        }
        // The count the caller saw: a second click (another ops user, a double submit) on a row retried meanwhile
        // would send a second event — a webhook POSTed twice. Locked by moveException, so exactly one wins.
        if (current.retryCount !== opts.expectedRetryCount) {
          throw new AppError("conflict", `Not retried: it was retried meanwhile (${current.retryCount} retries, not ${opts.expectedRetryCount}). Reload to see its state.`);
        }
        const n = current.retryCount + 1;
        eventId = retryEventId(current.id, n);
        eventName = e.name;
        return { retryCount: n, retriedAt: new Date(), lastRetryEventId: eventId };
      },
    });
    await enqueueEvent(tx, { name: eventName!, id: eventId, data: after.retryEvent!.data });
    await recordAudit(tx, {
      actor: opts.actorUserId,
      merchantId: after.merchantId,
      action: "exception.retried",
      target: { type: EXCEPTION_AUDIT_TARGET, id: after.id },
      data: { eventId, eventName, retryCount: after.retryCount, kind: after.kind, reason: after.reason, subject: `${after.subjectType}:${after.subjectId}` },
    });
    return { eventId };
  });
}
