import { asc, count, eq, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { merchants, sellers } from "@/db/schema";

export const OPS_MERCHANT_LIST_LIMIT = 100;

/** Cross-merchant view for ops: merchants with their seller and member counts and fee (each opens /ops/merchants/<id>). */
export async function getPlatformOverview(db: DbOrTx) {
  const rows = await db
    .select({
      id: merchants.id,
      name: merchants.name,
      country: merchants.country,
      defaultCurrency: merchants.defaultCurrency,
      platformFeeBps: merchants.platformFeeBps,
      createdAt: merchants.createdAt,
      sellerCount: count(sellers.id),
      memberCount: sql<number>`(select count(*)::int from memberships m where m.merchant_id = ${merchants.id})`,
    })
    .from(merchants)
    .leftJoin(sellers, eq(sellers.merchantId, merchants.id))
    .groupBy(merchants.id)
    .orderBy(asc(merchants.name))
    .limit(OPS_MERCHANT_LIST_LIMIT);
  return { merchants: rows };
}
