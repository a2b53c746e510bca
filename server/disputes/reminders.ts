// Reminders before a dispute's evidence deadline (docs/refunds.md "Disputes"): 72 h and 24 h before due_by, each
// once per (dispute, kind, due_by) — the unique index on dispute_reminders makes a re-run (or two overlapping runs)
// send nothing twice. Each reminder is a merchant event (dispute.evidence_due_soon, a webhook) and the dashboard's
// notice (listDisputeNotices). The dispute-reminders cron (inngest/functions/disputes.ts) calls this every 15 min.
import { and, asc, eq, gt, inArray, isNull, lte } from "drizzle-orm";
import type { Db } from "@/db/client";
import { disputeReminders, disputes } from "@/db/schema";
import { recordObjectEvent } from "@/server/webhooks-out/record-event";
import { presentDisputes } from "./list-disputes";
import { DISPUTE_RESPONDABLE_STATUSES, transitionDispute } from "./state-machine";

const HOUR_MS = 3_600_000;
export const REMINDER_WINDOWS = [
  { kind: "24h", ms: 24 * HOUR_MS },
  { kind: "72h", ms: 72 * HOUR_MS },
] as const;
/** Disputes handled per run; the next run takes the rest. */
export const REMINDERS_PER_RUN = 500;

export type ReminderKind = (typeof REMINDER_WINDOWS)[number]["kind"];

/** The reminder due at `now` for a deadline: the tightest window it is in (so a late first look sends 24h, not both). */
export function reminderKindFor(dueBy: Date, now: Date): ReminderKind | null {
  const left = dueBy.getTime() - now.getTime();
  if (left <= 0) return null;
  return REMINDER_WINDOWS.find((w) => left <= w.ms)?.kind ?? null;
}

export async function sendDueReminders(db: Db, now: Date = new Date()): Promise<{ sent: { disputeId: string; kind: ReminderKind }[] }> {
  const candidates = await db
    .select({ id: disputes.id })
    .from(disputes)
    .where(
      and(
        inArray(disputes.status, [...DISPUTE_RESPONDABLE_STATUSES]),
        gt(disputes.evidenceDueBy, now),
        lte(disputes.evidenceDueBy, new Date(now.getTime() + 72 * HOUR_MS)),
        isNull(disputes.evidenceSubmittedAt),
        isNull(disputes.acceptedAt),
      ),
    )
    .orderBy(asc(disputes.evidenceDueBy))
    .limit(REMINDERS_PER_RUN);
  const sent: { disputeId: string; kind: ReminderKind }[] = [];
  for (const { id } of candidates) {
    const kind = await db.transaction(async (tx) => {
      const [d] = await tx.select().from(disputes).where(eq(disputes.id, id)).for("update");
      if (!d || !d.evidenceDueBy || d.evidenceSubmittedAt || d.acceptedAt || !DISPUTE_RESPONDABLE_STATUSES.includes(d.status)) return null;
      const kind = reminderKindFor(d.evidenceDueBy, now);
      if (!kind) return null;
      const [reminder] = await tx
        .insert(disputeReminders)
        .values({ disputeId: d.id, merchantId: d.merchantId, kind, dueBy: d.evidenceDueBy })
        .onConflictDoNothing({ target: [disputeReminders.disputeId, disputeReminders.kind, disputeReminders.dueBy] })
        .returning({ id: disputeReminders.id });
      if (!reminder) return null;
      const { dispute } = await transitionDispute(tx, { disputeId: d.id, to: d.status, reason: `reminder_${kind}`, set: { updatedAt: new Date() } });
      const [view] = await presentDisputes(tx, [dispute], now);
      await recordObjectEvent(tx, {
        merchantId: dispute.merchantId,
        type: "dispute.evidence_due_soon",
        objectId: dispute.id,
        version: dispute.version,
        payload: { reminder: kind, due_by: d.evidenceDueBy.toISOString(), dispute: view! },
      });
      return kind;
    });
    if (kind) sent.push({ disputeId: id, kind });
  }
  return { sent };
}
