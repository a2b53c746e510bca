import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { apiKeys, memberships, merchants, payoutDestinations, sellers, users } from "../db/schema";
import { hashPassword } from "../server/auth/password";
import { encryptField, sha256Hex } from "../server/crypto/field";

// The demo tenant that `npm run dev` and the e2e server seed. Fixed ids make seeding idempotent: starting
// twice changes nothing, and an older dev database gains whatever was added here since.
export const DEMO = {
  merchant: { id: "mer_demo", name: "Demo Merchant", country: "KE", defaultCurrency: "KES" },
  sellers: [
    { id: "sel_demo_books", reference: "books", name: "Nairobi Books", defaultCurrency: "KES" },
    { id: "sel_demo_crafts", reference: "crafts", name: "Mombasa Crafts", defaultCurrency: "KES" },
    { id: "sel_demo_coffee", reference: "coffee", name: "Kisumu Coffee", defaultCurrency: "KES" },
  ],
  /** Every demo seller is paid to the sandbox's M-Pesa test phone, on request (Sellers -> Request payout); a merchant
   *  sets a daily/weekly/monthly schedule on the seller's page. Seeded destinations skip the 24 h change hold. */
  payoutPhone: "254708374149",
  password: "demo-password",
  users: [
    { id: "usr_demo_admin", email: "admin@demo.test", name: "Demo Admin", role: "merchant_admin" },
    { id: "usr_demo_viewer", email: "viewer@demo.test", name: "Demo Viewer", role: "merchant_viewer" },
    { id: "usr_demo_ops", email: "ops@demo.test", name: "Demo Ops", role: "ops" },
  ],
  /** A test-mode secret key for trying the API from a terminal. Demo data only: never seeded in production. */
  apiKey: { id: "key_demo_secret", key: "sk_test_DemoDemoDemoDemoDemoDemoDemoDemo" },
} as const;

export async function seedDemo(db: Db): Promise<{ created: boolean }> {
  const existing = await db.select({ id: users.id }).from(users).where(eq(users.id, DEMO.users[0].id));
  const passwordHash = existing.length === 0 ? await hashPassword(DEMO.password) : undefined;
  await db.transaction(async (tx) => {
    await tx.insert(merchants).values(DEMO.merchant).onConflictDoNothing();
    await tx
      .insert(sellers)
      .values(DEMO.sellers.map((s) => ({ ...s, merchantId: DEMO.merchant.id, payoutInterval: "manual" as const })))
      .onConflictDoNothing();
    // No conflict target: the seller's one active destination (a partial unique index) keeps an existing one.
    await tx
      .insert(payoutDestinations)
      .values(DEMO.sellers.map((s) => ({ id: `pyd_demo_${s.reference}`, merchantId: DEMO.merchant.id, sellerId: s.id, psp: "mpesa" as const, phoneEncrypted: encryptField(DEMO.payoutPhone), phoneLast3: DEMO.payoutPhone.slice(-3) })))
      .onConflictDoNothing();
    await tx
      .insert(apiKeys)
      .values({ id: DEMO.apiKey.id, merchantId: DEMO.merchant.id, kind: "secret", name: "Demo key (seeded)", keyHash: sha256Hex(DEMO.apiKey.key), displayHint: `${DEMO.apiKey.key.slice(0, 8)}…${DEMO.apiKey.key.slice(-4)}` })
      .onConflictDoNothing();
    if (!passwordHash) return;
    for (const u of DEMO.users) {
      await tx
        .insert(users)
        .values({ id: u.id, email: u.email, name: u.name, passwordHash, platformRole: u.role === "ops" ? "ops" : null })
        .onConflictDoNothing();
      if (u.role !== "ops") {
        await tx.insert(memberships).values({ userId: u.id, merchantId: DEMO.merchant.id, role: u.role }).onConflictDoNothing();
      }
    }
  });
  return { created: Boolean(passwordHash) };
}
