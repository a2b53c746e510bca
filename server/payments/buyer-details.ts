import { and, asc, eq, isNotNull } from "drizzle-orm";
import type { Db } from "@/db/client";
import { checkouts, paymentAttempts } from "@/db/schema";
import { recordAudit } from "@/server/audit/record-audit";
import { decryptField, decryptJson } from "@/server/crypto/field";
import { AppError } from "@/server/errors";

// The one read of a checkout's buyer personal data in clear (email, name, phone, IP, country, and the M-Pesa
// numbers its attempts used) for ops and merchant staff, and it is audited: a buyer_data.viewed row naming the
// user and the checkout commits in the same transaction as the read, before anything is returned. A read that
// cannot be audited fails (fail closed): the data is never shown unrecorded. Lists and queues show no buyer
// data (at most masked hints), so they write no audit rows (docs/security.md "Reads of buyer data").

export interface BuyerDetails {
  checkoutId: string;
  email: string;
  name: string | null;
  phone: string | null;
  ip: string | null;
  country: string | null;
  /** Phones the checkout's M-Pesa attempts were sent to, oldest first. */
  mpesaPhones: string[];
}

/**
 * `merchantId`: the caller's merchant (dashboard), and another merchant's checkout is not_found (nothing
 * audited); null for ops, who may read any merchant's checkout.
 */
export async function readBuyerDetails(db: Db, opts: { checkoutId: string; actorUserId: string; merchantId: string | null; via: "ops" | "dashboard" }): Promise<BuyerDetails> {
  return db.transaction(async (tx) => {
    const scope = opts.merchantId === null ? eq(checkouts.id, opts.checkoutId) : and(eq(checkouts.id, opts.checkoutId), eq(checkouts.merchantId, opts.merchantId));
    const [c] = await tx.select({ id: checkouts.id, merchantId: checkouts.merchantId, buyer: checkouts.buyerInfoEncrypted, ip: checkouts.buyerIp, country: checkouts.buyerCountry }).from(checkouts).where(scope);
    if (!c) throw new AppError("not_found", "Checkout not found");
    const buyer = decryptJson<{ email: string; name?: string; phone?: string; ip?: string; country?: string }>(c.buyer);
    const attempts = await tx
      .select({ phone: paymentAttempts.phoneEncrypted })
      .from(paymentAttempts)
      .where(and(eq(paymentAttempts.checkoutId, c.id), isNotNull(paymentAttempts.phoneEncrypted)))
      .orderBy(asc(paymentAttempts.attemptNo));
    const details: BuyerDetails = {
      checkoutId: c.id,
      email: buyer.email,
      name: buyer.name ?? null,
      phone: buyer.phone ?? null,
      ip: buyer.ip ?? c.ip ?? null,
      country: buyer.country ?? c.country ?? null,
      mpesaPhones: [...new Set(attempts.map((a) => decryptField(a.phone!)))],
    };
    await recordAudit(tx, {
      actor: opts.actorUserId,
      merchantId: c.merchantId,
      action: "buyer_data.viewed",
      target: { type: "checkout", id: c.id },
      data: { via: opts.via, fields: Object.entries(details).filter(([k, v]) => k !== "checkoutId" && v !== null && !(Array.isArray(v) && v.length === 0)).map(([k]) => k) },
    });
    return details;
  });
}
