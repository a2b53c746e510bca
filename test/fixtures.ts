import { randomBytes } from "node:crypto";
import type { Db } from "@/db/client";
import { memberships, merchants, sellers, users } from "@/db/schema";
import type { MerchantRole } from "@/server/auth/access";
import type { TRPCContext } from "@/server/trpc/init";
import { createCaller } from "@/server/trpc/root";

// Builders for integration tests: real rows in the test's own database.

const suffix = () => randomBytes(4).toString("hex");

export async function createMerchant(db: Db, name = `Merchant ${suffix()}`) {
  const [m] = await db.insert(merchants).values({ name, country: "KE", defaultCurrency: "KES" }).returning();
  await db.insert(sellers).values([
    { merchantId: m!.id, reference: `seller-a-${suffix()}`, name: `${name} Seller A`, defaultCurrency: "KES" },
    { merchantId: m!.id, reference: `seller-b-${suffix()}`, name: `${name} Seller B`, defaultCurrency: "KES" },
  ]);
  return m!;
}

export async function createUser(db: Db, opts: { merchantId?: string; role?: MerchantRole; ops?: boolean } = {}) {
  const [u] = await db
    .insert(users)
    .values({ email: `user-${suffix()}@example.test`, name: "Test User", platformRole: opts.ops ? "ops" : null })
    .returning();
  if (opts.merchantId && opts.role) {
    await db.insert(memberships).values({ userId: u!.id, merchantId: opts.merchantId, role: opts.role });
  }
  return u!;
}

/** A tRPC caller acting as `userId` (null = signed out), through the real middleware chain. */
export function callerFor(db: Db, userId: string | null, requestedMerchantId?: string) {
  const ctx: TRPCContext = { db, userId, requestedMerchantId, requestId: `test-${suffix()}` };
  return createCaller(ctx);
}

/** The tRPC error code a call is refused with (`UNAUTHORIZED`, `CONFLICT`, …), or undefined when it succeeded. */
export async function trpcErrorCode(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
}
