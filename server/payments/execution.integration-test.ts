import { and, count, eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkouts, outboxEvents, paymentAttempts, paymentOrders, sellers } from "@/db/schema";
import { loadTransactionBySource } from "@/server/ledger";
import { getConnector, type PspName } from "@/server/psp";
import { getWallet } from "@/server/wallet";
import { startTestSandbox, waitFor } from "@/sandbox/testing";
import type { Sandbox } from "@/sandbox";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createMerchant, createTestCheckout } from "@/test/fixtures";
import type { Db } from "@/db/client";
import { applyAttemptOutcome, platformFee } from "./apply-outcome";
import { prepareCardPayment, startMpesaPayment, submitCardPayment } from "./attempts";
import { CHECKOUT_TTL_MS, expireStaleCheckouts } from "./expire-checkouts";
import { fetchPaymentStatus, fromStored, sendStkPush } from "./execution";

// The pay-in pieces the durable function strings together, driven step by step against the real PSP
// sandbox (real stripe SDK, real Daraja client) and real Postgres.

let t: TestDatabase;
let sandbox: Sandbox;
let merchantId: string;
let refs: string[];
let sellerIds: string[];
const connectorFor = (db: Db, psp: PspName) => getConnector(db, psp, { apiBase: sandbox.url });

beforeAll(async () => {
  t = await createTestDatabase();
  sandbox = await startTestSandbox();
  merchantId = (await createMerchant(t.db, "Exec Shop")).id;
  const rows = await t.db.select().from(sellers).where(eq(sellers.merchantId, merchantId)).orderBy(sellers.reference);
  refs = rows.map((r) => r.reference);
  sellerIds = rows.map((r) => r.id);
});
afterAll(async () => {
  await sandbox?.stop();
  await t?.drop();
});

const checkout = async (amounts: string[] = ["100.00", "50.25"]) => (await createTestCheckout(t.db, { merchantId, sellerRefs: refs, amounts })).checkout_id;
async function orderStatuses(checkoutId: string) {
  const rows = await t.db.select({ s: paymentOrders.status }).from(paymentOrders).where(eq(paymentOrders.checkoutId, checkoutId));
  return rows.map((r) => r.s).sort();
}
async function orderIds(checkoutId: string) {
  return (await t.db.select({ id: paymentOrders.id }).from(paymentOrders).where(eq(paymentOrders.checkoutId, checkoutId))).map((r) => r.id);
}
async function confirmCard(piId: string, pm: string) {
  return connectorFor(t.db, "stripe").confirmPayment({ pspReference: piId, paymentMethodToken: pm, idempotencyKey: `confirm-${piId}-${pm}-${Math.random()}` });
}
async function pisFor(checkoutId: string) {
  return sandbox.stripeObjects("payment_intent").filter((pi) => (pi.metadata as Record<string, string> | undefined)?.checkout_id === checkoutId);
}

