import { NonRetriableError, RetryAfterError, type Inngest } from "inngest";
import type { Db } from "@/db/client";
import { applyAttemptOutcome } from "@/server/payments/apply-outcome";
import { cancelAtPsp, fetchPaymentStatus, fromStored, isFinal, loadAttemptPlan, sendStkPush, type ConnectorFor, type StoredResult } from "@/server/payments/execution";
import { AppError } from "@/server/errors";
import { PspError } from "@/server/psp/errors";
import { processPspEventAndWake } from "@/server/payments/psp-wakeup";
import { pspEventReceived } from "../events";
import { paymentAttemptCancel, paymentAttemptExecute, pspPaymentUpdated } from "../payment-events";

// Durable pay-in execution. Each PSP call is its own step (memoized: a replayed run never repeats a
// completed call), retried with the engine's exponential backoff + jitter on transient errors only, with
// the attempt's deterministic idempotency key. The outcome is fetched from the PSP; webhooks only wake the
// wait early. A run that exhausts its checks or retries lands in the dead letters for ops.

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

/** PSP rate limits come back as Retry-After; other transient errors use the engine's backoff. */
async function pspStep<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof PspError && err.kind === "rate_limited" && err.retryAfterMs) throw new RetryAfterError(err.message, err.retryAfterMs);
    throw err;
  }
}

/**
 * A conflict from applying an outcome (amount mismatch, double charge) is deterministic: retrying cannot
 * change it, so the run goes straight to the dead letters for ops.
 */
async function deterministic<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AppError && err.code === "conflict") throw new NonRetriableError(err.message, { cause: err });
    throw err;
  }
}

export function createPaymentFunctions(client: Inngest, deps: PaymentFunctionDeps) {
  const statusWaits = deps.statusWaits?.length ? deps.statusWaits : STATUS_WAITS;
  const execute = client.createFunction(
    {
      id: "execute-payment-attempt",
      retries: EXECUTE_RETRIES,
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
      let ref = plan.pspReference;
      if (plan.method === "mpesa" && !ref) {
        const pushed: StoredResult = await step.run("send-stk-push", () => pspStep(() => sendStkPush(db, deps.connectorFor, attemptId)));
        if (isFinal(pushed)) {
          const outcome = await step.run("apply-outcome", () => deterministic(() => applyAttemptOutcome(db, attemptId, fromStored(pushed))));
          return { attemptId, outcome };
        }
        ref = pushed.pspReference;
      }
      if (!ref) throw new NonRetriableError(`Attempt ${attemptId} has no PSP reference to check`);
      for (let i = 0; i < STATUS_CHECKS_MAX; i++) {
        const status: StoredResult = await step.run(`check-status-${i}`, () => pspStep(() => fetchPaymentStatus(db, deps.connectorFor, plan.psp, ref)));
        if (isFinal(status)) {
          const observedAt = status.fetchedAt ? new Date(status.fetchedAt) : undefined;
          const outcome = await step.run(`apply-outcome-${i}`, () => deterministic(() => applyAttemptOutcome(db, attemptId, fromStored(status), observedAt)));
          // "pending": the buyer confirmed again after this answer; wait and ask the PSP again.
          if (outcome !== "pending") return { attemptId, outcome, status: status.status };
        }
        const timeout = statusWaits[Math.min(i, statusWaits.length - 1)]!;
        await step.waitForEvent(`wait-for-psp-${i}`, { event: pspPaymentUpdated, timeout, if: `async.data.pspReference == ${JSON.stringify(ref)}` });
      }
      throw new NonRetriableError(`PSP outcome of attempt ${attemptId} (${ref}) still unknown after ${STATUS_CHECKS_MAX} checks; reconcile it`);
    },
  );

  const cancel = client.createFunction(
    { id: "cancel-payment-attempt", retries: EXECUTE_RETRIES, triggers: [{ event: paymentAttemptCancel }] },
    async ({ event, step }) => {
      const db = deps.getDb();
      const result = await step.run("cancel-at-psp", () => pspStep(() => cancelAtPsp(db, deps.connectorFor, event.data.attemptId)));
      // If the buyer managed to pay it after all, applying the success flags the double charge for ops.
      if (result && result.status === "succeeded") await step.run("apply-late-success", () => deterministic(() => applyAttemptOutcome(db, event.data.attemptId, fromStored(result))));
      return { attemptId: event.data.attemptId, status: result?.status ?? "nothing-to-cancel" };
    },
  );

  // Verified, stored PSP events (webhooks, M-Pesa callbacks) are processed here, one run per stored event.
  const applyPspEvent = client.createFunction(
    { id: "apply-psp-event", retries: EXECUTE_RETRIES, triggers: [{ event: pspEventReceived }] },
    async ({ event, step }) => step.run("process-and-wake", () => processPspEventAndWake(deps.getDb(), event.data.storedEventId, deps.connectorFor)),
  );

  return [execute, cancel, applyPspEvent];
}
