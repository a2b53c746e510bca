// Builders shared by the ledger and wallet integration tests (real rows, no mocks).
import { randomBytes } from "node:crypto";
import type { Db } from "@/db/client";
import { merchants, sellers } from "@/db/schema";
import { money, type CurrencyCode } from "@/server/money";
import { accountFor } from "./accounts";
import type { PostTransactionInput } from "./validate";

export async function createMerchantWithSellers(db: Db, sellerCount = 2): Promise<{ merchantId: string; sellerIds: string[] }> {
  const tag = randomBytes(4).toString("hex");
  const [m] = await db.insert(merchants).values({ name: `Ledger test ${tag}`, country: "KE", defaultCurrency: "KES" }).returning();
  const rows = await db
    .insert(sellers)
    .values(Array.from({ length: sellerCount }, (_, i) => ({ merchantId: m!.id, reference: `s${i}-${tag}`, name: `Seller ${i}`, defaultCurrency: "KES" })))
    .returning();
  return { merchantId: m!.id, sellerIds: rows.map((r) => r.id) };
}

/** A successful payment order: debit PSP clearing, credit the seller's pending balance and the platform fee. */
export function paymentPosting(opts: { sourceId: string; sellerId: string; gross: bigint; fee: bigint; currency?: CurrencyCode; psp?: string }): PostTransactionInput {
  const currency = opts.currency ?? "KES";
  const lines: PostTransactionInput["lines"] = [
    { account: accountFor.pspClearing(opts.psp ?? "stripe", currency), side: "debit", amount: money(opts.gross, currency) },
    { account: accountFor.sellerPending(opts.sellerId, currency), side: "credit", amount: money(opts.gross - opts.fee, currency) },
  ];
  if (opts.fee > 0n) return { source: "payment_order", sourceId: opts.sourceId, description: "Payment order succeeded", lines: [...lines, { account: accountFor.platform("platform_fees", currency), side: "credit", amount: money(opts.fee, currency) }] };
  return { source: "payment_order", sourceId: opts.sourceId, description: "Payment order succeeded", lines };
}

/** Settlement: the PSP settled, so the seller's pending balance becomes available. */
export function settlementPosting(opts: { sourceId: string; sellerId: string; amount: bigint; currency?: CurrencyCode }): PostTransactionInput {
  const currency = opts.currency ?? "KES";
  return {
    source: "settlement",
    sourceId: opts.sourceId,
    description: "Settled by PSP",
    lines: [
      { account: accountFor.sellerPending(opts.sellerId, currency), side: "debit", amount: money(opts.amount, currency) },
      { account: accountFor.sellerAvailable(opts.sellerId, currency), side: "credit", amount: money(opts.amount, currency) },
    ],
  };
}
