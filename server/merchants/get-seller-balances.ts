import { asc, eq } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { sellers } from "@/db/schema";
import { formatMoney, isCurrencyCode } from "@/server/money";
import { getWallet } from "@/server/wallet";

export interface SellerBalance {
  sellerId: string;
  sellerName: string;
  reference: string;
  currency: string;
  pending: string;
  available: string;
  onHold: string;
}

/** Each seller's wallet in its default currency, derived from the ledger (never stored apart from it). */
export async function getSellerBalances(db: DbOrTx, merchantId: string): Promise<SellerBalance[]> {
  const rows = await db.select().from(sellers).where(eq(sellers.merchantId, merchantId)).orderBy(asc(sellers.name));
  const out: SellerBalance[] = [];
  for (const s of rows) {
    if (!isCurrencyCode(s.defaultCurrency)) continue;
    const w = await getWallet(db, s.id, s.defaultCurrency);
    out.push({ sellerId: s.id, sellerName: s.name, reference: s.reference, currency: s.defaultCurrency, pending: formatMoney(w.pending), available: formatMoney(w.available), onHold: formatMoney(w.onHold) });
  }
  return out;
}
