import { TRPCError } from "@trpc/server";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sellers } from "@/db/schema";
import { env } from "@/server/env.js";
import { createCaller } from "@/server/trpc/root";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createMerchant } from "@/test/fixtures";
import { createCheckout } from "./create-checkout";

// The hosted checkout's public procedures: what they reveal, what they refuse, and their rate limit.

let t: TestDatabase;
let checkoutId: string;

const caller = (clientIp: string) => createCaller({ db: t.db, userId: null, requestedMerchantId: undefined, requestId: "test", clientIp });

async function code(p: Promise<unknown>) {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(TRPCError);
  return (e as TRPCError).code;
}

beforeAll(async () => {
  t = await createTestDatabase();
  const m = await createMerchant(t.db, "Public Shop");
  const [s] = await t.db.select().from(sellers).where(eq(sellers.merchantId, m.id));
  const res = await createCheckout(t.db, {
    merchantId: m.id,
    input: {
      buyer_info: { email: "secret-buyer@example.test", phone: "254712345678", name: "Wanjiru" },
      return_url: "https://shop.example/r",
      payment_orders: [{ payment_order_id: "pub1", seller_account: s!.reference, amount: "350.50", currency: "KES" }],
    },
  });
  checkoutId = res.body.checkout_id;
});
afterAll(async () => t?.drop());

describe("checkout.get", () => {
  it("shows the order summary but no buyer data, and whether M-Pesa can pay it", async () => {
    const view = await caller("10.0.0.1").checkout.get({ checkoutId });
    expect(view).toMatchObject({ checkoutId, merchantName: "Public Shop", total: "350.50", currency: "KES", mpesaAvailable: false });
    const text = JSON.stringify(view);
    for (const secret of ["secret-buyer", "254712345678", "Wanjiru"]) expect(text).not.toContain(secret);
  });

  it("answers a malformed id with 400 and an unknown one with 404", async () => {
    expect(await code(caller("10.0.0.1").checkout.get({ checkoutId: "chk_nope" }))).toBe("BAD_REQUEST");
    expect(await code(caller("10.0.0.1").checkout.get({ checkoutId: "chk_01AAAAAAAAAAAAAAAAAAAAAAAA" }))).toBe("NOT_FOUND");
  });
});

describe("checkout actions", () => {
  it("are rate-limited per client IP (429), without affecting other IPs", async () => {
    const limit = env.CHECKOUT_RATE_LIMIT_PER_IP;
    const ip = "10.9.9.9";
    for (let i = 0; i < limit; i++) {
      // Refused for a reason of its own (M-Pesa needs whole shillings), but counted.
      expect(await code(caller(ip).checkout.startMpesa({ checkoutId, phone: "0712345678" }))).toBe("BAD_REQUEST");
    }
    expect(await code(caller(ip).checkout.startMpesa({ checkoutId, phone: "0712345678" }))).toBe("TOO_MANY_REQUESTS");
    expect(await code(caller("10.9.9.10").checkout.startMpesa({ checkoutId, phone: "0712345678" }))).toBe("BAD_REQUEST");
    // Reading the checkout (the page polls it) is not limited by the action bucket.
    expect((await caller(ip).checkout.get({ checkoutId })).checkoutId).toBe(checkoutId);
  });
});
