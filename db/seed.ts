import { eq } from "drizzle-orm";
import { hashPassword } from "@/server/auth/password";
import type { Db } from "./client";
import { memberships, merchants, sellers, users } from "./schema";

// The demo tenant that `npm run dev` and the e2e server seed. Fixed ids make seeding idempotent:
// starting twice changes nothing.
export const DEMO = {
  merchant: { id: "mer_demo", name: "Demo Merchant", country: "KE", defaultCurrency: "KES" },
  sellers: [
    { id: "sel_demo_books", reference: "books", name: "Nairobi Books", defaultCurrency: "KES" },
    { id: "sel_demo_crafts", reference: "crafts", name: "Mombasa Crafts", defaultCurrency: "KES" },
  ],
  password: "demo-password",
  users: [
    { id: "usr_demo_admin", email: "admin@demo.test", name: "Demo Admin", role: "merchant_admin" },
    { id: "usr_demo_viewer", email: "viewer@demo.test", name: "Demo Viewer", role: "merchant_viewer" },
    { id: "usr_demo_ops", email: "ops@demo.test", name: "Demo Ops", role: "ops" },
  ],
} as const;

export async function seedDemo(db: Db): Promise<{ created: boolean }> {
  const existing = await db.select({ id: users.id }).from(users).where(eq(users.id, DEMO.users[0].id));
  if (existing.length > 0) return { created: false };
  const passwordHash = await hashPassword(DEMO.password);
  await db.transaction(async (tx) => {
    await tx.insert(merchants).values(DEMO.merchant).onConflictDoNothing();
    await tx
      .insert(sellers)
      .values(DEMO.sellers.map((s) => ({ ...s, merchantId: DEMO.merchant.id })))
      .onConflictDoNothing();
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
  return { created: true };
}
