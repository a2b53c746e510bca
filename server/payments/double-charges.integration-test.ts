import { TRPCError } from "@trpc/server";
import { and, count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog, doubleCharges, ledgerTransactions, paymentAttempts, sellers } from "@/db/schema";
import { accountFor, checkLedgerInvariants } from "@/server/ledger";
import { money } from "@/server/money";
import { getBalance } from "@/server/wallet/get-balance";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { callerFor, createMerchant, createUser } from "@/test/fixtures";
import { applyAttemptOutcome } from "./apply-outcome";
import { createCheckout } from "./create-checkout";
import { DOUBLE_CHARGE_NOTE_MAX } from "./double-charges.schema";

// A buyer charged twice for one checkout, end to end through the tRPC callers: the second PSP success is
// recorded as a double charge (nothing credited twice), the merchant sees it on the payments page and no
// other merchant does, ops see it in their queue and mark it refunded once, with an audit row, and the
// ledger's buyer_refunds_payable goes back to zero.

let t: TestDatabase;
let merchantA: { id: string; name: string };
let merchantB: { id: string; name: string };
let adminA: string;
let viewerA: string;
let adminB: string;
let opsUser: string;
/** Merchant A's double charge (checkout chkA), then merchant B's (chkB), recorded in that order. */
let dcA: string;
let dcB: string;
let chkA: string;
let chkB: string;

const TOTAL = "1200.00";
const TOTAL_MINOR = 120_000n;

async function code(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(TRPCError);
  return (e as TRPCError).code;
}

async function insertCardAttempt(checkoutId: string, attemptNo: number, pspReference: string, status: "pending" | "canceled") {
  const [a] = await t.db
    .insert(paymentAttempts)
    .values({ checkoutId, attemptNo, method: "card", psp: "stripe", status, idempotencyKey: `${checkoutId}:${attemptNo}`, pspReference })
    .returning();
  return a!;
}

/** A checkout paid by card attempt 1, then charged again on card attempt 2 (a second PaymentIntent). */
async function chargeTwice(merchantId: string, orderId: string): Promise<{ checkoutId: string; doubleChargeId: string }> {
  const [s] = await t.db.select().from(sellers).where(eq(sellers.merchantId, merchantId)).limit(1);
  const checkout = await createCheckout(t.db, {
    merchantId,
    input: {
      buyer_info: { email: `${orderId}@example.test` },
      return_url: "https://shop.example/r",
      payment_orders: [{ payment_order_id: orderId, seller_account: s!.reference, amount: TOTAL, currency: "KES" }],
    },
  });
  const checkoutId = checkout.body.checkout_id;
  const paid = (ref: string) => ({ psp: "stripe" as const, pspReference: ref, status: "succeeded" as const, amount: money(TOTAL_MINOR, "KES"), receipt: `ch_${ref}` });
  const first = await insertCardAttempt(checkoutId, 1, `pi_${orderId}_1`, "pending");
  expect(await applyAttemptOutcome(t.db, first.id, paid(first.pspReference!))).toBe("succeeded");
  // The second PaymentIntent was closed when the first paid, but the PSP charged it anyway.
  const second = await insertCardAttempt(checkoutId, 2, `pi_${orderId}_2`, "canceled");
  expect(await applyAttemptOutcome(t.db, second.id, paid(second.pspReference!))).toBe("double_charge");
  // Applying the same outcome again records nothing more.
  expect(await applyAttemptOutcome(t.db, second.id, paid(second.pspReference!))).toBe("double_charge");
  const rows = await t.db.select().from(doubleCharges).where(eq(doubleCharges.checkoutId, checkoutId));
  expect(rows).toHaveLength(1);
  return { checkoutId, doubleChargeId: rows[0]!.id };
}

const refundsPayable = () => getBalance(t.db, accountFor.platform("buyer_refunds_payable", "KES"));

async function writes() {
  const [audit] = await t.db.select({ n: count() }).from(auditLog);
  const [ledger] = await t.db.select({ n: count() }).from(ledgerTransactions);
  const rows = await t.db.select().from(doubleCharges).orderBy(doubleCharges.id);
  return { audit: audit!.n, ledger: ledger!.n, rows };
}

