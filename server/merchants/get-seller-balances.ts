import { sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { owedFromSigned } from "./overview-stats";

export interface SellerBalance {
  sellerId: string;
  sellerName: string;
  reference: string;
  currency: string;
  /** Minor units (decimal digits), in the account's normal direction: what we owe the seller. */
  pendingMinor: string;
  availableMinor: string;
  onHoldMinor: string;
}

/**
 * Each seller's wallet in every currency it has ledger accounts in (its default currency, with zeros, when it has
 * none yet), derived from the ledger's balance rows in one statement (one snapshot), never stored apart from it.
 * Sorted by seller name, then currency.
 */
export async function getSellerBalances(db: DbOrTx, merchantId: string): Promise<SellerBalance[]> {
  const rows = (await db.execute(sql`
    select s.id as seller_id, s.name as seller_name, s.reference, coalesce(a.currency, s.default_currency) as currency, a.kind,
      coalesce(sum(b.balance), 0)::text as signed
    from sellers s
    left join ledger_accounts a on a.seller_id = s.id
      and a.kind in ('seller_payable_pending', 'seller_payable_available', 'seller_payable_on_hold')
    left join ledger_balances b on b.account_id = a.id
    where s.merchant_id = ${merchantId}
    group by s.id, s.name, s.reference, coalesce(a.currency, s.default_currency), a.kind
    order by s.name, s.id, 4`)) as unknown as Array<{ seller_id: string; seller_name: string; reference: string; currency: string; kind: string | null; signed: string }>;
  const out = new Map<string, SellerBalance>();
  for (const r of rows) {
    const key = `${r.seller_id}|${r.currency}`;
    const b = out.get(key) ?? { sellerId: r.seller_id, sellerName: r.seller_name, reference: r.reference, currency: r.currency, pendingMinor: "0", availableMinor: "0", onHoldMinor: "0" };
    const owed = owedFromSigned(r.signed);
    if (r.kind === "seller_payable_pending") b.pendingMinor = owed;
    else if (r.kind === "seller_payable_available") b.availableMinor = owed;
    else if (r.kind === "seller_payable_on_hold") b.onHoldMinor = owed;
    out.set(key, b);
  }
  return [...out.values()];
}
