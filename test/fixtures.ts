import { randomBytes } from "node:crypto";
import type { z } from "zod";
import type { Db } from "@/db/client";
import { memberships, merchants, sellers, users } from "@/db/schema";
import type { MerchantRole } from "@/server/auth/access";
import { createCheckout } from "@/server/payments/create-checkout";
import { ZCreateCheckoutInput } from "@/server/payments/create-checkout.schema";
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

type CheckoutInput = z.input<typeof ZCreateCheckoutInput>;

/**
 * A checkout through the real createCheckout, its input parsed as the API parses it: one payment order per amount,
 * the i-th paid to `sellerRefs[i]`, each with a fresh payment_order_id, and a fresh buyer email unless `buyer` is
 * given. `extra`: the rest of the request (payment_method_options, …).
 */
export async function createTestCheckout(
  db: Db,
  opts: {
    merchantId: string;
    sellerRefs: string[];
    amounts?: string[];
    currency?: CheckoutInput["payment_orders"][number]["currency"];
    buyer?: CheckoutInput["buyer_info"];
    extra?: Omit<Partial<CheckoutInput>, "payment_orders" | "buyer_info">;
  },
) {
  const tag = suffix();
  const input = ZCreateCheckoutInput.parse({
    buyer_info: opts.buyer ?? { email: `buyer-${tag}@example.test` },
    return_url: "https://shop.example/r",
    ...opts.extra,
    payment_orders: (opts.amounts ?? ["100.00"]).map((amount, i) => ({
      payment_order_id: `po-${tag}-${i}`,
      seller_account: opts.sellerRefs[i]!,
      amount,
      currency: opts.currency ?? "KES",
    })),
  });
  return (await createCheckout(db, { merchantId: opts.merchantId, input })).body;
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
