import { TRPCError } from "@trpc/server";
import { asc, eq } from "drizzle-orm";
import { ZodError } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { checkoutTransitions, merchants, paymentAttempts, paymentOrders, sellers } from "@/db/schema";
import { startTestSandbox } from "@/sandbox/testing";
import type { Sandbox } from "@/sandbox";
import { env } from "@/server/env.js";
import { getConnector, type PspName } from "@/server/psp";
import { createCaller } from "@/server/trpc/root";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createMerchant, createTestCheckout } from "@/test/fixtures";
import { applyAttemptOutcome } from "./apply-outcome";
import { MPESA_PUSH_TIMEOUT_S } from "./attempt-limits";
import { transitionCheckout } from "./checkout-state";
import { createCheckout } from "./create-checkout";
import { fetchPaymentStatus, fromStored } from "./execution";
import { MPESA_PHONE_MESSAGE } from "./mpesa-phone";

// The hosted checkout's public procedures: what they reveal, what they refuse, and their rate limit.

let t: TestDatabase;
let sandbox: Sandbox;
let checkoutId: string;
let merchantId: string;
let sellerRefs: string[];

const connectorFor = (db: Db, psp: PspName) => getConnector(db, psp, { apiBase: sandbox.url });
const caller = (clientIp: string) => createCaller({ db: t.db, userId: null, requestedMerchantId: undefined, requestId: "test", clientIp, connectorFor });
let ipSeq = 0;
/** A fresh client per call group, so the per-IP action limit never decides a test that is not about it. */
const freshIp = () => `10.7.${Math.floor(++ipSeq / 250)}.${ipSeq % 250}`;

async function code(p: Promise<unknown>) {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(TRPCError);
  return (e as TRPCError).code;
}

