import type { Inngest } from "inngest";
import type { Db } from "@/db/client";
import { sendDueReminders } from "@/server/disputes/reminders";
import { syncDispute } from "@/server/disputes/sync-dispute";
import type { ConnectorFor } from "@/server/psp";
import { pspStep } from "../errors";
import { disputePspUpdated } from "../refund-events";
import { recordFailure } from "./exceptions";

// Disputes (docs/refunds.md "Disputes"). sync-dispute: a PSP webhook about a dispute (wakeDispute) enqueues
// dispute/psp.updated; the run fetches the dispute from the PSP and applies it (idempotent and order-insensitive:
// a redelivered or late event changes nothing). dispute-reminders: every 15 minutes, the 72 h / 24 h reminders
// before evidence deadlines (each sent once: server/disputes/reminders.ts).

export const SYNC_DISPUTE_RETRIES = 5;
export const DISPUTE_REMINDERS_RETRIES = 2;
export const DISPUTE_REMINDERS_CRON = "TZ=UTC */15 * * * *";

export interface DisputeFunctionDeps {
  getDb: () => Db;
  connectorFor: ConnectorFor;
  /** The reminders' clock (tests inject one); default the wall clock. */
  now?: () => Date;
  /** The reminders' schedule; default DISPUTE_REMINDERS_CRON (tests tick every second). */
  remindersCron?: string;
}

export function createDisputeFunctions(client: Inngest, deps: DisputeFunctionDeps) {
  const sync = client.createFunction(
    {
      id: "sync-dispute",
      retries: SYNC_DISPUTE_RETRIES,
      onFailure: recordFailure(deps.getDb, "sync-dispute"),
      triggers: [{ event: disputePspUpdated }],
      // One run per dispute at a time: two webhooks about one dispute apply one after the other.
      concurrency: { key: "event.data.pspDisputeId", limit: 1 },
    },
    async ({ event, step }) => {
      const { psp, pspDisputeId } = event.data;
      return step.run("sync", () =>
        pspStep(async () => {
          const d = await syncDispute(deps.getDb(), deps.connectorFor, { psp, pspDisputeId });
          return d ? { disputeId: d.id, status: d.status, version: d.version } : { disputeId: null, status: "unknown_payment" };
        }),
      );
    },
  );
  const reminders = client.createFunction(
    {
      id: "dispute-reminders",
      retries: DISPUTE_REMINDERS_RETRIES,
      singleton: { mode: "skip" },
      onFailure: recordFailure(deps.getDb, "dispute-reminders"),
      triggers: [{ cron: deps.remindersCron ?? DISPUTE_REMINDERS_CRON }],
    },
    async ({ step }) =>
      step.run("send-due-reminders", async () => {
        const r = await sendDueReminders(deps.getDb(), deps.now?.() ?? new Date());
        return { sent: r.sent.length };
      }),
  );
  return [sync, reminders];
}