describe("card", () => {
  it("pays a 2-seller checkout once: one PaymentIntent, SUCCESS, one ledger posting per order, pending balances", async () => {
    const id = await checkout();
    const [s1, s2] = await Promise.all([prepareCardPayment(t.db, connectorFor(t.db, "stripe"), id), prepareCardPayment(t.db, connectorFor(t.db, "stripe"), id).catch(() => null)]);
    const again = await prepareCardPayment(t.db, connectorFor(t.db, "stripe"), id);
    expect(again.clientSecret).toBe(s1.clientSecret);
    if (s2) expect(s2.clientSecret).toBe(s1.clientSecret);
    expect(await pisFor(id)).toHaveLength(1);
    const piId = s1.clientSecret.split("_secret_")[0]!;

    const before = await Promise.all(sellerIds.slice(0, 2).map((s) => getWallet(t.db, s, "KES")));
    await confirmCard(piId, "pm_card_visa");
    await submitCardPayment(t.db, { checkoutId: id, paymentIntentId: piId });
    await submitCardPayment(t.db, { checkoutId: id, paymentIntentId: piId }); // a double click
    expect(await orderStatuses(id)).toEqual(["EXECUTING", "EXECUTING"]);
    const [events] = await t.db.select({ n: count() }).from(outboxEvents).where(and(eq(outboxEvents.name, "payment/attempt.execute")));
    expect(events!.n).toBeGreaterThanOrEqual(1);

    const status = await fetchPaymentStatus(t.db, connectorFor, "stripe", piId);
    expect(status.status).toBe("succeeded");
    const [attempt] = await t.db.select().from(paymentAttempts).where(eq(paymentAttempts.checkoutId, id));
    expect(await applyAttemptOutcome(t.db, attempt!.id, fromStored(status))).toBe("succeeded");
    expect(await applyAttemptOutcome(t.db, attempt!.id, fromStored(status))).toBe("ignored");
    // A stale failure report after the success changes nothing.
    expect(await applyAttemptOutcome(t.db, attempt!.id, { ...fromStored(status), status: "failed", failure: { code: "x", message: "late" } })).toBe("ignored");
    expect(await orderStatuses(id)).toEqual(["SUCCESS", "SUCCESS"]);

    for (const oid of await orderIds(id)) expect(await loadTransactionBySource(t.db, "payment_order", oid)).toBeTruthy();
    const after = await Promise.all(sellerIds.slice(0, 2).map((s) => getWallet(t.db, s, "KES")));
    expect(after[0]!.pending.amount - before[0]!.pending.amount).toBe(10000n - platformFee(10000n, 200));
    expect(after[1]!.pending.amount - before[1]!.pending.amount).toBe(5025n - platformFee(5025n, 200));
    expect(await pisFor(id)).toHaveLength(1);
  });

  it("records a decline (nothing posted), then lets the buyer retry the same PaymentIntent with another card", async () => {
    const id = await checkout(["10.00"]);
    const session = await prepareCardPayment(t.db, connectorFor(t.db, "stripe"), id);
    const piId = session.clientSecret.split("_secret_")[0]!;
    const declined = await confirmCard(piId, "pm_card_chargeDeclined");
    expect(declined.failure?.declineCode).toBe("generic_decline");
    await submitCardPayment(t.db, { checkoutId: id, paymentIntentId: piId });
    const status = await fetchPaymentStatus(t.db, connectorFor, "stripe", piId);
    expect(await applyAttemptOutcome(t.db, session.attemptId, fromStored(status))).toBe("failed");
    expect(await orderStatuses(id)).toEqual(["FAILED"]);
    const [o] = await t.db.select().from(paymentOrders).where(eq(paymentOrders.checkoutId, id));
    expect(o!.failureCode).toBe("generic_decline");
    expect(await loadTransactionBySource(t.db, "payment_order", o!.id)).toBeFalsy();

    const retry = await prepareCardPayment(t.db, connectorFor(t.db, "stripe"), id);
    expect(retry.clientSecret).toBe(session.clientSecret);
    await confirmCard(piId, "pm_card_visa");
    await submitCardPayment(t.db, { checkoutId: id, paymentIntentId: piId });
    const ok = await fetchPaymentStatus(t.db, connectorFor, "stripe", piId);
    expect(await applyAttemptOutcome(t.db, session.attemptId, fromStored(ok))).toBe("succeeded");
    expect(await orderStatuses(id)).toEqual(["SUCCESS"]);
    expect(await pisFor(id)).toHaveLength(1);
  });

  it("never applies a decline the buyer has already retried past (stale failure), and pays on the next check", async () => {
    const id = await checkout(["30.00"]);
    const session = await prepareCardPayment(t.db, connectorFor(t.db, "stripe"), id);
    const piId = session.clientSecret.split("_secret_")[0]!;
    await confirmCard(piId, "pm_card_chargeDeclined");
    await submitCardPayment(t.db, { checkoutId: id, paymentIntentId: piId });
    const declined = await fetchPaymentStatus(t.db, connectorFor, "stripe", piId); // the run reads the decline…
    await new Promise((r) => setTimeout(r, 5));
    await confirmCard(piId, "pm_card_visa"); // …while the buyer pays with another card
    await submitCardPayment(t.db, { checkoutId: id, paymentIntentId: piId });
    expect(await applyAttemptOutcome(t.db, session.attemptId, fromStored(declined), new Date(declined.fetchedAt!))).toBe("pending");
    expect(await orderStatuses(id)).toEqual(["EXECUTING"]);
    const paid = await fetchPaymentStatus(t.db, connectorFor, "stripe", piId);
    expect(await applyAttemptOutcome(t.db, session.attemptId, fromStored(paid), new Date(paid.fetchedAt!))).toBe("succeeded");
    expect(await orderStatuses(id)).toEqual(["SUCCESS"]);
  });

  it("refuses to credit an amount the PSP did not confirm", async () => {
    const id = await checkout(["20.00"]);
    const session = await prepareCardPayment(t.db, connectorFor(t.db, "stripe"), id);
    const piId = session.clientSecret.split("_secret_")[0]!;
    await confirmCard(piId, "pm_card_visa");
    const status = fromStored(await fetchPaymentStatus(t.db, connectorFor, "stripe", piId));
    await expect(applyAttemptOutcome(t.db, session.attemptId, { ...status, amount: { amount: 1999n, currency: "KES" } })).rejects.toThrow(/differs/);
    expect(await orderStatuses(id)).toEqual(["NOT_STARTED"]);
  });
});

