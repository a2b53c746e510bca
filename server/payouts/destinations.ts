// A seller's payout destination: a Stripe connected account (checked at the PSP before it is saved) or an M-Pesa
// phone (stored encrypted: server/crypto/field.ts, re-encrypted on key rotation through server/keys/
// encrypted-columns.ts; only its last 3 digits are shown). Setting one disables the old one, sets
// sellers.payouts_held_until = now + 24 h (a fraud guard: no payout is created before it) and writes an audit row
// (payout_destination.set), in one transaction. Setting the destination the seller already has changes nothing;
// a connected account another merchant already uses is refused.
import { and, eq, isNull, ne } from "drizzle-orm";
import type { Db, DbOrTx } from "@/db/client";
import { payoutDestinations, sellers } from "@/db/schema";
import { recordAudit } from "@/server/audit/record-audit";
import { decryptField, encryptField } from "@/server/crypto/field";
import { AppError } from "@/server/errors";
import type { ConnectorFor } from "@/server/psp";
import { PspError } from "@/server/psp/errors";
import type { PayoutDestination } from "./types";

export type DestinationInput = { psp: "stripe"; stripeAccountId: string } | { psp: "mpesa"; phone: string };

/** Payouts wait this long after a destination change. */
export const DESTINATION_CHANGE_HOLD_MS = 24 * 60 * 60 * 1000;

const STRIPE_ACCOUNT = /^acct_[0-9A-Za-z]{1,58}$/;

const invalid = (path: string, message: string) => new AppError("validation_failed", `Invalid input: ${path}: ${message}`, { details: { fields: [{ path, message }] } });

/** 2547XXXXXXXX / 2541XXXXXXXX (Daraja's MSISDN form) from 07…, 01…, +2547…, 2547…; else a 400. */
export function normalizeMpesaPhone(phone: string): string {
  const p = phone.trim().replace(/^\+/, "");
  const m = /^(?:254|0)([17][0-9]{8})$/.exec(p);
  if (!m) throw invalid("destination.phone", "not a Kenyan mobile number such as 254708374149");
  return `254${m[1]}`;
}

/** The account exists at Stripe (a connected account of the platform); a 400 if Stripe has no such account. */
async function checkStripeAccount(db: Db, connectorFor: ConnectorFor, accountId: string): Promise<void> {
  if (!STRIPE_ACCOUNT.test(accountId)) throw invalid("destination.stripeAccountId", "not a Stripe account id such as acct_1A2B3C");
  const connect = connectorFor(db, "stripe").connect;
  if (!connect) throw new AppError("internal", "The Stripe connector has no Connect operations");
  try {
    await connect.getAccount({ accountId });
  } catch (e) {
    if (e instanceof PspError && !e.retryable) throw invalid("destination.stripeAccountId", "Stripe has no such connected account");
    throw e;
  }
}

