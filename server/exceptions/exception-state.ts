import { eq, sql, type SQL } from "drizzle-orm";
import type { DbOrTx, Tx } from "@/db/client";
import { opsExceptions, type OpsExceptionStatus } from "@/db/schema";
import { AppError } from "@/server/errors";
import { assertMove, type TransitionTable } from "@/server/state-machine";

// The one writer of ops_exceptions.status (server/architecture.test.ts STATUS_WRITERS): recording (insert, or
// bump the open one with the same fingerprint), ops' retry and resolve, and the janitor's auto-resolution.
// The janitor's detectors insert with the column's default ('open') and never name the status.

export type OpsException = typeof opsExceptions.$inferSelect;
export type NewOpsException = Omit<typeof opsExceptions.$inferInsert, "id" | "status" | "occurrences" | "firstSeenAt" | "lastSeenAt" | "retryCount" | "retriedAt" | "lastRetryEventId" | "resolvedAt" | "resolvedBy" | "resolutionNote">;

/** Retrying goes back to open when its retry fails again; resolved and ignored are final (a recurrence opens a new row). */
export const EXCEPTION_TRANSITIONS: TransitionTable<OpsExceptionStatus> = {
  open: ["retrying", "resolved", "ignored"],
  retrying: ["retrying", "open", "resolved", "ignored"],
  resolved: [],
  ignored: [],
};

export const OPEN_STATUSES = ["open", "retrying"] as const satisfies readonly OpsExceptionStatus[];

/**
 * Inserts the exception, or bumps the open (or retrying) one with the same fingerprint: occurrences + 1,
 * last_seen_at now, message, code, run and retry event refreshed, and a retrying one is open again (its retry
 * failed too). One statement, so two recorders at once still leave one row.
 */
export async function upsertException(db: DbOrTx, row: NewOpsException): Promise<{ id: string; inserted: boolean; occurrences: number }> {
  const [r] = await db
    .insert(opsExceptions)
    .values(row)
    .onConflictDoUpdate({
      target: opsExceptions.fingerprint,
      targetWhere: sql`${opsExceptions.status} in ('open', 'retrying')`,
      set: {
        status: "open",
        occurrences: sql`${opsExceptions.occurrences} + 1`,
        lastSeenAt: sql`now()`,
        message: sql`excluded.message`,
        code: sql`coalesce(excluded.code, ${opsExceptions.code})`,
        functionId: sql`coalesce(excluded.function_id, ${opsExceptions.functionId})`,
        runId: sql`coalesce(excluded.run_id, ${opsExceptions.runId})`,
        merchantId: sql`coalesce(excluded.merchant_id, ${opsExceptions.merchantId})`,
        retryEvent: sql`excluded.retry_event`,
      },
    })
    .returning({ id: opsExceptions.id, occurrences: opsExceptions.occurrences, inserted: sql<boolean>`(xmax = 0)` });
  return { id: r!.id, inserted: Boolean(r!.inserted), occurrences: r!.occurrences };
}

type MoveSet = Partial<Pick<typeof opsExceptions.$inferInsert, "retryCount" | "retriedAt" | "lastRetryEventId" | "resolvedAt" | "resolvedBy" | "resolutionNote">>;

/** Locks the exception, checks the move against EXCEPTION_TRANSITIONS (invalid_transition otherwise) and writes it. */
export async function moveException(tx: Tx, opts: { id: string; to: OpsExceptionStatus; set?: (current: OpsException) => MoveSet }): Promise<{ before: OpsException; after: OpsException }> {
  const [before] = await tx.select().from(opsExceptions).where(eq(opsExceptions.id, opts.id)).for("update");
  if (!before) throw new AppError("not_found", `No exception ${opts.id}`);
  assertMove("exception", EXCEPTION_TRANSITIONS, before.status, opts.to);
  const [after] = await tx
    .update(opsExceptions)
    .set({ ...opts.set?.(before), status: opts.to })
    .where(eq(opsExceptions.id, opts.id))
    .returning();
  return { before, after: after! };
}

/**
 * An exception that says the PSP may hold the buyer's money we never credited (an outcome never learned, an STK push
 * whose answer was lost, an M-Pesa credit refused). A failed or canceled attempt does not close it: the app itself
 * closes attempts (another attempt paid the checkout, the checkout expired) without the PSP's word. Only a success
 * does; otherwise ops reconcile it.
 */
const MONEY_MAY_BE_HELD = sql.raw("(x.reason = 'outcome_unknown' or x.code in ('psp_outcome_unknown', 'mpesa_credit_refused'))");

interface AutoResolution {
  name: string;
  statement: (only: SQL) => SQL;
}

/**
 * One auto-resolution: resolves the open (or retrying) exceptions `where` picks, `x` being ops_exceptions and `from`
 * the subject's table, with the note "Auto-resolved by the exceptions janitor: " followed by `note` (an SQL text
 * expression). resolved_by stays null: nobody did it by hand.
 */
