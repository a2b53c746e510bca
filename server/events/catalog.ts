import { z } from "zod";

// The event catalog: the one source of event names and payload schemas. It imports zod only, so domain code
// (server/) can name and validate events without the Inngest SDK; inngest/events.ts builds the SDK's event
// types (function triggers, `step.waitForEvent`, `.create`) from these same definitions. Every event the app
// enqueues (server/outbox), sends or triggers on is here; the outbox refuses any other name.

/** One event: its name and the zod schema of its `data` (no transforms: the SDK refuses them). */
export interface EventDefinition<TName extends string = string, TSchema extends z.ZodObject = z.ZodObject> {
  readonly name: TName;
  readonly schema: TSchema;
}

export function defineEvent<const TName extends string, TSchema extends z.ZodObject>(name: TName, schema: TSchema): EventDefinition<TName, TSchema> {
  return Object.freeze({ name, schema });
}

// Pay-in.

/** Resolve and apply the PSP outcome of one payment attempt (card confirmed, or STK push to send). */
export const paymentAttemptExecute = defineEvent("payment/attempt.execute", z.object({ attemptId: z.string().min(1) }));

/** Cancel a superseded attempt's PaymentIntent at the PSP so a stale tab cannot confirm it. */
export const paymentAttemptCancel = defineEvent("payment/attempt.cancel", z.object({ attemptId: z.string().min(1) }));

/** A PSP told us something changed for one of its payments (a hint: the outcome is always fetched). */
export const pspPaymentUpdated = defineEvent("payment/psp.updated", z.object({ psp: z.enum(["stripe", "mpesa"]), pspReference: z.string().min(1) }));

/** A verified PSP event (webhook, M-Pesa callback) was stored: process it (apply-psp-event). */
export const pspEventReceived = defineEvent(
  "psp/event.received",
  z.object({ psp: z.enum(["stripe", "mpesa"]), pspEventId: z.string().min(1), storedEventId: z.string().min(1) }),
);

// Refunds and disputes.

/** Send a created refund to its PSP and follow it to an outcome (inngest/functions/refunds.ts). */
export const refundExecute = defineEvent("refund/execute", z.object({ refundId: z.string().min(1) }));

/** A PSP told us a refund changed: fetch it and apply it (a hint; also wakes an execution waiting for it). */
export const refundPspUpdated = defineEvent("refund/psp.updated", z.object({ refundId: z.string().min(1) }));

/** A PSP told us a dispute was created or changed: fetch it and apply it (inngest/functions/disputes.ts). */
export const disputePspUpdated = defineEvent("dispute/psp.updated", z.object({ psp: z.enum(["stripe", "mpesa"]), pspDisputeId: z.string().min(1) }));

// Payouts.

/** Send a created payout to its PSP and follow it to paid or failed (inngest/functions/payouts.ts). */
export const payoutExecute = defineEvent("payout/execute", z.object({ payoutId: z.string().min(1) }));

/** A PSP told us a payout changed (webhook, B2C Result): fetch / apply it, and wake an execution waiting for it. */
export const payoutPspUpdated = defineEvent("payout/psp.updated", z.object({ payoutId: z.string().min(1) }));

/** Create the payouts that are due now (a cron also runs it; server/payouts/build.ts). */
export const payoutsScheduleRequested = defineEvent("payouts/schedule.requested", z.object({ requestedBy: z.string().min(1).nullable() }));

// Platform.

/** A liveness probe through the whole async path (inngest/functions/ping.ts). */
export const platformPing = defineEvent("platform/ping", z.object({ message: z.string().max(200) }));

// Merchant webhooks out.

/** A merchant_events row committed: fan it out to the merchant's enabled endpoints. */
export const merchantEventCreated = defineEvent("merchant/event.created", z.object({ eventId: z.string().min(1) }));

/** POST one webhook_deliveries row to its endpoint (first try, or a resend from the dashboard). */
export const merchantWebhookDeliver = defineEvent("merchant/webhook.deliver", z.object({ deliveryId: z.string().min(1) }));