export async function setPayoutDestination(
  db: Db,
  connectorFor: ConnectorFor,
  input: { merchantId: string; sellerId: string; destination: DestinationInput; userId: string | null },
): Promise<{ id: string; heldUntil: Date }> {
  const d = input.destination;
  // Validate the input fully (and ask the PSP) before any write.
  const phone = d.psp === "mpesa" ? normalizeMpesaPhone(d.phone) : null;
  const account = d.psp === "stripe" ? d.stripeAccountId.trim() : null;
  // The seller must be this merchant's before we call the PSP on its behalf.
  const [owned] = await db
    .select({ id: sellers.id })
    .from(sellers)
    .where(and(eq(sellers.merchantId, input.merchantId), eq(sellers.id, input.sellerId)));
  if (!owned) throw new AppError("not_found", "Seller not found");
  if (account !== null) await checkStripeAccount(db, connectorFor, account);

  return db.transaction(async (tx) => {
    const [seller] = await tx
      .select()
      .from(sellers)
      .where(and(eq(sellers.merchantId, input.merchantId), eq(sellers.id, input.sellerId)))
      .for("update");
    if (!seller) throw new AppError("not_found", "Seller not found");
    if (account !== null) {
      // Every connected account is the platform's at Stripe: one another merchant has named for its sellers is
      // that merchant's, and paying this merchant's sellers into it would send their money to a stranger.
      const [taken] = await tx
        .select({ id: payoutDestinations.id })
        .from(payoutDestinations)
        .where(and(eq(payoutDestinations.stripeAccountId, account), ne(payoutDestinations.merchantId, input.merchantId)))
        .limit(1);
      if (taken) throw invalid("destination.stripeAccountId", "this connected account belongs to another merchant on the platform");
    }
    const [current] = await tx
      .select()
      .from(payoutDestinations)
      .where(and(eq(payoutDestinations.sellerId, seller.id), isNull(payoutDestinations.disabledAt)));
    const same = current && current.psp === d.psp && (account !== null ? current.stripeAccountId === account : current.phoneEncrypted !== null && decryptField(current.phoneEncrypted) === phone);
    if (current && same) return { id: current.id, heldUntil: seller.payoutsHeldUntil ?? current.createdAt };

    const now = new Date();
    const heldUntil = new Date(now.getTime() + DESTINATION_CHANGE_HOLD_MS);
    if (current) await tx.update(payoutDestinations).set({ disabledAt: now }).where(eq(payoutDestinations.id, current.id));
    const [created] = await tx
      .insert(payoutDestinations)
      .values({
        merchantId: input.merchantId,
        sellerId: seller.id,
        psp: d.psp,
        stripeAccountId: account,
        phoneEncrypted: phone === null ? null : encryptField(phone),
        phoneLast3: phone === null ? null : phone.slice(-3),
        createdByUserId: input.userId,
      })
      .returning({ id: payoutDestinations.id });
    // Never shorten a hold already running (two changes in a row: 24 h from the last).
    const keep = seller.payoutsHeldUntil && seller.payoutsHeldUntil > heldUntil ? seller.payoutsHeldUntil : heldUntil;
    await tx.update(sellers).set({ payoutsHeldUntil: keep, updatedAt: now }).where(eq(sellers.id, seller.id));
    const describe = (x: { psp: string; stripeAccountId: string | null; phoneLast3: string | null } | undefined) =>
      x ? (x.psp === "stripe" ? `stripe:${x.stripeAccountId}` : `mpesa:***${x.phoneLast3}`) : null;
    await recordAudit(tx, {
      actor: input.userId,
      merchantId: input.merchantId,
      action: "payout_destination.set",
      target: { type: "seller", id: seller.id },
      before: { destination: describe(current) },
      after: { destination: describe({ psp: d.psp, stripeAccountId: account, phoneLast3: phone?.slice(-3) ?? null }) },
      data: { destinationId: created!.id, previousDestinationId: current?.id ?? null, payoutsHeldUntil: keep.toISOString() },
    });
    return { id: created!.id, heldUntil: keep };
  });
}

/** The destination a payout names, decrypted for execution. */
export async function loadPayoutDestination(db: DbOrTx, destinationId: string): Promise<PayoutDestination> {
  const [d] = await db.select().from(payoutDestinations).where(eq(payoutDestinations.id, destinationId));
  if (!d) throw new AppError("not_found", `Payout destination ${destinationId} not found`);
  if (d.psp === "stripe") {
    if (!d.stripeAccountId) throw new AppError("internal", `Payout destination ${d.id} has no account`);
    return { id: d.id, sellerId: d.sellerId, psp: "stripe", stripeAccountId: d.stripeAccountId };
  }
  if (!d.phoneEncrypted) throw new AppError("internal", `Payout destination ${d.id} has no phone`);
  return { id: d.id, sellerId: d.sellerId, psp: "mpesa", phone: decryptField(d.phoneEncrypted) };
}
