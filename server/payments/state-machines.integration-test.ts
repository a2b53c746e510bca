// The checkout and payment-attempt state machines on real Postgres: a move updates the row and appends one
// transition row; a move the table refuses throws invalid_transition and writes nothing; a guarded move whose
// guard fails and a move to the current state change nothing; transition rows cannot be edited.
import { and, asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkouts, checkoutTransitions, paymentAttempts, paymentAttemptTransitions, sellers } from "@/db/schema";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createMerchant, createTestCheckout } from "@/test/fixtures";
import { transitionAttempt } from "./attempt-state";
import { transitionCheckout } from "./checkout-state";

let t: TestDatabase;
let merchantId: string;

beforeAll(async () => {
  t = await createTestDatabase();
  merchantId = (await createMerchant(t.db)).id;
});
afterAll(() => t?.drop());

async function newCheckout(): Promise<string> {
  const [s] = await t.db.select().from(sellers).where(eq(sellers.merchantId, merchantId)).limit(1);
  return (await createTestCheckout(t.db, { merchantId, sellerRefs: [s!.reference], amounts: ["10.00"], currency: "USD" })).checkout_id;
}

const checkoutRows = (id: string) => t.db.select().from(checkoutTransitions).where(eq(checkoutTransitions.checkoutId, id)).orderBy(asc(checkoutTransitions.at), asc(checkoutTransitions.id));
const attemptRows = (id: string) => t.db.select().from(paymentAttemptTransitions).where(eq(paymentAttemptTransitions.attemptId, id)).orderBy(asc(paymentAttemptTransitions.at), asc(paymentAttemptTransitions.id));
const checkoutStatus = async (id: string) => (await t.db.select({ s: checkouts.status }).from(checkouts).where(eq(checkouts.id, id)))[0]!.s;

async function newAttempt(checkoutId: string) {
  const [a] = await t.db.insert(paymentAttempts).values({ checkoutId, attemptNo: 1, method: "card", psp: "stripe", idempotencyKey: `${checkoutId}:sm:1` }).returning();
  return a!;
}

describe("checkout state machine", () => {
  it("records the creation and each move, in order", async () => {
    const id = await newCheckout();
    await t.db.transaction((tx) => transitionCheckout(tx, { checkoutId: id, to: "processing", reason: "payment_submitted", data: { attemptId: "pat_x" } }));
    await t.db.transaction((tx) => transitionCheckout(tx, { checkoutId: id, to: "open", reason: "payment_failed" }));
    expect(await checkoutStatus(id)).toBe("open");
    expect((await checkoutRows(id)).map((r) => [r.fromStatus, r.toStatus, r.reason])).toEqual([
      [null, "open", "created"],
      ["open", "processing", "payment_submitted"],
      ["processing", "open", "payment_failed"],
    ]);
    expect((await checkoutRows(id))[1]!.data).toEqual({ attemptId: "pat_x" });
  });

  it("refuses a move the table does not list, and writes nothing", async () => {
    const id = await newCheckout();
    await t.db.transaction((tx) => transitionCheckout(tx, { checkoutId: id, to: "blocked", reason: "risk_blocked" }));
    await expect(t.db.transaction((tx) => transitionCheckout(tx, { checkoutId: id, to: "open", reason: "review_approved" }))).rejects.toMatchObject({ code: "invalid_transition", details: { entity: "Checkout", from: "blocked", to: "open" } });
    expect(await checkoutStatus(id)).toBe("blocked");
    expect(await checkoutRows(id)).toHaveLength(2);
  });

  it("changes nothing for a failed guard or the current state", async () => {
    const id = await newCheckout();
    expect(await t.db.transaction((tx) => transitionCheckout(tx, { checkoutId: id, to: "open", reason: "payment_failed", onlyFrom: ["processing"] }))).toEqual({ changed: false, from: "open" });
    expect(await t.db.transaction((tx) => transitionCheckout(tx, { checkoutId: id, to: "completed", reason: "payment_succeeded", onlyFrom: ["processing"] }))).toEqual({ changed: false, from: "open" });
    expect(await checkoutStatus(id)).toBe("open");
    expect(await checkoutRows(id)).toHaveLength(1);
  });

  it("an unknown checkout is not_found", async () => {
    await expect(t.db.transaction((tx) => transitionCheckout(tx, { checkoutId: "chk_nope", to: "open", reason: "payment_failed" }))).rejects.toMatchObject({ code: "not_found" });
  });
});

