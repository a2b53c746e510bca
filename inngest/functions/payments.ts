import { NonRetriableError, type Inngest } from "inngest";
import type { Db } from "@/db/client";
import { cancelAndSettle, loadAttemptPlan, pushAndSettle, settleAttempt, type ConnectorFor } from "@/server/payments/execution";
import { processPspEventAndWake } from "@/server/webhooks/process-psp-event";
import { pspStep } from "../errors";
import { recordFailure } from "./exceptions";
import { pspEventReceived } from "../events";
import { paymentAttemptCancel, paymentAttemptExecute, pspPaymentUpdated } from "../payment-events";

// Durable pay-in execution. Each PSP call is its own step (memoized: a replayed run never repeats a
// completed call), retried with the engine's exponential backoff + jitter on transient errors only, with
// the attempt's deterministic idempotency key. The outcome is fetched from the PSP; webhooks only wake the
// wait early. A run that exhausts its checks or retries records an exception for ops (onFailure → ops_exceptions,
// on any engine; the local engine's dead letters are a debugging aid only).

export const EXECUTE_RETRIES = 5;
/** How long to wait for a PSP update before asking again; the last entry repeats. */
export const STATUS_WAITS = ["15s", "30s", "1m", "2m", "5m", "10m"] as const;
export const STATUS_CHECKS_MAX = 10;

export interface PaymentFunctionDeps {
  getDb: () => Db;
  connectorFor: ConnectorFor;
  /** Waits between status checks; default STATUS_WAITS (tests pass milliseconds). */
  statusWaits?: readonly string[];
}

export function createPaymentFunctions(client: Inngest, deps: PaymentFunctionDeps) {
  const statusWaits = deps.statusWaits?.length ? deps.statusWaits : STATUS_WAITS;
  const execute = client.createFunction(
    {
      id: "execute-payment-attempt",
      retries: EXECUTE_RETRIES,
      // The app's exception (ops_exceptions), on any engine: onFailure handlers get 1 retry from the SDK.
      onFailure: recordFailure(deps.getDb, "execute-payment-attempt"),
      triggers: [{ event: paymentAttemptExecute }],
      // At most one run per attempt executing at a time (a run waiting for an event does not count): the
      // outcome application is idempotent and refuses stale failures, so overlapping runs are safe.
      concurrency: { key: "event.data.attemptId", limit: 1 },
    },
    async ({ event, step }) => {
      const db = deps.getDb();
      const attemptId = event.data.attemptId;
      const plan = await step.run("load-attempt", () => loadAttemptPlan(db, attemptId));
      // A failed or canceled attempt with a PSP payment is still checked: the PSP may report a late success
      // (then applied, or flagged as a double charge). Only a success, or nothing ever sent, is final here.
      if (plan.status === "succeeded" || (!plan.pspReference && (plan.status === "failed" || plan.status === "canceled"))) {
        return { attemptId, outcome: "already-final" };
      }
      // Each step below reads the PSP and applies a final answer itself (server/payments/execution.ts):
      // no outcome is ever taken from an earlier step's memoized result.
      if (plan.method === "mpesa" && !plan.pspReference) {
        const pushed = await step.run("send-stk-push", () => pspStep(() => pushAndSettle(db, deps.connectorFor, attemptId)));
        if (pushed.outcome) return { attemptId, outcome: pushed.outcome };
      }
      for (let i = 0; i < STATUS_CHECKS_MAX; i++) {
        const settled = await step.run(`settle-${i}`, () => pspStep(() => settleAttempt(db, deps.connectorFor, attemptId)));
        // "pending": the buyer confirmed again after this answer; wait and ask the PSP again.
        if (settled.outcome && settled.outcome !== "pending") return { attemptId, outcome: settled.outcome, status: settled.status };
        const timeout = statusWaits[Math.min(i, statusWaits.length - 1)]!;
        await step.waitForEvent(`wait-for-psp-${i}`, { event: pspPaymentUpdated, timeout, if: `async.data.pspReference == ${JSON.stringify(settled.pspReference)}` });
      }
      throw new NonRetriableError(`PSP outcome of attempt ${attemptId} still unknown after ${STATUS_CHECKS_MAX} checks; reconcile it`);
    },
  );

  const cancel = client.createFunction(
    { id: "cancel-payment-attempt", retries: EXECUTE_RETRIES, triggers: [{ event: paymentAttemptCancel }], onFailure: recordFailure(deps.getDb, "cancel-payment-attempt") },
    async ({ event, step }) => {
      const db = deps.getDb();
      // If the buyer managed to pay it after all, the same step applies that PSP answer (flagged as a double charge for ops).
      const settled = await step.run("cancel-at-psp", () => pspStep(() => cancelAndSettle(db, deps.connectorFor, event.data.attemptId)));
      return { attemptId: event.data.attemptId, status: settled?.status ?? "nothing-to-cancel" };
    },
  );

  // Verified, stored PSP events (webhooks, M-Pesa callbacks) are processed here, one run per stored event.
  const applyPspEvent = client.createFunction(
    { id: "apply-psp-event", retries: EXECUTE_RETRIES, triggers: [{ event: pspEventReceived }], onFailure: recordFailure(deps.getDb, "apply-psp-event") },
    async ({ event, step }) => step.run("process-and-wake", () => processPspEventAndWake(deps.getDb(), event.data.storedEventId, deps.connectorFor)),
  );

  return [execute, cancel, applyPspEvent];
}
