import { NonRetriableError, type Inngest } from "inngest";
import type { Db } from "@/db/client";
import { checkPayout, reconcileOpenPayouts, sendPayout, syncPayout } from "@/server/payouts/execution";
import type { ConnectorFor } from "@/server/psp";
import { pspStep } from "../errors";
import { payoutExecute, payoutPspUpdated } from "../payout-events";
import { recordFailure } from "./exceptions";

// Durable payout execution (docs/payouts.md "Execution"). A payout was created (its hold placed) in one transaction
// that also enqueued payout/execute; this sends it to its PSP once — each step looks the payout up at the PSP before
// creating anything (server/payouts/execution.ts) — and follows it to paid or failed. Webhooks / B2C Results only
// wake the waits (payout/psp.updated). A payout still open after the last check fails the run (onFailure records an
// ops exception, kind payout); the payouts janitor keeps asking the PSP. sync-payout applies later changes Stripe
// reports (paid -> failed when a bank returns it gives the money back to the seller).

export const PAYOUT_RETRIES = 5;
/** How long to wait for a PSP update before asking again; the last entry repeats. */
export const PAYOUT_STATUS_WAITS = ["30s", "1m", "2m", "5m", "10m", "30m", "1h"] as const;
export const PAYOUT_STATUS_CHECKS_MAX = 12;
export const PAYOUTS_JANITOR_CRON = "*/5 * * * *";
export const PAYOUTS_JANITOR_RETRIES = 2;

export interface PayoutFunctionDeps {
  getDb: () => Db;
  connectorFor: ConnectorFor;
  /** Waits between status checks; default PAYOUT_STATUS_WAITS (tests pass milliseconds). */
  statusWaits?: readonly string[];
  /** Default PAYOUT_STATUS_CHECKS_MAX. */
  statusChecksMax?: number;
}

export function createPayoutFunctions(client: Inngest, deps: PayoutFunctionDeps) {
  const statusWaits = deps.statusWaits?.length ? deps.statusWaits : PAYOUT_STATUS_WAITS;
  const checksMax = deps.statusChecksMax ?? PAYOUT_STATUS_CHECKS_MAX;

  const execute = client.createFunction(
    {
      id: "execute-payout",
      retries: PAYOUT_RETRIES,
      onFailure: recordFailure(deps.getDb, "execute-payout"),
      triggers: [{ event: payoutExecute }],
      concurrency: { key: "event.data.payoutId", limit: 1 },
    },
    async ({ event, step }) => {
      const db = deps.getDb();
      const payoutId = event.data.payoutId;
      let state = await step.run("send", () => pspStep(() => sendPayout(db, deps.connectorFor, payoutId)));
      for (let i = 0; !state.done && i < checksMax; i++) {
        const timeout = statusWaits[Math.min(i, statusWaits.length - 1)]!;
        const woke = await step.waitForEvent(`wait-for-psp-${i}`, { event: payoutPspUpdated, timeout, if: `async.data.payoutId == ${JSON.stringify(payoutId)}` });
        state = await step.run(`check-${i}`, () => pspStep(() => checkPayout(db, deps.connectorFor, payoutId, { timedOut: woke === null, checkNo: i })));
      }
      if (!state.done) throw new NonRetriableError(`Payout ${payoutId} is still ${state.status} after ${checksMax} checks; the payouts janitor keeps asking the PSP`);
      return { payoutId, status: state.status };
    },
  );

  const sync = client.createFunction(
    {
      id: "sync-payout",
      retries: PAYOUT_RETRIES,
      onFailure: recordFailure(deps.getDb, "sync-payout"),
      triggers: [{ event: payoutPspUpdated }],
      concurrency: { key: "event.data.payoutId", limit: 1 },
    },
    async ({ event, step }) => {
      const state = await step.run("sync", () => pspStep(() => syncPayout(deps.getDb(), deps.connectorFor, event.data.payoutId)));
      return { payoutId: event.data.payoutId, status: state.status };
    },
  );

  const janitor = client.createFunction(
    {
      id: "payouts-janitor",
      retries: PAYOUTS_JANITOR_RETRIES,
      onFailure: recordFailure(deps.getDb, "payouts-janitor"),
      singleton: { mode: "skip" },
      triggers: [{ cron: PAYOUTS_JANITOR_CRON }],
    },
    async ({ step }) => step.run("reconcile", () => reconcileOpenPayouts(deps.getDb(), deps.connectorFor)),
  );

  return [execute, sync, janitor];
}
