import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { merchants } from "@/db/schema";
import { recordAudit } from "@/server/audit/record-audit";
import { AppError } from "@/server/errors";
import type { TUpdateMerchantInputSchema } from "./update-merchant.schema";

/** Renames the merchant; the change and its audit row commit in one transaction. */
export async function updateMerchant(
  db: Db,
  opts: { merchantId: string; actorUserId: string; input: TUpdateMerchantInputSchema },
): Promise<{ id: string; name: string }> {
  return db.transaction(async (tx) => {
    const [before] = await tx.select({ name: merchants.name }).from(merchants).where(eq(merchants.id, opts.merchantId)).for("update");
    if (!before) throw new AppError("not_found", "Merchant not found");
    const [after] = await tx
      .update(merchants)
      .set({ name: opts.input.name })
      .where(eq(merchants.id, opts.merchantId))
      .returning({ id: merchants.id, name: merchants.name });
    if (!after) throw new AppError("not_found", "Merchant not found");
    await recordAudit(tx, {
      actor: opts.actorUserId,
      merchantId: opts.merchantId,
      action: "merchant.updated",
      target: { type: "merchant", id: opts.merchantId },
      before: { name: before.name },
      after: { name: after.name },
    });
    return after;
  });
}
