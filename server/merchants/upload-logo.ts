import { createHash } from "node:crypto";
import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { merchantLogos, merchants } from "@/db/schema";
import { recordAudit } from "@/server/audit/record-audit";
import { AppError } from "@/server/errors";
import { LOGO_MAX_BYTES, sniffLogoType, uploadedLogoPath, type LogoContentType } from "./branding";

// An uploaded checkout logo: PNG, JPEG or WebP by its magic bytes (an SVG, whatever it is called, is refused),
// at most LOGO_MAX_BYTES, kept in merchant_logos and served from our origin by app/api/branding/[merchantId]/logo.
// merchants.logo_url then points at that route with the image's sha256 as its version.

export function validateLogo(dataBase64: string): { bytes: Buffer; contentType: LogoContentType; sha256: string } {
  const bytes = Buffer.from(dataBase64, "base64");
  if (bytes.length === 0) throw new AppError("validation_failed", "The logo file is empty.");
  if (bytes.length > LOGO_MAX_BYTES) throw new AppError("payload_too_large", `The logo must be at most ${LOGO_MAX_BYTES / 1024} KB.`);
  const contentType = sniffLogoType(bytes);
  if (!contentType) throw new AppError("validation_failed", "The logo must be a PNG, JPEG or WebP image (SVG is not accepted).");
  return { bytes, contentType, sha256: createHash("sha256").update(bytes).digest("hex") };
}

export async function uploadLogo(db: Db, opts: { merchantId: string; actorUserId: string; dataBase64: string }): Promise<{ logoUrl: string; contentType: LogoContentType; bytes: number }> {
  const logo = validateLogo(opts.dataBase64);
  const logoUrl = uploadedLogoPath(opts.merchantId, logo.sha256);
  return db.transaction(async (tx) => {
    const [before] = await tx.select({ logoUrl: merchants.logoUrl }).from(merchants).where(eq(merchants.id, opts.merchantId)).for("update");
    if (!before) throw new AppError("not_found", "Merchant not found");
    const row = { contentType: logo.contentType, dataBase64: logo.bytes.toString("base64"), sha256: logo.sha256 };
    await tx.insert(merchantLogos).values({ merchantId: opts.merchantId, ...row }).onConflictDoUpdate({ target: merchantLogos.merchantId, set: { ...row, updatedAt: new Date() } });
    await tx.update(merchants).set({ logoUrl }).where(eq(merchants.id, opts.merchantId));
    await recordAudit(tx, {
      actor: opts.actorUserId,
      merchantId: opts.merchantId,
      action: "merchant.settings_updated",
      target: { type: "merchant", id: opts.merchantId },
      before: { logoUrl: before.logoUrl },
      after: { logoUrl },
      data: { fields: ["logoUrl"], upload: { contentType: logo.contentType, bytes: logo.bytes.length, sha256: logo.sha256 } },
    });
    return { logoUrl, contentType: logo.contentType, bytes: logo.bytes.length };
  });
}

/** The stored logo, for the public logo route. */
export async function getUploadedLogo(db: Db, merchantId: string): Promise<{ bytes: Buffer; contentType: string; sha256: string } | undefined> {
  const [row] = await db.select().from(merchantLogos).where(eq(merchantLogos.merchantId, merchantId));
  return row ? { bytes: Buffer.from(row.dataBase64, "base64"), contentType: row.contentType, sha256: row.sha256 } : undefined;
}
