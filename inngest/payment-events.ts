import { eventType } from "inngest";
import { z } from "zod";

// Pay-in events (merged into the catalog in inngest/events.ts).

/** Resolve and apply the PSP outcome of one payment attempt (card confirmed, or STK push to send). */
export const paymentAttemptExecute = eventType("payment/attempt.execute", {
  schema: z.object({ attemptId: z.string().min(1) }),
});

/** Cancel a superseded attempt's PaymentIntent at the PSP so a stale tab cannot confirm it. */
export const paymentAttemptCancel = eventType("payment/attempt.cancel", {
  schema: z.object({ attemptId: z.string().min(1) }),
});

/** A PSP told us something changed for one of its payments (a hint: the outcome is always fetched). */
export const pspPaymentUpdated = eventType("payment/psp.updated", {
  schema: z.object({ psp: z.enum(["stripe", "mpesa"]), pspReference: z.string().min(1) }),
});
