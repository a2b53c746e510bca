// Stripe payout and transfer events (payout.* from a seller's connected account, with `account`; transfer.* from the
// platform): what names our payout goes into the verdict — the payout's metadata.payout_key or the transfer's
// transfer_group (our pspKey), the po_… id and the account — and the effect wakes that payout. The event is a hint:
// its body's status is never trusted; the payout execution fetches the payout from Stripe before it changes anything
// (events arrive late, repeated and out of order; a paid payout can still fail days later).
import type Stripe from "stripe";
import { z } from "zod";
import type { PspEffectOf, PspEventHandler } from "../psp-event-types";
import { stripeBaseVerdict, stripeObjectOf } from "./stripe-envelope";

/** Longest id / key we keep from an event body (ours are ~40 characters; Stripe's ids are shorter than 255). */
const REF_LENGTH_MAX = 255;

const ref = z.string().min(1).max(REF_LENGTH_MAX).nullable();
const processedVerdict = z.object({ object: z.enum(["payout", "transfer"]), payoutKey: ref, pspPayoutId: ref, account: ref });

const text = (v: unknown): string | null => (typeof v === "string" && v.length > 0 && v.length <= REF_LENGTH_MAX ? v : null);

export const stripePayoutEvents: PspEventHandler<PspEffectOf<"payout.updated">> = {
  psp: "stripe",
  eventTypes: ["payout.created", "payout.updated", "payout.paid", "payout.failed", "payout.canceled", "payout.reconciliation_completed", "transfer.created", "transfer.updated", "transfer.reversed"],
  async conclude(_db, event) {
    const verdict = stripeBaseVerdict(event);
    const { envelope, object } = stripeObjectOf(event);
    const account = text((envelope as { account?: unknown }).account);
    if (object.object === "payout") {
      const po = object as unknown as Stripe.Payout;
      Object.assign(verdict, { payoutKey: text(po.metadata?.payout_key), pspPayoutId: text(po.id), account, failureCode: text(po.failure_code) });
    } else if (object.object === "transfer") {
      const tr = object as unknown as Stripe.Transfer;
      Object.assign(verdict, { payoutKey: text(tr.transfer_group) ?? text(tr.metadata?.payout_key), pspPayoutId: null, account });
    }
    return { status: "processed", verdict };
  },
  async effects(_db, event) {
    const v = processedVerdict.safeParse(event.verdict);
    // Neither our key nor a payout id (an automatic payout, a destination charge's transfer): nothing of ours to wake.
    if (!v.success || (!v.data.payoutKey && !v.data.pspPayoutId)) return [];
    const { payoutKey, pspPayoutId, account } = v.data;
    return [{ type: "payout.updated", psp: "stripe", ...(payoutKey ? { payoutKey } : {}), ...(pspPayoutId ? { pspPayoutId } : {}), ...(account ? { account } : {}) }];
  },
};
