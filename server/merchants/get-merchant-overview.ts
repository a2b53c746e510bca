import { asc, eq } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { merchants, sellers } from "@/db/schema";
import { AppError } from "@/server/errors";

export interface MerchantOverview {
  merchant: { id: string; name: string; country: string; defaultCurrency: string; createdAt: Date; timeZone: string };
  sellers: { id: string; reference: string; name: string; defaultCurrency: string }[];
}

/** The merchant's profile and sellers. Scoped by merchantId: callers pass the id resolved by middleware. */
export async function getMerchantOverview(db: DbOrTx, merchantId: string): Promise<MerchantOverview> {
  const [merchant] = await db
    .select({ id: merchants.id, name: merchants.name, country: merchants.country, defaultCurrency: merchants.defaultCurrency, createdAt: merchants.createdAt, timeZone: merchants.timeZone })
    .from(merchants)
    .where(eq(merchants.id, merchantId));
  if (!merchant) throw new AppError("not_found", "Merchant not found");
  const sellerRows = await db
    .select({ id: sellers.id, reference: sellers.reference, name: sellers.name, defaultCurrency: sellers.defaultCurrency })
    .from(sellers)
    .where(eq(sellers.merchantId, merchantId))
    .orderBy(asc(sellers.name));
  return { merchant, sellers: sellerRows };
}
