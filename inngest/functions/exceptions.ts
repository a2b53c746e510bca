import type { Inngest } from "inngest";
import type { Db } from "@/db/client";
import type { OpsExceptionRetryEvent } from "@/db/schema";
import { autoResolveExceptions, classifyRunFailure, EXCEPTION_DETECTORS, recordException, retryEventFrom, runDetector, type RecordExceptionInput } from "@/server/exceptions";
import { exceptionsSweepRequested } from "../events";

// The app owns its exceptions (docs/architecture.md "Exceptions"): a payment, PSP-event, webhook or job run that
// ends without its business outcome records an ops_exceptions row, on any engine (Inngest Cloud, self-hosted
// `inngest start`, the local engine), from what every Inngest server sends:
//  - `inngest/function.failed` → the function's onFailure handler (recordRunFailure below);
//  - `inngest/function.cancelled` → record-cancelled-runs (Inngest's pkg/consts FnCancelledName);
// and the exceptions janitor finds what is stuck past its deadline with no engine involved at all.
// An onFailure handler is its own function `<id>-failure` that the SDK registers with `retries: { attempts: 1 }`
// whatever the parent's retries (SDK 4.24 InngestFunction.getConfig): it is not inherited; recording is idempotent.

export const JANITOR_CRON = "*/5 * * * *";
export const JANITOR_RETRIES = 2;
export const CANCELLED_RECORDER_RETRIES = 3;

/** What a failed or cancelled run was about, from its triggering event. */
export interface FailureSubject {
  kind: RecordExceptionInput["kind"];
  subjectType: RecordExceptionInput["subjectType"];
  subjectId: string;
  /** The event "retry" re-emits when re-running can help (dropped for failures no rerun changes: run-failure.ts). */
  retryEvent: OpsExceptionRetryEvent | null;
}

interface OriginalEvent {
  name?: unknown;
  data?: Record<string, unknown>;
}

const idIn = (e: OriginalEvent, key: string): string | null => {
  const v = e.data?.[key];
  return typeof v === "string" && v ? v : null;
};

type SubjectOf = (e: OriginalEvent) => FailureSubject | null;

const bySubject =
  (kind: FailureSubject["kind"], subjectType: FailureSubject["subjectType"], key: string): SubjectOf =>
  (e) => {
    const subjectId = idIn(e, key);
    return subjectId ? { kind, subjectType, subjectId, retryEvent: retryEventFrom(e) } : null;
  };

/** Per function id (without the app prefix): the subject of its runs. */
export const FAILURE_SUBJECTS = {
  "execute-payment-attempt": bySubject("payment_attempt", "payment_attempt", "attemptId"),
  "cancel-payment-attempt": bySubject("payment_cancel", "payment_cancel", "attemptId"),
  "apply-psp-event": bySubject("psp_event", "psp_event", "storedEventId"),
  "fan-out-merchant-event": bySubject("merchant_webhook", "merchant_event", "eventId"),
  "deliver-merchant-webhook": bySubject("merchant_webhook", "webhook_delivery", "deliveryId"),
  "execute-refund": bySubject("refund", "refund", "refundId"),
  "sync-refund": bySubject("refund", "refund", "refundId"),
  "sync-dispute": bySubject("psp_event", "psp_dispute", "pspDisputeId"),
  "execute-payout": bySubject("payout", "payout", "payoutId"),
  "sync-payout": bySubject("payout", "payout", "payoutId"),
  "payouts-janitor": () => ({ kind: "payout", subjectType: "function", subjectId: "payouts-janitor", retryEvent: null }),
  "create-due-payouts": () => ({ kind: "payout", subjectType: "function", subjectId: "create-due-payouts", retryEvent: { name: "payouts/schedule.requested", data: { requestedBy: null } } }),
  "settle-orders": () => ({ kind: "job", subjectType: "function", subjectId: "settle-orders", retryEvent: null }),
  "dispute-reminders": () => ({ kind: "job", subjectType: "function", subjectId: "dispute-reminders", retryEvent: null }),
  // A cron run has no event to re-emit; the next hourly run is the retry.
  housekeeping: () => ({ kind: "job", subjectType: "function", subjectId: "housekeeping", retryEvent: null }),
  // A failed reconciliation is re-run by asking for one (the hourly cron would also run it).
  reconcile: (e) => ({ kind: "job", subjectType: "function", subjectId: "reconcile", retryEvent: { name: "reconciliation/run.requested", data: { requestedBy: idIn(e, "requestedBy") } } }),
  "reencrypt-fields": (e) => ({
    kind: "job",
    subjectType: "function",
    subjectId: "reencrypt-fields",
    retryEvent: { name: "keys/reencrypt.requested", data: { requestedBy: idIn(e, "requestedBy") } },
  }),
} satisfies Record<string, SubjectOf>;