describe("payment attempt state machine", () => {
  it("moves with its fields, records each move, and a same-state update writes fields only", async () => {
    const a = await newAttempt(await newCheckout());
    const handed = await t.db.transaction((tx) => transitionAttempt(tx, { attemptId: a.id, to: "pending", reason: "card_session", set: { pspReference: "pi_sm_1", clientSecret: "pi_sm_1_secret" } }));
    expect(handed).toMatchObject({ changed: true, updated: true, from: "created", attempt: { status: "pending", pspReference: "pi_sm_1" } });
    const declined = await t.db.transaction((tx) => transitionAttempt(tx, { attemptId: a.id, to: "pending", reason: "card_declined", set: { failureCode: "card_declined", failureMessage: "Declined" } }));
    expect(declined).toMatchObject({ changed: false, updated: true, attempt: { status: "pending", failureCode: "card_declined" } });
    await t.db.transaction((tx) => transitionAttempt(tx, { attemptId: a.id, to: "canceled", reason: "superseded" }));
    await t.db.transaction((tx) => transitionAttempt(tx, { attemptId: a.id, to: "succeeded", reason: "psp_succeeded", set: { failureCode: null, failureMessage: null } }));
    expect((await attemptRows(a.id)).map((r) => [r.fromStatus, r.toStatus, r.reason])).toEqual([
      ["created", "pending", "card_session"],
      ["pending", "canceled", "superseded"],
      ["canceled", "succeeded", "psp_succeeded"],
    ]);
  });

  it("refuses to leave succeeded, and writes nothing", async () => {
    const a = await newAttempt(await newCheckout());
    await t.db.transaction((tx) => transitionAttempt(tx, { attemptId: a.id, to: "succeeded", reason: "psp_succeeded" }));
    await expect(t.db.transaction((tx) => transitionAttempt(tx, { attemptId: a.id, to: "failed", reason: "psp_failed", set: { failureCode: "x" } }))).rejects.toMatchObject({ code: "invalid_transition" });
    const [row] = await t.db.select().from(paymentAttempts).where(eq(paymentAttempts.id, a.id));
    expect(row).toMatchObject({ status: "succeeded", failureCode: null });
    expect(await attemptRows(a.id)).toHaveLength(1);
  });

  it("guards: only from given states, only while the PSP reference is the expected one", async () => {
    const a = await newAttempt(await newCheckout());
    await t.db.transaction((tx) => transitionAttempt(tx, { attemptId: a.id, to: "pending", reason: "card_session", set: { pspReference: "pi_sm_2" } }));
    const wrongRef = await t.db.transaction((tx) => transitionAttempt(tx, { attemptId: a.id, to: "canceled", reason: "superseded", pspReference: "pi_other" }));
    const wrongFrom = await t.db.transaction((tx) => transitionAttempt(tx, { attemptId: a.id, to: "pending", reason: "stk_claimed", onlyFrom: ["created"] }));
    expect([wrongRef.updated, wrongFrom.updated]).toEqual([false, false]);
    const [row] = await t.db.select().from(paymentAttempts).where(and(eq(paymentAttempts.id, a.id), eq(paymentAttempts.status, "pending")));
    expect(row?.pspReference).toBe("pi_sm_2");
  });
});

describe("transition rows", () => {
  it("are append-only", async () => {
    const id = await newCheckout();
    await expect(t.sql`update checkout_transitions set reason = 'x' where checkout_id = ${id}`).rejects.toThrow();
    await expect(t.sql`delete from checkout_transitions where checkout_id = ${id}`).rejects.toThrow();
    const a = await newAttempt(id);
    await t.db.transaction((tx) => transitionAttempt(tx, { attemptId: a.id, to: "pending", reason: "card_session" }));
    expect(await attemptRows(a.id)).toHaveLength(1);
    await expect(t.sql`update payment_attempt_transitions set reason = 'x' where attempt_id = ${a.id}`).rejects.toThrow();
    await expect(t.sql`delete from payment_attempt_transitions where attempt_id = ${a.id}`).rejects.toThrow();
  });
});
