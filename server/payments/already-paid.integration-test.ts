import { TRPCError } from "@trpc/server";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkouts, paymentAttempts, sellers } from "@/db/schema";
import type { PspConnector } from "@/server/psp";
import { AppError } from "@/server/errors";
import { createCaller } from "@/server/trpc/root";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createMerchant } from "@/test/fixtures";
import { prepareCardPayment, startMpesaPayment, submitCardPayment } from "./attempts";
import { createCheckout } from "./create-checkout";

// A buyer action on a checkout that is already paid is refused with the specific code `already_paid` (HTTP 409,
// tRPC CONFLICT), with the message the checkout page has always shown, and asks no PSP anything.

const MESSAGE = "This checkout is already paid.";

let t: TestDatabase;
let checkoutId: string;
const pspCalls: string[] = [];
/** Any PSP call is recorded (and fails): a paid checkout must be refused before one. */
const noPsp = new Proxy({} as PspConnector, {
  // Not a thenable: awaiting the connector must not count as a call.
  get: (_target, prop) =>
    prop === "then"
      ? undefined
      : () => {
          pspCalls.push(String(prop));
          throw new Error(`unexpected PSP call ${String(prop)}`);
        },
});
const caller = () => createCaller({ db: t.db, userId: null, requestedMerchantId: undefined, requestId: "test-already-paid", clientIp: "10.1.2.3", connectorFor: () => noPsp });

async function refusal(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.unreachable("the action was not refused"),
    (e: unknown) => e,
  );
}

beforeAll(async () => {
  t = await createTestDatabase();
  const m = await createMerchant(t.db, "Paid Shop");
  const [s] = await t.db.select().from(sellers).where(eq(sellers.merchantId, m.id));
  const res = await createCheckout(t.db, {
    merchantId: m.id,
    input: { buyer_info: { email: "buyer@example.test" }, return_url: "https://shop.example/r", payment_orders: [{ payment_order_id: "paid1", seller_account: s!.reference, amount: "350.00", currency: "KES" }] },
  });
  checkoutId = res.body.checkout_id;
  await t.db.update(checkouts).set({ status: "completed" }).where(eq(checkouts.id, checkoutId));
});
afterAll(async () => t?.drop());

describe("an already-paid checkout", () => {
  it("refuses each buyer action with already_paid and the same message (service functions)", async () => {
    for (const action of [
      () => prepareCardPayment(t.db, noPsp, checkoutId),
      () => startMpesaPayment(t.db, { checkoutId, phone: "0712345678", connectorFor: () => noPsp }),
    ]) {
      const err = await refusal(action());
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ code: "already_paid", message: MESSAGE, userMessage: MESSAGE, httpStatus: 409, trpcCode: "CONFLICT" });
    }
  });

  it("a submit for a PaymentIntent that did not pay it stays a plain conflict (not this checkout's payment), same message", async () => {
    const err = await refusal(submitCardPayment(t.db, { checkoutId, paymentIntentId: "pi_not_this_checkouts", connector: noPsp }));
    expect(err).toMatchObject({ code: "conflict", userMessage: MESSAGE, httpStatus: 409, trpcCode: "CONFLICT" });
  });

  it("answers the checkout page's procedures with CONFLICT and the same message, the already_paid AppError as cause", async () => {
    for (const action of [
      () => caller().checkout.prepareCard({ checkoutId }),
      () => caller().checkout.startMpesa({ checkoutId, phone: "0712345678" }),
    ]) {
      const err = await refusal(action());
      expect(err).toBeInstanceOf(TRPCError);
      expect(err).toMatchObject({ code: "CONFLICT", message: MESSAGE });
      expect((err as TRPCError).cause).toMatchObject({ code: "already_paid" });
    }
    const submit = await refusal(caller().checkout.submitCard({ checkoutId, paymentIntentId: "pi_not_this_checkouts" }));
    expect(submit).toMatchObject({ code: "CONFLICT", message: MESSAGE });
  });

  it("wrote no attempt and called no PSP", async () => {
    expect(await t.db.select().from(paymentAttempts).where(eq(paymentAttempts.checkoutId, checkoutId))).toEqual([]);
    expect(pspCalls).toEqual([]);
  });
});