beforeAll(async () => {
  t = await createTestDatabase();
  merchantA = await createMerchant(t.db, "Alpha Traders");
  merchantB = await createMerchant(t.db, "Beta Goods");
  adminA = (await createUser(t.db, { merchantId: merchantA.id, role: "merchant_admin" })).id;
  viewerA = (await createUser(t.db, { merchantId: merchantA.id, role: "merchant_viewer" })).id;
  adminB = (await createUser(t.db, { merchantId: merchantB.id, role: "merchant_admin" })).id;
  opsUser = (await createUser(t.db, { ops: true })).id;
  ({ checkoutId: chkA, doubleChargeId: dcA } = await chargeTwice(merchantA.id, "dc-a"));
  ({ checkoutId: chkB, doubleChargeId: dcB } = await chargeTwice(merchantB.id, "dc-b"));
});
afterAll(async () => t?.drop());

describe("the merchant", () => {
  it("sees its double charge, and the payments list flags the checkout's orders", async () => {
    const mine = await callerFor(t.db, viewerA).payments.doubleCharges();
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ id: dcA, checkoutId: chkA, amount: TOTAL, currency: "KES", psp: "stripe", pspReference: "pi_dc-a_2", receipt: "ch_pi_dc-a_2", status: "awaiting_refund", resolutionNote: null });
    expect(await callerFor(t.db, viewerA).payments.doubleCharges({ checkoutId: chkA })).toHaveLength(1);

    const list = await callerFor(t.db, viewerA).payments.list({ limit: 25 });
    expect(list.items.map((o) => [o.payment_order_id, o.status, o.doubleCharge])).toEqual([["dc-a", "SUCCESS", "awaiting_refund"]]);
    // The REST shape (payments.get reuses it) is unchanged.
    expect(await callerFor(t.db, viewerA).payments.get({ paymentOrderId: "dc-a" })).not.toHaveProperty("doubleCharge");
  });

  it("never sees another merchant's double charge", async () => {
    const theirs = await callerFor(t.db, adminB).payments.doubleCharges();
    expect(theirs.map((d) => [d.id, d.checkoutId])).toEqual([[dcB, chkB]]);
    expect(await callerFor(t.db, adminB).payments.doubleCharges({ checkoutId: chkA })).toEqual([]);
    expect(await code(callerFor(t.db, adminB, merchantA.id).payments.doubleCharges())).toBe("NOT_FOUND");
    expect((await callerFor(t.db, adminB).payments.list({ limit: 25 })).items.map((o) => o.payment_order_id)).toEqual(["dc-b"]);
  });

  it("owes nothing twice: the seller was credited once, the extra charge sits in buyer_refunds_payable", async () => {
    expect(await refundsPayable()).toEqual(money(2n * TOTAL_MINOR, "KES"));
    const [credits] = await t.db.select({ n: count() }).from(ledgerTransactions).where(eq(ledgerTransactions.source, "payment_order"));
    expect(credits!.n).toBe(2); // one per checkout, not per charge
  });
});

