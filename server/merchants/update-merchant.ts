import { eq, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { merchantLogos, merchants } from "@/db/schema";
import { recordAudit } from "@/server/audit/record-audit";
import { AppError } from "@/server/errors";
import type { TUpdateMerchantInputSchema } from "./update-merchant.schema";

// Settings: business name, time zone and the checkout's branding (display name, logo URL, accent colour,
// support email) and the refund policies (refund fee kept or returned, negative seller balances allowed or
// refused: server/refunds/create-refund.ts reads them). Only the fields sent change; the change and its audit
// row (merchant.settings_updated, with exactly the fields that changed, from and to) commit in one transaction. Sending the values a merchant already
// has changes nothing and writes no audit row.

export const SETTINGS_FIELDS = ["name", "timeZone", "displayName", "logoUrl", "accentColor", "supportEmail", "negativeBalancePolicy"] as const;
export type SettingsField = (typeof SETTINGS_FIELDS)[number];
export type MerchantSettings = { id: string } & { name: string; timeZone: string; displayName: string | null; logoUrl: string | null; accentColor: string | null; supportEmail: string | null; refundFeePolicy: "keep" | "return"; negativeBalancePolicy: "allow" | "refuse" };

const SETTINGS_COLUMNS = {
  id: merchants.id,
  name: merchants.name,
  timeZone: merchants.timeZone,
  displayName: merchants.displayName,
  logoUrl: merchants.logoUrl,
  accentColor: merchants.accentColor,
  supportEmail: merchants.supportEmail,
  refundFeePolicy: merchants.refundFeePolicy,
  negativeBalancePolicy: merchants.negativeBalancePolicy,
};

export async function getMerchantSettings(db: Db, merchantId: string): Promise<MerchantSettings> {
  const [row] = await db.select(SETTINGS_COLUMNS).from(merchants).where(eq(merchants.id, merchantId));
  if (!row) throw new AppError("not_found", "Merchant not found");
  return row;
}

export async function updateMerchant(
  db: Db,
  opts: { merchantId: string; actorUserId: string; input: TUpdateMerchantInputSchema },
): Promise<MerchantSettings> {
  return db.transaction(async (tx) => {
    const [before] = await tx.select(SETTINGS_COLUMNS).from(merchants).where(eq(merchants.id, opts.merchantId)).for("update");
    if (!before) throw new AppError("not_found", "Merchant not found");
    const changed = SETTINGS_FIELDS.filter((f) => opts.input[f] !== undefined && opts.input[f] !== before[f]);
    const changes: Partial<Omit<MerchantSettings, "id">> = Object.fromEntries(changed.map((f) => [f, opts.input[f]]));
    if (changed.length === 0) return before;
    // Postgres buckets and filters dates in this zone (at time zone …): a zone this runtime knows but the
    // database's zone data does not would make every dated query of the merchant fail.
    if (changes.timeZone !== undefined) {
      const known = await tx.execute(sql`select 1 from pg_timezone_names where name = ${changes.timeZone} limit 1`);
      if (known.length === 0) throw new AppError("validation_failed", "This time zone is not known to the database: choose another.", { details: { fields: [{ field: "timeZone", message: "not a time zone the database knows" }] } });
    }
    const [after] = await tx.update(merchants).set(changes).where(eq(merchants.id, opts.merchantId)).returning(SETTINGS_COLUMNS);
    // An uploaded logo that an external URL (or none) replaced is not kept.
    if ("logoUrl" in changes) await tx.delete(merchantLogos).where(eq(merchantLogos.merchantId, opts.merchantId));
    await recordAudit(tx, {
      actor: opts.actorUserId,
      merchantId: opts.merchantId,
      action: "merchant.settings_updated",
      target: { type: "merchant", id: opts.merchantId },
      before: Object.fromEntries(changed.map((f) => [f, before[f]])),
      after: Object.fromEntries(changed.map((f) => [f, after![f]])),
      data: { fields: changed },
    });
    return after!;
  });
}