// Keys.

/** Re-encrypt stored values under the active field-encryption key (an ops request; a cron also runs it). */
export const keysReencryptRequested = defineEvent("keys/reencrypt.requested", z.object({ requestedBy: z.string().min(1).nullable() }));

// Ops.

/** Run the exceptions janitor now (server/exceptions/janitor.ts; a cron also runs it every 5 minutes). */
export const exceptionsSweepRequested = defineEvent("ops/exceptions.sweep-requested", z.object({ requestedBy: z.string().min(1).nullable() }));

// Reconciliation.

/** Run the reconciliation now (import the new Stripe API window, match, invariants); a cron also runs it hourly. */
export const reconciliationRunRequested = defineEvent("reconciliation/run.requested", z.object({ requestedBy: z.string().min(1).nullable() }));

export const EVENT_CATALOG = {
  [paymentAttemptExecute.name]: paymentAttemptExecute,
  [paymentAttemptCancel.name]: paymentAttemptCancel,
  [pspPaymentUpdated.name]: pspPaymentUpdated,
  [pspEventReceived.name]: pspEventReceived,
  [refundExecute.name]: refundExecute,
  [refundPspUpdated.name]: refundPspUpdated,
  [disputePspUpdated.name]: disputePspUpdated,
  [payoutExecute.name]: payoutExecute,
  [payoutPspUpdated.name]: payoutPspUpdated,
  [payoutsScheduleRequested.name]: payoutsScheduleRequested,
  [platformPing.name]: platformPing,
  [merchantEventCreated.name]: merchantEventCreated,
  [merchantWebhookDeliver.name]: merchantWebhookDeliver,
  [keysReencryptRequested.name]: keysReencryptRequested,
  [exceptionsSweepRequested.name]: exceptionsSweepRequested,
  [reconciliationRunRequested.name]: reconciliationRunRequested,
} as const;

type Catalog = typeof EVENT_CATALOG;
export type CatalogEventName = keyof Catalog;
/** The catalog's definition of one event (all of them by default). */
export type CatalogEvent<N extends CatalogEventName = CatalogEventName> = Catalog[N];

type DefinitionOf<E extends CatalogEventName | EventDefinition> = E extends CatalogEventName ? Catalog[E] : E;
/** An event's payload, by name or definition: `EventData<"payment/attempt.execute">`, `EventData<typeof paymentAttemptExecute>`. */
export type EventData<E extends CatalogEventName | EventDefinition> = z.output<DefinitionOf<E>["schema"]>;
/** What a sender passes (before validation; the same as EventData, since schemas have no transforms). */
export type EventInput<E extends CatalogEventName | EventDefinition> = z.input<DefinitionOf<E>["schema"]>;

export class UnknownEventError extends Error {
  constructor(readonly eventName: string) {
    super(`Unknown event ${JSON.stringify(eventName)}: add it to server/events/catalog.ts`);
    this.name = "UnknownEventError";
  }
}

export function isCatalogEventName(name: string): name is CatalogEventName {
  return Object.hasOwn(EVENT_CATALOG, name);
}

/** The catalog's definition of `name`; throws UnknownEventError for any other name. */
export function catalogEvent<N extends CatalogEventName>(name: N): CatalogEvent<N>;
export function catalogEvent(name: string): CatalogEvent;
export function catalogEvent(name: string): CatalogEvent {
  if (!isCatalogEventName(name)) throw new UnknownEventError(name);
  return EVENT_CATALOG[name];
}

/** Validates a payload against its catalog schema (a ZodError if it does not match); unknown names are refused (typos never ship). */
export function parseCatalogEvent<N extends CatalogEventName>(name: N, data: unknown): EventData<N>;
export function parseCatalogEvent(name: string, data: unknown): Record<string, unknown>;
export function parseCatalogEvent(name: string, data: unknown): Record<string, unknown> {
  return catalogEvent(name).schema.parse(data);
}