describe("the ops procedures", () => {
  it("refuse merchant users (even on their own double charge) and signed-out callers, and write nothing", async () => {
    const before = await writes();
    for (const user of [viewerA, adminA, adminB]) {
      expect(await code(callerFor(t.db, user).doubleCharges.queue())).toBe("FORBIDDEN");
      expect(await code(callerFor(t.db, user).doubleCharges.markRefunded({ id: dcA, note: "re_mine" }))).toBe("FORBIDDEN");
    }
    expect(await code(callerFor(t.db, adminB).doubleCharges.markRefunded({ id: dcA, note: "re_theirs" }))).toBe("FORBIDDEN");
    expect(await code(callerFor(t.db, null).doubleCharges.markRefunded({ id: dcA, note: "re_anon" }))).toBe("UNAUTHORIZED");
    expect(await writes()).toEqual(before);
  });

  it("list the queue oldest first, with the merchant", async () => {
    const queue = await callerFor(t.db, opsUser).doubleCharges.queue();
    expect(queue.map((d) => [d.id, d.merchantName, d.amount, d.status])).toEqual([
      [dcA, "Alpha Traders", TOTAL, "awaiting_refund"],
      [dcB, "Beta Goods", TOTAL, "awaiting_refund"],
    ]);
  });

  it("need a note (trimmed, at most 500 characters) to mark one refunded; a refused call writes nothing", async () => {
    const before = await writes();
    const ops = callerFor(t.db, opsUser);
    expect(await code(ops.doubleCharges.markRefunded({ id: dcA, note: "" }))).toBe("BAD_REQUEST");
    expect(await code(ops.doubleCharges.markRefunded({ id: dcA, note: "   " }))).toBe("BAD_REQUEST");
    expect(await code(ops.doubleCharges.markRefunded({ id: dcA, note: "x".repeat(DOUBLE_CHARGE_NOTE_MAX + 1) }))).toBe("BAD_REQUEST");
    expect(await code(ops.doubleCharges.markRefunded({ id: "dch_nope", note: "re_1" }))).toBe("NOT_FOUND");
    // Postgres text cannot hold NUL: refused as bad input, never a 500 from the database.
    expect(await code(ops.doubleCharges.markRefunded({ id: dcA, note: "re_\u0000x" }))).toBe("BAD_REQUEST");
    expect(await code(ops.doubleCharges.markRefunded({ id: "dch_\u0000", note: "re_1" }))).toBe("BAD_REQUEST");
    expect(await code(ops.doubleCharges.markRefunded({ id: dcA, note: 42 as unknown as string }))).toBe("BAD_REQUEST");
    expect(await code(ops.doubleCharges.queue({ limit: 1e12 }))).toBe("BAD_REQUEST");
    expect(await code(callerFor(t.db, viewerA).payments.doubleCharges({ checkoutId: "chk_\u0000" }))).toBe("BAD_REQUEST");
    expect(await writes()).toEqual(before);
  });

  it("mark it refunded once, with an audit row and the ledger reversal, and refuse a second time", async () => {
    const ops = callerFor(t.db, opsUser);
    const marked = await ops.doubleCharges.markRefunded({ id: dcA, note: "  re_3Pq9 refunded in the Stripe dashboard  " });
    expect(marked).toMatchObject({ id: dcA, status: "refunded", resolutionNote: "re_3Pq9 refunded in the Stripe dashboard" });
    expect(marked.resolvedAt).toBeInstanceOf(Date);

    const audit = await t.db.select().from(auditLog).where(and(eq(auditLog.targetType, "double_charge"), eq(auditLog.targetId, dcA)));
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorUserId: opsUser, merchantId: merchantA.id, action: "double_charge.marked_refunded" });
    expect(audit[0]!.data).toMatchObject({ note: "re_3Pq9 refunded in the Stripe dashboard", pspReference: "pi_dc-a_2", amountMinor: TOTAL_MINOR.toString(), currency: "KES" });
    expect(await refundsPayable()).toEqual(money(TOTAL_MINOR, "KES")); // B's is still owed

    const before = await writes();
    expect(await code(ops.doubleCharges.markRefunded({ id: dcA, note: "again" }))).toBe("CONFLICT");
    expect(await writes()).toEqual(before);

    // Off the queue, still in the full list; the merchant sees it refunded with the note.
    expect((await ops.doubleCharges.queue()).map((d) => d.id)).toEqual([dcB]);
    expect((await ops.doubleCharges.queue({ includeRefunded: true })).map((d) => [d.id, d.status])).toEqual([
      [dcA, "refunded"],
      [dcB, "awaiting_refund"],
    ]);
    const mine = await callerFor(t.db, viewerA).payments.doubleCharges();
    expect(mine[0]).toMatchObject({ status: "refunded", resolutionNote: "re_3Pq9 refunded in the Stripe dashboard" });
    expect((await callerFor(t.db, viewerA).payments.list({ limit: 25 })).items[0]!.doubleCharge).toBe("refunded");
  });

  it("bring buyer_refunds_payable back to zero once every double charge is refunded", async () => {
    await callerFor(t.db, opsUser).doubleCharges.markRefunded({ id: dcB, note: "re_beta" });
    expect(await refundsPayable()).toEqual(money(0n, "KES"));
    // PSP clearing holds just the two paid checkouts again.
    expect(await getBalance(t.db, accountFor.pspClearing("stripe", "KES"))).toEqual(money(2n * TOTAL_MINOR, "KES"));
    expect(await callerFor(t.db, opsUser).doubleCharges.queue()).toEqual([]);
    expect((await checkLedgerInvariants(t.db)).ok).toBe(true);
  });
});
