import { NonRetriableError, type Inngest } from "inngest";
import type { Db } from "@/db/client";
import type { ConnectorFor } from "@/server/psp";
import { checkRefund, sendRefund, syncRefund } from "@/server/refunds/execution";
import { pspStep } from "../errors";
import { refundExecute, refundPspUpdated } from "../refund-events";
import { recordFailure } from "./exceptions";

// Durable refund execution (docs/refunds.md). The refund was created (and the seller debited) in one transaction
// that also enqueued refund/execute; this sends it to the PSP once (Stripe: under the refund's idempotency key;
// M-Pesa: at most one reversal, ever) and follows it to an outcome. Each step reads the PSP and applies its answer
// itself (server/refunds/execution.ts). Webhooks / callbacks only wake the waits (refund/psp.updated). A refund still
// without an outcome after the last check fails the run: onFailure records an ops exception (kind refund).
// sync-refund applies every later change Stripe reports (succeeded -> failed days later gives the money back).

export const REFUND_RETRIES = 5;
/** How long to wait for a PSP update before asking again; the last entry repeats. */
export const REFUND_STATUS_WAITS = ["15s", "30s", "1m", "2m", "5m", "10m"] as const;
export const REFUND_STATUS_CHECKS_MAX = 10;

export interface RefundFunctionDeps {
  getDb: () => Db;
  connectorFor: ConnectorFor;
  /** Waits between status checks; default REFUND_STATUS_WAITS (tests pass milliseconds). */
  statusWaits?: readonly string[];
}

export function createRefundFunctions(client: Inngest, deps: RefundFunctionDeps) {
  const statusWaits = deps.statusWaits?.length ? deps.statusWaits : REFUND_STATUS_WAITS;

  const execute = client.createFunction(
    {
      id: "execute-refund",
      retries: REFUND_RETRIES,
      onFailure: recordFailure(deps.getDb, "execute-refund"),
      triggers: [{ event: refundExecute }],
      concurrency: { key: "event.data.refundId", limit: 1 },
    },
    async ({ event, step }) => {
      const db = deps.getDb();
      const refundId = event.data.refundId;
      let state = await step.run("send", () => pspStep(() => sendRefund(db, deps.connectorFor, refundId)));
      for (let i = 0; !state.done && i < REFUND_STATUS_CHECKS_MAX; i++) {
        const timeout = statusWaits[Math.min(i, statusWaits.length - 1)]!;
        const woke = await step.waitForEvent(`wait-for-psp-${i}`, { event: refundPspUpdated, timeout, if: `async.data.refundId == ${JSON.stringify(refundId)}` });
        state = await step.run(`check-${i}`, () => pspStep(() => checkRefund(db, deps.connectorFor, refundId, i, woke === null)));
      }
      if (!state.done) throw new NonRetriableError(`PSP outcome of refund ${refundId} still unknown after ${REFUND_STATUS_CHECKS_MAX} checks; reconcile it`);
      return { refundId, status: state.status };
    },
  );

  const sync = client.createFunction(
    {
      id: "sync-refund",
      retries: REFUND_RETRIES,
      onFailure: recordFailure(deps.getDb, "sync-refund"),
      triggers: [{ event: refundPspUpdated }],
      concurrency: { key: "event.data.refundId", limit: 1 },
    },
    async ({ event, step }) => {
      const state = await step.run("sync", () => pspStep(() => syncRefund(deps.getDb(), deps.connectorFor, event.data.refundId)));
      return { refundId: event.data.refundId, status: state.status };
    },
  );

  return [execute, sync];
}
