// The shared vocabulary of inbound PSP events (a leaf: it imports only types). A stored, verified PSP event is
// concluded by the one handler for its PSP and event type (server/webhooks/psp-events/*), which also reads a
// processed event's typed effects back from its stored verdict. The dispatcher (process-psp-event.ts) routes
// each effect to the domain that owns it. Data flow: docs/architecture.md "PSP events".
import type { DbOrTx, Tx } from "@/db/client";
import type { pspEvents } from "@/db/schema";
import type { PspName } from "@/server/psp/types";
import type { DarajaConnector } from "@/server/psp/daraja/connector";

export type PspEventRow = typeof pspEvents.$inferSelect;

export type Conclusion =
  | { status: "processed" | "rejected" | "ignored"; verdict: Record<string, unknown> }
  /** Still waiting (e.g. for Daraja's transaction-status answer); verdict records the progress. */
  | { status: "received"; verdict: Record<string, unknown> };

/**
 * What a processed PSP event means for our own objects: one variant per kind of PSP object. A domain applies
 * its variant through its entity's state machine; the outcome of a payment itself is always fetched from the
 * PSP by the payment's execution (the event is a hint that wakes it).
 */
export type PspEffect =
  | {
      type: "payment_attempt.updated";
      psp: PspName;
      /** The PSP's payment: Stripe PaymentIntent id, Daraja CheckoutRequestID. */
      pspReference: string;
      /** M-Pesa's receipt, once Daraja's transaction status confirmed it. */
      receipt?: string;
    }
  | {
      /** A refund changed at the PSP. Stripe: a hint (the refund is fetched). M-Pesa: a verified reversal result. */
      type: "refund.updated";
      psp: PspName;
      /** re_… (Stripe); for M-Pesa the reversal's OriginatorConversationID (our refund's idempotency key). */
      pspRefundId: string;
      /** The refunded payment (PaymentIntent / receipt), for logs and the dispatcher's result. */
      pspReference: string;
      /** M-Pesa only: the verified outcome (Stripe's is always fetched). */
      outcome?: { status: "succeeded" | "failed"; code: string; message: string; conversationId?: string };
    }
  | {
      /** A dispute was created or changed at the PSP (a hint: the dispute is fetched). */
      type: "dispute.updated";
      psp: PspName;
      /** dp_… */
      pspDisputeId: string;
      /** The disputed PaymentIntent. */
      pspReference: string;
    }
  | {
      /**
       * A payout changed at the PSP. Stripe (payout.*, transfer.* events): a hint naming the payout (po_… with the
       * connected account) or the transfer group (our pspKey); the payout is fetched. M-Pesa: a verified B2C Result
       * (or Transaction Status answer) with its outcome.
       */
      type: "payout.updated";
      psp: PspName;
      /** Our payout's pspKey when the PSP object names it (transfer_group, metadata.payout_key, OriginatorConversationID). */
      payoutKey?: string;
      /** Stripe po_… / Daraja ConversationID. */
      pspPayoutId?: string;
      /** Stripe: the connected account the event came from. */
      account?: string;
      /** M-Pesa only: the verified outcome. `unknown_transaction`: Transaction Status says Daraja has no such payment. */
      outcome?: { status: "paid" | "failed" | "unknown_transaction"; code: string; message: string; receipt?: string; amount?: string; completedAt?: string; askedAt?: string };
    };

export type PspEffectType = PspEffect["type"];
export type PspEffectOf<T extends PspEffectType> = Extract<PspEffect, { type: T }>;

/** What a handler may use to verify an event: the PSPs it asks (lazily: most events need none). */
export interface HandlerDeps {
  daraja: () => DarajaConnector;
}

export interface PspEventHandler<E extends PspEffect = PspEffect> {
  psp: PspName;
  /** The PSP's event types this handler concludes. */
  eventTypes: readonly string[];
  /** Verifies a stored event (may ask the PSP) and says what it is; the dispatcher stores the conclusion. */
  conclude(db: DbOrTx, event: PspEventRow, deps: HandlerDeps): Promise<Conclusion>;
  /** The effects of a processed event, read from its stored verdict (a retried step derives the same ones). */
  effects(db: DbOrTx, event: PspEventRow): Promise<E[]>;
}

/** What applying an effect did: `woke` when it enqueued work for the domain (a run to wake or start). */
export interface EffectResult {
  woke: boolean;
}

export type EffectApplier<E extends PspEffect> = (tx: Tx, effect: E, source: { storedEventId: string }) => Promise<EffectResult>;