function autoResolution(name: string, q: { note: SQL; from?: SQL; where: SQL }): AutoResolution {
  return {
    name,
    statement: (only) => sql`
      update ops_exceptions x set status = 'resolved', resolved_at = now(),
        resolution_note = 'Auto-resolved by the exceptions janitor: ' || ${q.note}
      ${q.from ? sql`from ${q.from}` : sql``}
      where x.status in ('open', 'retrying') and (${q.where})
        ${only}`,
  };
}

/**
 * Auto-resolution: an open exception whose subject has since reached its business outcome is resolved, with a
 * note saying why. One UPDATE … FROM per subject type, set-based. What stays open for ops whatever the subject
 * does: an amount mismatch (money the PSP holds that was not credited: reconcile it), a job's failure (its next
 * run says nothing about the failed one), and a double charge until its double_charges row is refunded.
 */
const AUTO_RESOLUTIONS: AutoResolution[] = [
  autoResolution("payment_attempt", {
    note: sql`'the payment attempt is now ' || a.status::text || '.'`,
    from: sql`payment_attempts a`,
    where: sql`x.subject_type = 'payment_attempt' and x.subject_id = a.id
        and x.reason not in ('double_charge', 'amount_mismatch')
        and (a.status = 'succeeded' or (a.status in ('failed', 'canceled') and ${MONEY_MAY_BE_HELD} is not true))`,
  }),
  autoResolution("double_charge", {
    note: sql`'double charge ' || d.id || ' is marked refunded.'`,
    from: sql`double_charges d`,
    where: sql`x.subject_type = 'payment_attempt' and x.reason = 'double_charge' and d.attempt_id = x.subject_id and d.status = 'refunded'`,
  }),
  // The PaymentIntent was canceled at the PSP after all (a later run or a sweep), or the attempt paid the
  // checkout (then there is nothing to cancel; a double charge is its own exception).
  autoResolution("payment_cancel", {
    note: sql`case when a.status = 'succeeded' then 'the payment attempt succeeded; nothing to cancel.'
          else 'the PaymentIntent was canceled at the PSP.' end`,
    from: sql`payment_attempts a`,
    where: sql`x.subject_type = 'payment_cancel' and x.subject_id = a.id
        and (a.status = 'succeeded' or exists (
          select 1 from psp_attempts p
          where p.psp = 'stripe' and p.psp_object_id = a.psp_reference and p.operation = 'payment_intent.cancel' and p.outcome = 'ok'))`,
  }),
  autoResolution("psp_event", {
    note: sql`'the PSP event is now ' || p.status::text || '.'`,
    from: sql`psp_events p`,
    where: sql`x.subject_type = 'psp_event' and x.subject_id = p.id and p.status <> 'received'`,
  }),
  // Delivered; or, for one found stuck, no longer pending (a delivery that failed for good has its own
  // retries_exhausted exception from the deliver function's onFailure).
  autoResolution("webhook_delivery", {
    note: sql`'the webhook delivery is now ' || d.status::text || '.'`,
    from: sql`webhook_deliveries d`,
    where: sql`x.subject_type = 'webhook_delivery' and x.subject_id = d.id
        and (d.status = 'delivered' or (x.reason = 'stuck' and d.status <> 'pending'))`,
  }),
  // The fan-out made its deliveries and each was attempted to its end.
  autoResolution("merchant_event", {
    note: sql`'every delivery of the merchant event was made.'`,
    where: sql`x.subject_type = 'merchant_event'
        and exists (select 1 from webhook_deliveries d where d.event_id = x.subject_id)
        and not exists (select 1 from webhook_deliveries d where d.event_id = x.subject_id and d.status = 'pending')`,
  }),
  // The refund reached its outcome (succeeded, failed or canceled: its money is where the ledger says).
  autoResolution("refund", {
    note: sql`'the refund is now ' || r.status::text || '.'`,
    from: sql`refunds r`,
    // Not amount_mismatch: a PSP that says "succeeded" for a refund we had given back (apply-outcome.ts) is for ops to settle.
    where: sql`x.subject_type = 'refund' and x.reason <> 'amount_mismatch' and x.subject_id = r.id and r.status in ('succeeded', 'failed', 'canceled')`,
  }),
  autoResolution("outbox_event", {
    note: sql`'the outbox event was sent.'`,
    from: sql`outbox_events o`,
    where: sql`x.subject_type = 'outbox_event' and x.subject_id = o.id and o.sent_at is not null`,
  }),
];

export const AUTO_RESOLUTION_NAMES = AUTO_RESOLUTIONS.map((r) => r.name);

/**
 * Runs every auto-resolution; returns how many exceptions each resolved. With `id`, only that exception (ops'
 * retry asks first: a subject that reached its outcome since is resolved, not run again).
 */
export async function autoResolveExceptions(db: DbOrTx, opts: { id?: string } = {}): Promise<Record<string, number>> {
  const only = opts.id === undefined ? sql`` : sql`and x.id = ${opts.id}`;
  const out: Record<string, number> = {};
  for (const r of AUTO_RESOLUTIONS) {
    const res = (await db.execute(r.statement(only))) as unknown as { count?: number };
    out[r.name] = Number(res.count ?? 0);
  }
  return out;
}
