import { eq } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { merchants } from "@/db/schema";
import { AppError } from "@/server/errors";

/** The merchant's IANA time zone (Settings; checked when saved): the zone its dates are read and bucketed in. */
export async function merchantTimeZone(db: DbOrTx, merchantId: string): Promise<string> {
  const [m] = await db.select({ timeZone: merchants.timeZone }).from(merchants).where(eq(merchants.id, merchantId));
  if (!m) throw new AppError("not_found", "Merchant not found");
  return m.timeZone;
}

/** Whether this runtime can format times in `zone` (an IANA name or one of its aliases). */
export function isKnownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
