// The dispatcher of stored PSP events (called by the apply-psp-event job with the stored id). It picks the one
// handler for the event's PSP and type, stores the handler's conclusion, and routes each effect of a processed
// event to the domain that owns it. A new PSP event type is one handler file, one effect variant
// (psp-event-types.ts) and one line in ROUTES below (docs/architecture.md "PSP events").
//
// Idempotent: an event already processed/rejected/ignored is not concluded again (the conclusion is written only
// while it is `received`), and its effects are read back from the stored verdict, so a retried step re-applies
// the same effects (their writes are idempotent: outbox ids derived from the stored event).
import type { Db, DbOrTx } from "@/db/client";
import { wakeDispute } from "@/server/disputes/psp-effects";
import { wakePaymentAttempt } from "@/server/payments/psp-effects";
import { wakePayout } from "@/server/payouts/psp-effects";
import { createDarajaConnector, darajaConnectorOf, type ConnectorFor } from "@/server/psp";
import { wakeRefund } from "@/server/refunds/psp-effects";
import { concludePspEvent, loadPspEvent } from "./psp-event-store";
import type { Conclusion, EffectApplier, HandlerDeps, PspEffect, PspEffectOf, PspEventHandler, PspEventRow } from "./psp-event-types";
import { mpesaB2cResult } from "./psp-events/mpesa-b2c-result";
import { mpesaReversalResult } from "./psp-events/mpesa-reversal-result";
import { mpesaStatusResult } from "./psp-events/mpesa-status-result";
import { mpesaStkCallback } from "./psp-events/mpesa-stk-callback";
import { stripeDisputeEvents } from "./psp-events/stripe-dispute";
import { stripePaymentIntentEvents } from "./psp-events/stripe-payment-intent";
import { stripePayoutEvents } from "./psp-events/stripe-payout";
import { stripeRecordedEvents } from "./psp-events/stripe-recorded";
import { stripeRefundEvents } from "./psp-events/stripe-refund";

export type { Conclusion, PspEventRow } from "./psp-event-types";
export type ProcessDeps = HandlerDeps;

interface Route {
  handler: PspEventHandler;
  apply: EffectApplier<PspEffect>;
}

/** Binds a handler to the domain applier of its effect type (the compiler checks they agree). */
function route<E extends PspEffect>(handler: PspEventHandler<E>, apply: EffectApplier<E>): Route {
  return { handler, apply: apply as EffectApplier<PspEffect> };
}

const noEffects: EffectApplier<never> = async () => ({ woke: false });

/** M-Pesa status results verify STK payments (the attempt wakes) and reversals (the refund gets the outcome). */
const wakeAttemptOrRefund: EffectApplier<PspEffectOf<"payment_attempt.updated"> | PspEffectOf<"refund.updated">> = (tx, effect, source) =>
  effect.type === "refund.updated" ? wakeRefund(tx, effect, source) : wakePaymentAttempt(tx, effect, source);

const ROUTES: readonly Route[] = [
  route(stripePaymentIntentEvents, wakePaymentAttempt),
  route(stripeRefundEvents, wakeRefund),
  route(stripeDisputeEvents, wakeDispute),
  route(stripePayoutEvents, wakePayout),
  route(stripeRecordedEvents, noEffects),
  route(mpesaStkCallback, wakePaymentAttempt),
  route(mpesaStatusResult, wakeAttemptOrRefund),
  route(mpesaReversalResult, wakeRefund),
  route(mpesaB2cResult, wakePayout),
];

function routeFor(event: PspEventRow): Route | undefined {
  return ROUTES.find((r) => r.handler.psp === event.psp && r.handler.eventTypes.includes(event.eventType));
}

/** Events without a handler are kept, not acted on (reversal and status timeouts are left to the refund's / payment's own checks). */
function unhandled(event: PspEventRow): Conclusion {
  if (event.psp === "stripe") return { status: "ignored", verdict: { reason: "event type not handled" } };
  return { status: "ignored", verdict: { reason: `no processor for ${event.eventType} yet` } };
}

/** Concludes one stored event with its handler (or as unhandled); returns the stored row after. */
export async function processPspEvent(db: DbOrTx, storedEventId: string, deps: ProcessDeps = { daraja: () => createDarajaConnector(db) }): Promise<PspEventRow> {
  const event = await loadPspEvent(db, storedEventId);
  if (event.status !== "received") return event;
  const r = routeFor(event);
  const conclusion = r ? await r.handler.conclude(db, event, deps) : unhandled(event);
  await concludePspEvent(db, event.id, conclusion);
  return loadPspEvent(db, storedEventId);
}

export interface AppliedPspEvent {
  status: PspEventRow["status"];
  effects: PspEffect[];
  /** The PSP payment the (first) effect concerns. */
  pspReference?: string;
  /** Whether applying the effects enqueued work for a domain. */
  woke: boolean;
}

/** Concludes a stored event and applies the effects of a processed one, in one transaction. */
export async function processPspEventAndWake(db: Db, storedEventId: string, connectorFor?: ConnectorFor): Promise<AppliedPspEvent> {
  const row = await processPspEvent(db, storedEventId, connectorFor ? { daraja: () => darajaConnectorOf(connectorFor(db, "mpesa")) } : undefined);
  const r = routeFor(row);
  if (row.status !== "processed" || !r) return { status: row.status, effects: [], woke: false };
  const effects = await r.handler.effects(db, row);
  if (effects.length === 0) return { status: row.status, effects, woke: false };
  const woke = await db.transaction(async (tx) => {
    let any = false;
    for (const effect of effects) any = (await r.apply(tx, effect, { storedEventId })).woke || any;
    return any;
  });
  const first = effects[0]!;
  return { status: row.status, effects, pspReference: "pspReference" in first ? first.pspReference : (first.pspPayoutId ?? first.payoutKey), woke };
}