describe("expiry", () => {
  it("an unpaid checkout expires only once its PaymentIntent is canceled at the PSP; a payment in flight is left alone", async () => {
    const stale = await checkout(["12.00"]);
    const session = await prepareCardPayment(t.db, connectorFor(t.db, "stripe"), stale);
    const inFlight = await checkout(["13.00"]);
    const flight = await prepareCardPayment(t.db, connectorFor(t.db, "stripe"), inFlight);
    await submitCardPayment(t.db, { checkoutId: inFlight, paymentIntentId: flight.clientSecret.split("_secret_")[0]! });
    const dayAgo = new Date(Date.now() - CHECKOUT_TTL_MS - 60_000);
    await t.db.update(checkouts).set({ createdAt: dayAgo }).where(inArray(checkouts.id, [stale, inFlight]));

    expect(await expireStaleCheckouts(t.db, { connectorFor })).toBe(1);
    expect(await expireStaleCheckouts(t.db, { connectorFor })).toBe(0);
    const [c] = await t.db.select().from(checkouts).where(eq(checkouts.id, stale));
    expect(c!.status).toBe("failed");
    const [o] = await t.db.select().from(paymentOrders).where(eq(paymentOrders.checkoutId, stale));
    expect([o!.status, o!.failureCode]).toEqual(["FAILED", "checkout_expired"]);
    const [a] = await t.db.select().from(paymentAttempts).where(eq(paymentAttempts.id, session.attemptId));
    expect(a!.status).toBe("canceled");
    // Canceled at the PSP before the checkout failed (no job to wait for): the stale tab cannot pay it.
    const piId = session.clientSecret.split("_secret_")[0]!;
    expect((await fetchPaymentStatus(t.db, connectorFor, "stripe", piId)).status).toBe("canceled");
    await expect(confirmCard(piId, "pm_card_visa")).rejects.toThrow();
    await expect(prepareCardPayment(t.db, connectorFor(t.db, "stripe"), stale)).rejects.toThrow(/cannot be paid/);
    expect(await orderStatuses(inFlight)).toEqual(["EXECUTING"]);
  });

  it("a PaymentIntent confirmed just before expiry is not canceled: its success is applied and the checkout completes", async () => {
    const id = await checkout(["14.00"]);
    const session = await prepareCardPayment(t.db, connectorFor(t.db, "stripe"), id);
    const piId = session.clientSecret.split("_secret_")[0]!;
    await confirmCard(piId, "pm_card_visa");
    await t.db.update(checkouts).set({ createdAt: new Date(Date.now() - CHECKOUT_TTL_MS - 60_000) }).where(eq(checkouts.id, id));
    expect(await expireStaleCheckouts(t.db, { connectorFor })).toBe(0);
    const [c] = await t.db.select().from(checkouts).where(eq(checkouts.id, id));
    expect(c!.status).toBe("completed");
    expect(await orderStatuses(id)).toEqual(["SUCCESS"]);
  });
});