export type ExceptionFunctionId = keyof typeof FAILURE_SUBJECTS;

/** The functions whose cancelled runs record a `cancelled` exception (payments and webhooks: a job cancelled by ops is their call). */
export const CANCELLATION_WATCHED: readonly ExceptionFunctionId[] = ["execute-payment-attempt", "cancel-payment-attempt", "apply-psp-event", "fan-out-merchant-event", "deliver-merchant-webhook", "execute-refund"];

/** `inngest/function.failed` / `.cancelled` data, as Inngest's executor (finalize.go) and the local engine send it. */
export interface LifecycleEventData {
  function_id?: unknown;
  run_id?: unknown;
  event?: unknown;
  error?: unknown;
}

const text = (v: unknown): string | null => (typeof v === "string" && v ? v : null);

function subjectFor(fnId: ExceptionFunctionId, data: LifecycleEventData): FailureSubject {
  const original = (data.event && typeof data.event === "object" ? data.event : {}) as OriginalEvent;
  // An event without its id (it cannot pass the catalog schema, but a hand-sent one might): the function is the subject.
  return FAILURE_SUBJECTS[fnId](original) ?? { kind: "job", subjectType: "function", subjectId: fnId, retryEvent: null };
}

/** Records the exception of a failed run (an onFailure handler's body). */
export async function recordRunFailure(db: Db, fnId: ExceptionFunctionId, args: { event: { data: LifecycleEventData }; error?: unknown }) {
  const data = args.event.data;
  const subject = subjectFor(fnId, data);
  const failure = classifyRunFailure(args.error ?? data.error);
  return recordException(db, {
    ...subject,
    reason: failure.reason,
    code: failure.code,
    message: failure.message,
    functionId: text(data.function_id) ?? fnId,
    runId: text(data.run_id),
    retryEvent: failure.retryCanHelp ? subject.retryEvent : null,
  });
}

/** An onFailure handler for function `fnId`: records the run's exception. */
export function recordFailure(getDb: () => Db, fnId: ExceptionFunctionId) {
  return async (args: { event: { data: LifecycleEventData }; error?: unknown }) => {
    await recordRunFailure(getDb(), fnId, args);
  };
}

export function createExceptionFunctions(client: Inngest, deps: { getDb: () => Db }) {
  const fullId = (id: string) => `${client.id}-${id}`;
  const watched = new Map(CANCELLATION_WATCHED.map((id) => [fullId(id), id]));

  const recordCancelled = client.createFunction(
    {
      id: "record-cancelled-runs",
      retries: CANCELLED_RECORDER_RETRIES,
      triggers: [{ event: "inngest/function.cancelled", if: [...watched.keys()].map((id) => `event.data.function_id == '${id}'`).join(" || ") }],
    },
    async ({ event, step }) => {
      const data = event.data as LifecycleEventData;
      const fnId = watched.get(String(data.function_id));
      if (!fnId) return { recorded: false };
      return step.run("record", async () => {
        const subject = subjectFor(fnId, data);
        const runId = text(data.run_id);
        const r = await recordException(deps.getDb(), {
          ...subject,
          reason: "cancelled",
          code: null,
          message: `Run ${runId ?? "(unknown)"} of ${String(data.function_id)} was cancelled before it concluded.`,
          functionId: String(data.function_id),
          runId,
        });
        return { recorded: true, exceptionId: r.id };
      });
    },
  );

  const janitor = client.createFunction(
    { id: "exceptions-janitor", retries: JANITOR_RETRIES, singleton: { mode: "skip" }, triggers: [{ cron: JANITOR_CRON }, { event: exceptionsSweepRequested }] },
    async ({ step }) => {
      const resolved = await step.run("auto-resolve", () => autoResolveExceptions(deps.getDb()));
      const recorded: Record<string, number> = {};
      for (const d of EXCEPTION_DETECTORS) recorded[d.name] = await step.run(`detect-${d.name}`, () => runDetector(deps.getDb(), d));
      return { resolved, recorded };
    },
  );

  return [recordCancelled, janitor];
}
