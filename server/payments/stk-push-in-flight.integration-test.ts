// An M-Pesa attempt closed while its STK push is in flight (another attempt paid the checkout meanwhile:
// closeOtherAttempts) stays closed, but it still learns the push's CheckoutRequestID, so its execution follows
// the push: a payment of it is applied (or recorded as a double charge), never lost. Real Postgres, the PSP
// sandbox behind our Daraja client; the close is injected at the moment the push goes out.
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { paymentAttempts, paymentAttemptTransitions, paymentOrders, sellers } from "@/db/schema";
import { getConnector, type PspName } from "@/server/psp";
import type { Sandbox } from "@/sandbox";
import { startTestSandbox, waitFor } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createMerchant } from "@/test/fixtures";
import { applyAttemptOutcome } from "./apply-outcome";
import { transitionAttempt } from "./attempt-state";
import { startMpesaPayment } from "./attempts";
import { createCheckout } from "./create-checkout";
import { ZCreateCheckoutInput } from "./create-checkout.schema";
import { fetchPaymentStatus, fromStored, sendStkPush } from "./execution";

let t: TestDatabase;
let sandbox: Sandbox;
let merchantId: string;
let sellerRef: string;

beforeAll(async () => {
  t = await createTestDatabase();
  sandbox = await startTestSandbox();
  merchantId = (await createMerchant(t.db, "In-flight Shop")).id;
  sellerRef = (await t.db.select().from(sellers).where(eq(sellers.merchantId, merchantId)).limit(1))[0]!.reference;
});
afterAll(async () => {
  await sandbox?.stop();
  await t?.drop();
});

describe("an STK push whose attempt is closed while it is in flight", () => {
  it("keeps the attempt closed, records the CheckoutRequestID, and a payment of it is still applied", async () => {
    const input = ZCreateCheckoutInput.parse({
      buyer_info: { email: "inflight@example.test" },
      return_url: "https://shop.example/r",
      payment_orders: [{ payment_order_id: "inflight_1", seller_account: sellerRef, amount: "150.00", currency: "KES" }],
    });
    const checkoutId = (await createCheckout(t.db, { merchantId, input })).body.checkout_id;
    const { attemptId } = await startMpesaPayment(t.db, { checkoutId, phone: "0713000119" });
    const connectorFor = (db: Db, psp: PspName) => {
      const c = getConnector(db, psp, { apiBase: sandbox.url, timeoutMs: 5_000 });
      const send = c.createPayment.bind(c);
      c.createPayment = async (req) => {
        // The push is on its way: another attempt pays the checkout and closes this one.
        await t.db.transaction((tx) => transitionAttempt(tx, { attemptId, to: "canceled", reason: "checkout_paid", set: { failureCode: "checkout_paid", failureMessage: "Another payment paid this checkout." } }));
        return send(req);
      };
      return c;
    };
    const pushed = await sendStkPush(t.db, connectorFor, attemptId);
    expect(pushed.pspReference).toMatch(/^ws_CO_/);
    const [a] = await t.db.select().from(paymentAttempts).where(eq(paymentAttempts.id, attemptId));
    expect(a).toMatchObject({ status: "canceled", pspReference: pushed.pspReference, failureCode: "checkout_paid" });
    const moves = await t.db.select().from(paymentAttemptTransitions).where(eq(paymentAttemptTransitions.attemptId, attemptId)).orderBy(asc(paymentAttemptTransitions.at), asc(paymentAttemptTransitions.id));
    expect(moves.map((m) => [m.fromStatus, m.toStatus, m.reason])).toEqual([
      [null, "created", "created"],
      ["created", "pending", "stk_claimed"],
      ["pending", "canceled", "checkout_paid"],
    ]);
    // The buyer pays the push: the execution follows it by its reference and the late success is applied.
    const paid = await waitFor(async () => {
      const s = await fetchPaymentStatus(t.db, connectorFor, "mpesa", pushed.pspReference);
      return s.status === "pending" ? undefined : s;
    });
    expect(paid.status).toBe("succeeded");
    expect(await applyAttemptOutcome(t.db, attemptId, fromStored(paid))).toBe("succeeded");
    expect((await t.db.select({ s: paymentOrders.status }).from(paymentOrders).where(eq(paymentOrders.checkoutId, checkoutId))).map((o) => o.s)).toEqual(["SUCCESS"]);
  });
});