describe("M-Pesa", () => {
  async function pushAndSettle(attemptId: string) {
    const pushed = await sendStkPush(t.db, connectorFor, attemptId);
    expect(pushed.status).toBe("pending");
    return waitFor(async () => {
      const s = await fetchPaymentStatus(t.db, connectorFor, "mpesa", pushed.pspReference);
      return s.status === "pending" ? undefined : s;
    });
  }

  it("a cancelled STK push (1032) can be resent and then succeeds, with one posting per order", async () => {
    const id = await checkout(["75.00", "25.00"]);
    const first = await startMpesaPayment(t.db, { checkoutId: id, phone: "0712341032" });
    expect((await startMpesaPayment(t.db, { checkoutId: id, phone: "0712341032" })).attemptId).toBe(first.attemptId);
    const cancelled = await pushAndSettle(first.attemptId);
    expect(cancelled.failure?.code).toBe("1032");
    expect(await applyAttemptOutcome(t.db, first.attemptId, fromStored(cancelled))).toBe("failed");
    expect(await orderStatuses(id)).toEqual(["FAILED", "FAILED"]);

    const second = await startMpesaPayment(t.db, { checkoutId: id, phone: "+254 712 345 678" });
    expect(second.attemptId).not.toBe(first.attemptId);
    expect(await orderStatuses(id)).toEqual(["EXECUTING", "EXECUTING"]);
    const ok = await pushAndSettle(second.attemptId);
    expect(ok.status).toBe("succeeded");
    expect(await applyAttemptOutcome(t.db, second.attemptId, fromStored(ok))).toBe("succeeded");
    expect(await orderStatuses(id)).toEqual(["SUCCESS", "SUCCESS"]);
    for (const oid of await orderIds(id)) expect(await loadTransactionBySource(t.db, "payment_order", oid)).toBeTruthy();
    // The phone number is stored encrypted only.
    const rows = await t.sql`select phone_encrypted, phone_hint from payment_attempts where checkout_id = ${id}`;
    expect(JSON.stringify(rows)).not.toContain("712345678");
  });

  it("never re-sends an STK push whose answer was lost (it may be on the buyer's phone)", async () => {
    const id = await checkout(["60.00"]);
    const { attemptId } = await startMpesaPayment(t.db, { checkoutId: id, phone: "0712340060" });
    const before = sandbox.stkTransactions().length;
    sandbox.addFault({ fault: "hang=after_commit", pathPrefix: "/mpesa/stkpush", count: 1 });
    const slow = (db: Db, psp: PspName) => getConnector(db, psp, { apiBase: sandbox.url, timeoutMs: 300 });
    await expect(sendStkPush(t.db, slow, attemptId)).rejects.toThrow(/not re-sent/);
    // The engine would retry the step: the retry refuses too, and the phone got exactly one prompt.
    await expect(sendStkPush(t.db, slow, attemptId)).rejects.toThrow(/not re-sent/);
    expect(sandbox.stkTransactions().length - before).toBe(1);
    sandbox.clearFaults();
  });

  it("a replayed or concurrent push step sends one prompt: the attempt is claimed before Daraja is called", async () => {
    const id = await checkout(["70.00"]);
    const { attemptId } = await startMpesaPayment(t.db, { checkoutId: id, phone: "0712340070" });
    const before = sandbox.stkTransactions().length;
    const racing = await Promise.allSettled([sendStkPush(t.db, connectorFor, attemptId), sendStkPush(t.db, connectorFor, attemptId)]);
    const again = await sendStkPush(t.db, connectorFor, attemptId);
    expect(sandbox.stkTransactions().length - before).toBe(1);
    const [row] = await t.db.select({ pspReference: paymentAttempts.pspReference }).from(paymentAttempts).where(eq(paymentAttempts.id, attemptId));
    const pspReference = row?.pspReference;
    // Every caller gets the one push's reference, or (racing the first before it recorded it) a stop for ops.
    expect(again).toMatchObject({ pspReference, status: "pending" });
    for (const r of racing) {
      if (r.status === "fulfilled") expect(r.value.pspReference).toBe(pspReference);
      else expect(String(r.reason)).toMatch(/not re-sent/);
    }
    expect(racing.some((r) => r.status === "fulfilled")).toBe(true);
  });

  it("a late failure of an older attempt never fails the orders of the newer one", async () => {
    const id = await checkout(["40.00"]);
    const first = await startMpesaPayment(t.db, { checkoutId: id, phone: "0712342001" });
    const pushed = await sendStkPush(t.db, connectorFor, first.attemptId);
    const wrongPin = await waitFor(async () => {
      const s = await fetchPaymentStatus(t.db, connectorFor, "mpesa", pushed.pspReference);
      return s.status === "pending" ? undefined : s;
    });
    expect(await applyAttemptOutcome(t.db, first.attemptId, fromStored(wrongPin))).toBe("failed");
    const second = await startMpesaPayment(t.db, { checkoutId: id, phone: "0712345678" });
    expect(await orderStatuses(id)).toEqual(["EXECUTING"]);
    // A second run of the first attempt applies the same failure again: ignored.
    expect(await applyAttemptOutcome(t.db, first.attemptId, fromStored(wrongPin))).toBe("ignored");
    expect(await orderStatuses(id)).toEqual(["EXECUTING"]);
    expect(second.attemptId).not.toBe(first.attemptId);
  });

  it("a failure to ask the PSP is not a payment failure: the status fetch throws (the step retries)", async () => {
    await expect(fetchPaymentStatus(t.db, connectorFor, "stripe", "pi_does_not_exist")).rejects.toThrow();
  });

  it("refuses M-Pesa for an amount that is not whole shillings, before any PSP call", async () => {
    const id = await checkout(["350.50"]);
    await expect(startMpesaPayment(t.db, { checkoutId: id, phone: "0712345678" })).rejects.toThrow(/whole Kenya shillings/);
    const [n] = await t.db.select({ n: count() }).from(paymentAttempts).where(eq(paymentAttempts.checkoutId, id));
    expect(n!.n).toBe(0);
  });

  it("rejects a number that is not an M-Pesa phone, writing nothing", async () => {
    const id = await checkout(["5.00"]);
    await expect(startMpesaPayment(t.db, { checkoutId: id, phone: "12345" })).rejects.toThrow(/Safaricom number/);
    const [n] = await t.db.select({ n: count() }).from(paymentAttempts).where(eq(paymentAttempts.checkoutId, id));
    expect(n!.n).toBe(0);
  });
});