beforeAll(async () => {
  t = await createTestDatabase();
  sandbox = await startTestSandbox();
  const m = await createMerchant(t.db, "Public Shop");
  merchantId = m.id;
  const [s, s2] = await t.db.select().from(sellers).where(eq(sellers.merchantId, m.id)).orderBy(asc(sellers.name));
  sellerRefs = [s!.reference, s2!.reference];
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
afterAll(async () => {
  await sandbox?.stop();
  await t?.drop();
});

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

describe("checkout.get: what the hosted page shows", () => {
  it("brands the page from the merchant's settings, falling back to its name, and says it runs on test keys", async () => {
    const view = await caller(freshIp()).checkout.get({ checkoutId });
    expect(view).toMatchObject({ merchantName: "Public Shop", branding: { name: "Public Shop", logoUrl: null, accentColor: null, supportEmail: null, timeZone: "UTC" }, testMode: true, totalMinor: "35050" });
    await t.db.update(merchants).set({ displayName: "Public Shop Kenya", logoUrl: "https://cdn.example/logo.png", accentColor: "#ffd400", supportEmail: "help@shop.example", timeZone: "Africa/Nairobi" }).where(eq(merchants.id, merchantId));
    try {
      expect(await caller(freshIp()).checkout.get({ checkoutId })).toMatchObject({
        merchantName: "Public Shop Kenya",
        branding: { name: "Public Shop Kenya", logoUrl: "https://cdn.example/logo.png", accentColor: "#ffd400", supportEmail: "help@shop.example", timeZone: "Africa/Nairobi" },
      });
    } finally {
      await t.db.update(merchants).set({ displayName: null, logoUrl: null, accentColor: null, supportEmail: null, timeZone: "UTC" }).where(eq(merchants.id, merchantId));
    }
  });

  it("lists the sellers in the merchant's order, not alphabetically", async () => {
    const names = ["Zebra Crafts", "Alpha Books", "Mango Coffee"];
    const made = await t.db.insert(sellers).values(names.map((name, i) => ({ merchantId, reference: `order-${i}-${Date.now()}`, name, defaultCurrency: "KES" }))).returning({ reference: sellers.reference });
    const body = await createTestCheckout(t.db, { merchantId, sellerRefs: made.map((m) => m.reference), amounts: ["1.00", "2000.00", "3.00"] });
    const orders = await t.db.select({ position: paymentOrders.position }).from(paymentOrders).where(eq(paymentOrders.checkoutId, body.checkout_id)).orderBy(asc(paymentOrders.position));
    expect(orders.map((o) => o.position)).toEqual([0, 1, 2]);
    const view = await caller(freshIp()).checkout.get({ checkoutId: body.checkout_id });
    expect(view.orders.map((o) => [o.sellerName, o.amountMinor])).toEqual([
      ["Zebra Crafts", "100"],
      ["Alpha Books", "200000"],
      ["Mango Coffee", "300"],
    ]);
  });

  it("says why a closed checkout cannot be paid: expired, blocked by risk rules, rejected in review", async () => {
    const reasons: [string, "failed" | "blocked", "expired" | "risk_blocked" | "review_rejected", ("review" | undefined)?][] = [
      ["expired", "failed", "expired"],
      ["blocked", "blocked", "risk_blocked"],
      ["rejected", "blocked", "review_rejected", "review"],
    ];
    for (const [, to, reason, via] of reasons) {
      const id = (await createTestCheckout(t.db, { merchantId, sellerRefs: [sellerRefs[0]!] })).checkout_id;
      await t.db.transaction(async (tx) => {
        if (via) await transitionCheckout(tx, { checkoutId: id, to: via, reason: "risk_review" });
        await transitionCheckout(tx, { checkoutId: id, to, reason });
      });
      expect(await caller(freshIp()).checkout.get({ checkoutId: id }), reason).toMatchObject({ status: to, closedReason: reason, receipt: null });
    }
    expect((await caller(freshIp()).checkout.get({ checkoutId })).closedReason).toBeNull();
  });

  it("a paid card checkout carries its receipt: reference, card brand and last 4, time; the same whichever path applied it", async () => {
    const id = (await createTestCheckout(t.db, { merchantId, sellerRefs: [sellerRefs[0]!], amounts: ["1234.56"] })).checkout_id;
    const ip = freshIp();
    const session = await caller(ip).checkout.prepareCard({ checkoutId: id });
    const piId = session.clientSecret.split("_secret_")[0]!;
    await connectorFor(t.db, "stripe").confirmPayment({ pspReference: piId, paymentMethodToken: "pm_card_visa", idempotencyKey: `confirm-${piId}` });
    await caller(ip).checkout.submitCard({ checkoutId: id, paymentIntentId: piId });
    // What the payment engine does next (its Inngest step memoizes the PSP's answer as a StoredResult).
    const status = await fetchPaymentStatus(t.db, connectorFor, "stripe", piId);
    expect(await applyAttemptOutcome(t.db, session.attemptId, fromStored(status))).toBe("succeeded");
    const [attempt] = await t.db.select().from(paymentAttempts).where(eq(paymentAttempts.id, session.attemptId));
    expect(attempt).toMatchObject({ cardBrand: "visa", cardLast4: "4242" });
    const view = await caller(freshIp()).checkout.get({ checkoutId: id });
    const [paid] = await t.db.select({ at: checkoutTransitions.at }).from(checkoutTransitions).where(eq(checkoutTransitions.checkoutId, id)).orderBy(asc(checkoutTransitions.at)).then((r) => r.slice(-1));
    expect(view).toMatchObject({ status: "completed", receipt: { reference: id, method: "card", cardBrand: "visa", cardLast4: "4242", mpesaReceipt: null, paidAt: paid!.at.toISOString() } });
    // No more of the card than its last 4 digits reaches the page.
    expect(JSON.stringify(view)).not.toMatch(/4242424242424242|pm_card|fingerprint/);
  });

  it("an M-Pesa push waiting for the PIN carries the seconds left of the push timeout", async () => {
    const id = (await createTestCheckout(t.db, { merchantId, sellerRefs: [sellerRefs[0]!], amounts: ["120.00"] })).checkout_id;
    await caller(freshIp()).checkout.startMpesa({ checkoutId: id, phone: "0712 345 678" });
    const view = await caller(freshIp()).checkout.get({ checkoutId: id });
    expect(view.mpesaTimeoutS).toBe(MPESA_PUSH_TIMEOUT_S);
    // No callback reaches this test (the sandbox has nowhere to send it): the push stays unanswered.
    expect(view).toMatchObject({ status: "processing", attempt: { method: "mpesa", phoneHint: "…678" } });
    expect(view.attempt!.secondsLeft).toBeGreaterThan(MPESA_PUSH_TIMEOUT_S - 30);
    expect(view.attempt!.secondsLeft).toBeLessThanOrEqual(MPESA_PUSH_TIMEOUT_S);
    // Aged past the timeout (database clock): zero, never negative.
    await t.sql`update payment_attempts set created_at = now() - make_interval(secs => ${MPESA_PUSH_TIMEOUT_S + 5}) where checkout_id = ${id}`;
    expect((await caller(freshIp()).checkout.get({ checkoutId: id })).attempt!.secondsLeft).toBe(0);
    // Once answered (here: paid by card instead is impossible; the attempt fails) the figure is gone.
    await t.sql`update payment_attempts set status = 'failed' where checkout_id = ${id}`;
    expect((await caller(freshIp()).checkout.get({ checkoutId: id })).attempt!.secondsLeft).toBeNull();
  });
});

describe("checkout.startMpesa: a phone that is not an M-Pesa number", () => {
  it("is refused (400, nothing stored) with one human sentence as the phone's field error, whatever was typed", async () => {
    const id = (await createTestCheckout(t.db, { merchantId, sellerRefs: [sellerRefs[0]!], amounts: ["100.00"] })).checkout_id;
    for (const phone of ["12", "0812345678", "not a phone", "+44 7700 900123", "0".repeat(40), ""]) {
      const e = await caller(freshIp()).checkout.startMpesa({ checkoutId: id, phone }).then(() => null, (x: unknown) => x);
      expect(e, phone).toBeInstanceOf(TRPCError);
      expect((e as TRPCError).code).toBe("BAD_REQUEST");
      // The page shows the zod field error (errorFormatter's zodError.fieldErrors.phone[0]): our sentence, not zod's words.
      const cause = (e as TRPCError).cause;
      expect(cause).toBeInstanceOf(ZodError);
      expect((cause as ZodError).issues.map((i) => [i.path.join("."), i.message])).toEqual([["phone", MPESA_PHONE_MESSAGE]]);
    }
    expect(await t.db.select().from(paymentAttempts).where(eq(paymentAttempts.checkoutId, id))).toEqual([]);
  });
});
