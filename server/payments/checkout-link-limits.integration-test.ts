import { TRPCError } from "@trpc/server";
import { and, eq, inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { outboxEvents, paymentAttempts, paymentOrders, pspEvents, sellers } from "@/db/schema";
import { env } from "@/server/env.js";
import { getConnector, type PspName } from "@/server/psp";
import type { Sandbox } from "@/sandbox";
import { confirmInCardField, paymentIntentOf, startTestSandbox, waitFor } from "@/sandbox/testing";
import { createCaller } from "@/server/trpc/root";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createMerchant, createTestCheckout } from "@/test/fixtures";
import { applyAttemptOutcome } from "./apply-outcome";
import {
  ATTEMPTS_PER_CHECKOUT_MAX,
  ATTEMPTS_PER_CHECKOUT_PER_CLIENT_PER_HOUR,
  ATTEMPTS_PER_CHECKOUT_PER_HOUR,
  CARD_DECLINES_PER_ATTEMPT_MAX,
  CARD_DECLINES_PER_CHECKOUT_MAX,
  CARD_DECLINES_PER_CLIENT_PER_HOUR,
  CARD_DECLINES_PER_FINGERPRINT_PER_HOUR,
  CARD_RETRY_COOLDOWN_S,
  MPESA_PUSH_COOLDOWN_S,
  MPESA_PUSH_TIMEOUT_S,
  MPESA_PUSHES_PER_CHECKOUT_PER_HOUR,
  MPESA_PUSHES_PER_PHONE_PER_HOUR,
  MPESA_PUSHES_WITHOUT_COOLDOWN,
} from "./attempt-limits";
import { cancelIfDeclineCapped, THREE_DS_ABANDONED_AFTER_MS } from "./card-declines";
import { ZCreateCheckoutInput } from "./create-checkout.schema";
import { fetchPaymentStatus, fromStored, sendStkPush } from "./execution";
import { buildOpenApiDocument } from "./openapi";

// What a holder of a hosted checkout link can and cannot do, through the real checkout procedures (tRPC
// caller with the client IP, as the HTTP handler builds it), real Postgres and the PSP sandbox (real
// stripe SDK, real Daraja client). The durable execution is played step by step with its own functions
// (send the STK push, ask Daraja, apply the outcome). Every refusal is checked to have written nothing:
// no attempt, no execution enqueued, no PaymentIntent and no STK push at the sandbox.

let t: TestDatabase;
let sandbox: Sandbox;
let merchantId: string;
let sellerRef: string;
let seq = 0;
const connectorFor = (db: Db, psp: PspName) => getConnector(db, psp, { apiBase: sandbox.url });
const caller = (clientIp: string) => createCaller({ db: t.db, userId: null, requestedMerchantId: undefined, requestId: `test-${++seq}`, clientIp, connectorFor });
const ip = () => `10.20.${Math.floor(seq / 250)}.${(seq++ % 250) + 1}`;

beforeAll(async () => {
  t = await createTestDatabase();
  sandbox = await startTestSandbox();
  merchantId = (await createMerchant(t.db, "Limits Shop")).id;
  const [s] = await t.db.select().from(sellers).where(eq(sellers.merchantId, merchantId));
  sellerRef = s!.reference;
});
afterAll(async () => {
  await sandbox?.stop();
  await t?.drop();
});

async function checkout(opts: { amount?: string; phone?: string; requireBuyerPhone?: boolean } = {}): Promise<string> {
  seq += 1;
  const view = await createTestCheckout(t.db, {
    merchantId,
    sellerRefs: [sellerRef],
    amounts: [opts.amount ?? "100.00"],
    buyer: { email: `limits${seq}@example.test`, ...(opts.phone ? { phone: opts.phone } : {}) },
    extra: opts.requireBuyerPhone ? { payment_method_options: { mpesa: { require_buyer_phone: true } } } : {},
  });
  return view.checkout_id;
}

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(TRPCError);
  return { code: (e as TRPCError).code, message: (e as TRPCError).message };
}

const attemptsOf = (checkoutId: string) => t.db.select().from(paymentAttempts).where(eq(paymentAttempts.checkoutId, checkoutId)).orderBy(paymentAttempts.attemptNo);
async function executionsOf(checkoutId: string) {
  const ids = (await attemptsOf(checkoutId)).map((a) => a.id);
  if (ids.length === 0) return [];
  return t.db.select().from(outboxEvents).where(and(eq(outboxEvents.name, "payment/attempt.execute"), inArray(sql`${outboxEvents.data}->>'attemptId'`, ids)));
}
const pisOf = (checkoutId: string) => sandbox.stripeObjects("payment_intent").filter((pi) => (pi.metadata as Record<string, string> | undefined)?.checkout_id === checkoutId);
const piStatus = (id: string) => sandbox.stripeObjects("payment_intent").find((pi) => pi.id === id)?.status;
const piOf = paymentIntentOf;
const stkTo = (phone: string) => sandbox.stkTransactions().filter((s) => s.phone === phone).length;

/** What a refused action must leave as it was. */
async function snapshot(checkoutId: string) {
  return { attempts: (await attemptsOf(checkoutId)).map((a) => [a.id, a.status, a.cardDeclines]), executions: (await executionsOf(checkoutId)).length, pis: pisOf(checkoutId).map((p) => [p.id, p.status]), stk: sandbox.stkTransactions().length };
}

/** The durable execution's M-Pesa steps: send the push, ask Daraja until it answers, apply the answer. */
async function pushAndAnswer(attemptId: string) {
  const pushed = await sendStkPush(t.db, connectorFor, attemptId);
  const answer = await waitFor(async () => {
    const s = await fetchPaymentStatus(t.db, connectorFor, "mpesa", pushed.pspReference);
    return s.status === "pending" ? undefined : s;
  });
  await applyAttemptOutcome(t.db, attemptId, fromStored(answer));
  return answer;
}

/** Moves the checkout's attempts back in time (as if the buyer had waited). */
async function age(checkoutId: string, seconds: number, column: "created_at" | "updated_at" = "created_at") {
  await t.sql.unsafe(`update payment_attempts set ${column} = ${column} - make_interval(secs => $1) where checkout_id = $2`, [seconds, checkoutId]);
}

/** M-Pesa test phones that cancel (…1032), one per call so per-phone limits do not mix tests. */
const cancellingPhone = () => `07${10 + (++seq % 89)}341032`;

/** A card number of its own (its own fingerprint): not a test card, so the sandbox declines it (test_mode_live_card). */
function declinedCard(): string {
  const body = `4000${String(Math.floor(Math.random() * 1e11)).padStart(11, "0")}`;
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return `${body}${(10 - (sum % 10)) % 10}`;
}

/** The PSP-hosted card field in a tab (sandbox/testing.ts). */
const fieldConfirm = (clientSecret: string, number: string) => confirmInCardField(sandbox.url, env.STRIPE_PUBLISHABLE_KEY, clientSecret, number);

/** The checkout page's card flow with a card that declines: prepare, the field confirms at the PSP, the page submits. */
async function declineOnPage(client: string, checkoutId: string, number = declinedCard()) {
  const session = await caller(client).checkout.prepareCard({ checkoutId });
  expect((await fieldConfirm(session.clientSecret, number)).error?.code).toBe("card_declined");
  await caller(client).checkout.submitCard({ checkoutId, paymentIntentId: piOf(session.clientSecret) });
  return session;
}

describe("1. an STK push goes only to the phone the merchant gave", () => {
  it("refuses another phone with a clear validation error and pushes nothing; the buyer's phone in any format works", async () => {
    const id = await checkout({ phone: "254712345678" });
    const view = await caller(ip()).checkout.get({ checkoutId: id });
    expect(view).toMatchObject({ mpesaAvailable: true, mpesaPhoneHint: "…678" });
    expect(JSON.stringify(view)).not.toContain("712345678");
    const before = await snapshot(id);
    const r = await refusal(caller(ip()).checkout.startMpesa({ checkoutId: id, phone: "0799 000 111" }));
    expect(r.code).toBe("BAD_REQUEST");
    expect(r.message).toContain("ending …678");
    expect(await snapshot(id)).toEqual(before);
    expect(before.attempts).toEqual([]);

    const ok = await caller(ip()).checkout.startMpesa({ checkoutId: id, phone: "0712 345 678" });
    expect((await attemptsOf(id)).map((a) => [a.id, a.method, a.phoneHint])).toEqual([[ok.attemptId, "mpesa", "…678"]]);
  });

  it("a merchant phone that is not an M-Pesa number makes M-Pesa unavailable, not open to any phone", async () => {
    const id = await checkout({ phone: "+447700900123" });
    expect(await caller(ip()).checkout.get({ checkoutId: id })).toMatchObject({ mpesaAvailable: false, mpesaPhoneHint: null });
    expect((await refusal(caller(ip()).checkout.startMpesa({ checkoutId: id, phone: "0712345678" }))).code).toBe("BAD_REQUEST");
    expect(await attemptsOf(id)).toEqual([]);
  });

  it("payment_method_options.mpesa.require_buyer_phone makes buyer_info.phone (a Safaricom number) required, and is in the OpenAPI document", async () => {
    const base = { buyer_info: { email: "r@example.test" }, return_url: "https://shop.example/r", payment_orders: [{ payment_order_id: "r1", seller_account: sellerRef, amount: "10.00", currency: "KES" }] };
    const required = { payment_method_options: { mpesa: { require_buyer_phone: true } } };
    const missing = ZCreateCheckoutInput.safeParse({ ...base, ...required });
    expect(missing.success).toBe(false);
    expect(missing.error!.issues.map((i) => i.path.join("."))).toEqual(["buyer_info.phone"]);
    expect(ZCreateCheckoutInput.safeParse({ ...base, ...required, buyer_info: { ...base.buyer_info, phone: "+447700900123" } }).success).toBe(false);
    expect(ZCreateCheckoutInput.safeParse({ ...base, ...required, buyer_info: { ...base.buyer_info, phone: "254712345678" } }).success).toBe(true);
    const doc = JSON.stringify(buildOpenApiDocument("http://localhost"));
    expect(doc).toContain("require_buyer_phone");

    const id = await checkout({ phone: "254712340001", requireBuyerPhone: true });
    expect((await refusal(caller(ip()).checkout.startMpesa({ checkoutId: id, phone: "0712345678" }))).code).toBe("BAD_REQUEST");
    expect(await attemptsOf(id)).toEqual([]);
  });
});

describe("2. STK pushes are limited per checkout and per phone", () => {
  it(`per checkout: ${MPESA_PUSHES_WITHOUT_COOLDOWN} pushes at once, then one per ${MPESA_PUSH_COOLDOWN_S} s, at most ${MPESA_PUSHES_PER_CHECKOUT_PER_HOUR} an hour`, async () => {
    const id = await checkout();
    const client = ip();
    const phone = cancellingPhone();
    for (let i = 0; i < MPESA_PUSHES_WITHOUT_COOLDOWN; i++) {
      const { attemptId } = await caller(client).checkout.startMpesa({ checkoutId: id, phone });
      expect((await pushAndAnswer(attemptId)).failure?.code).toBe("1032");
    }
    const before = await snapshot(id);
    const wait = await refusal(caller(client).checkout.startMpesa({ checkoutId: id, phone }));
    expect(wait.code).toBe("TOO_MANY_REQUESTS");
    expect(wait.message).toMatch(/^Wait \d+ s before sending another M-Pesa request\.$/);
    expect(await snapshot(id)).toEqual(before);

    for (let i = MPESA_PUSHES_WITHOUT_COOLDOWN; i < MPESA_PUSHES_PER_CHECKOUT_PER_HOUR; i++) {
      await age(id, MPESA_PUSH_COOLDOWN_S + 1);
      const { attemptId } = await caller(client).checkout.startMpesa({ checkoutId: id, phone: cancellingPhone() });
      await pushAndAnswer(attemptId);
    }
    await age(id, MPESA_PUSH_COOLDOWN_S + 1);
    const full = await snapshot(id);
    const hour = await refusal(caller(ip()).checkout.startMpesa({ checkoutId: id, phone: cancellingPhone() }));
    expect(hour.code).toBe("TOO_MANY_REQUESTS");
    expect(hour.message).toContain("Too many M-Pesa requests for this checkout");
    expect(await snapshot(id)).toEqual(full);
    expect(full.attempts).toHaveLength(MPESA_PUSHES_PER_CHECKOUT_PER_HOUR);
  });

  it(`per phone: at most ${MPESA_PUSHES_PER_PHONE_PER_HOUR} pushes an hour to one phone across checkouts; another phone is not affected`, async () => {
    const victim = "254712348765";
    for (let i = 0; i < MPESA_PUSHES_PER_PHONE_PER_HOUR; i++) {
      const { attemptId } = await caller(ip()).checkout.startMpesa({ checkoutId: await checkout(), phone: "0712348765" });
      await sendStkPush(t.db, connectorFor, attemptId);
    }
    expect(stkTo(victim)).toBe(MPESA_PUSHES_PER_PHONE_PER_HOUR);
    const id = await checkout();
    const r = await refusal(caller(ip()).checkout.startMpesa({ checkoutId: id, phone: "+254 712 348 765" }));
    expect(r.code).toBe("TOO_MANY_REQUESTS");
    expect(r.message).toContain("sent to this phone");
    expect(await attemptsOf(id)).toEqual([]);
    expect(await executionsOf(id)).toEqual([]);
    expect(stkTo(victim)).toBe(MPESA_PUSHES_PER_PHONE_PER_HOUR);
    await caller(ip()).checkout.startMpesa({ checkoutId: id, phone: "0712348766" });
    expect(await attemptsOf(id)).toHaveLength(1);
  });
});

describe("3. attempts are limited per checkout and per client, so a burst cannot use up the checkout", () => {
  it(`one client gets ${ATTEMPTS_PER_CHECKOUT_PER_CLIENT_PER_HOUR} attempts an hour, the checkout ${ATTEMPTS_PER_CHECKOUT_PER_HOUR}, far below the ${ATTEMPTS_PER_CHECKOUT_MAX} cap`, async () => {
    const id = await checkout();
    const holder = ip();
    const buyer = ip();
    // The holder switches card -> M-Pesa -> card … as fast as the push answers come back.
    const cycle = async (client: string) => {
      await caller(client).checkout.prepareCard({ checkoutId: id });
      await age(id, MPESA_PUSH_COOLDOWN_S + 1);
      const { attemptId } = await caller(client).checkout.startMpesa({ checkoutId: id, phone: cancellingPhone() });
      await pushAndAnswer(attemptId);
    };
    await cycle(holder);
    await cycle(holder);
    await caller(holder).checkout.prepareCard({ checkoutId: id });
    expect(await attemptsOf(id)).toHaveLength(ATTEMPTS_PER_CHECKOUT_PER_CLIENT_PER_HOUR);

    await age(id, MPESA_PUSH_COOLDOWN_S + 1);
    const before = await snapshot(id);
    const r = await refusal(caller(holder).checkout.startMpesa({ checkoutId: id, phone: cancellingPhone() }));
    expect(r.code).toBe("TOO_MANY_REQUESTS");
    expect(r.message).toContain("from your connection");
    // Refused before the PSP was asked: the buyer's card PaymentIntent is untouched.
    expect(await snapshot(id)).toEqual(before);
    const card = (await attemptsOf(id)).at(-1)!;
    expect([card.method, card.status, piStatus(card.pspReference!)]).toEqual(["card", "pending", "requires_payment_method"]);

    // Another client (the buyer) still can, up to the checkout's hour.
    const { attemptId } = await caller(buyer).checkout.startMpesa({ checkoutId: id, phone: cancellingPhone() });
    await pushAndAnswer(attemptId);
    await cycle(buyer);
    expect(await attemptsOf(id)).toHaveLength(ATTEMPTS_PER_CHECKOUT_PER_HOUR);
    const full = await snapshot(id);
    const hour = await refusal(caller(ip()).checkout.prepareCard({ checkoutId: id }));
    expect(hour.code).toBe("TOO_MANY_REQUESTS");
    expect(hour.message).toContain("Too many payment attempts on this checkout");
    expect(await snapshot(id)).toEqual(full);
    expect(full.attempts.length).toBeLessThan(ATTEMPTS_PER_CHECKOUT_MAX);
  });
});

describe("4. no anonymous action cancels a payment that may be in the buyer's hands", () => {
  it("switching from card is refused while the PaymentIntent waits for 3-D Secure, and after it succeeded: the attempt is left alone", async () => {
    for (const [number, status] of [
      ["4000002760003184", "requires_action"],
      ["4242424242424242", "succeeded"],
    ]) {
      const id = await checkout();
      const session = await caller(ip()).checkout.prepareCard({ checkoutId: id });
      expect((await fieldConfirm(session.clientSecret, number!)).status).toBe(status);
      const before = await snapshot(id);
      const r = await refusal(caller(ip()).checkout.startMpesa({ checkoutId: id, phone: "0712345678" }));
      expect(r.code).toBe("CONFLICT");
      expect(r.message).toMatch(/3-D Secure|has gone through/);
      // Nothing is canceled or started anew; a PaymentIntent that succeeded is followed (its execution starts).
      expect(await snapshot(id)).toEqual({ ...before, executions: before.executions + (status === "succeeded" ? 1 : 0) });
      expect((await attemptsOf(id)).map((a) => a.status)).toEqual(["pending"]);
      expect(await t.db.select().from(outboxEvents).where(eq(outboxEvents.name, "payment/attempt.cancel"))).toEqual([]);
    }
  });

  it("a 3-D Secure challenge abandoned for 10 minutes no longer blocks the switch: it is canceled at the PSP first", async () => {
    const id = await checkout();
    const session = await caller(ip()).checkout.prepareCard({ checkoutId: id });
    expect((await fieldConfirm(session.clientSecret, "4000002760003184")).status).toBe("requires_action");
    // The buyer never came back from the challenge.
    await t.db.update(paymentAttempts).set({ createdAt: new Date(Date.now() - THREE_DS_ABANDONED_AFTER_MS - 60_000) }).where(eq(paymentAttempts.id, session.attemptId));
    const { attemptId } = await caller(ip()).checkout.startMpesa({ checkoutId: id, phone: "0712345678" });
    expect(piStatus(piOf(session.clientSecret))).toBe("canceled");
    expect((await attemptsOf(id)).find((a) => a.id === attemptId)?.method).toBe("mpesa");
  });

  it("switching from an unconfirmed card PaymentIntent cancels it at the PSP first, then supersedes it", async () => {
    const id = await checkout();
    const session = await caller(ip()).checkout.prepareCard({ checkoutId: id });
    const { attemptId } = await caller(ip()).checkout.startMpesa({ checkoutId: id, phone: "0712345678" });
    expect(piStatus(piOf(session.clientSecret))).toBe("canceled");
    expect((await attemptsOf(id)).map((a) => [a.id, a.method, a.status])).toEqual([
      [session.attemptId, "card", "canceled"],
      [attemptId, "mpesa", "created"],
    ]);
    // The stale card form cannot pay it any more, and the page cannot get it back.
    expect((await fieldConfirm(session.clientSecret, "4242424242424242")).error?.code).toBe("payment_intent_unexpected_state");
    expect((await refusal(caller(ip()).checkout.prepareCard({ checkoutId: id }))).code).toBe("CONFLICT");
  });

  it("a pending STK push is not replaced by a push to another phone; the same phone gets the same push back", async () => {
    const id = await checkout();
    const first = await caller(ip()).checkout.startMpesa({ checkoutId: id, phone: "0712341037" });
    await sendStkPush(t.db, connectorFor, first.attemptId);
    const before = await snapshot(id);
    const r = await refusal(caller(ip()).checkout.startMpesa({ checkoutId: id, phone: "0799111222" }));
    expect(r.code).toBe("CONFLICT");
    expect(r.message).toContain("waiting on the phone ending …037");
    expect(await snapshot(id)).toEqual(before);
    expect((await caller(ip()).checkout.startMpesa({ checkoutId: id, phone: "254712341037" })).attemptId).toBe(first.attemptId);
    expect((await refusal(caller(ip()).checkout.prepareCard({ checkoutId: id }))).code).toBe("CONFLICT");
    expect(await snapshot(id)).toEqual(before);
  });

  it(`after ${MPESA_PUSH_TIMEOUT_S} s an unanswered push is asked about: Daraja's answer (timeout) is applied, then a new push may start`, async () => {
    const id = await checkout();
    const first = await caller(ip()).checkout.startMpesa({ checkoutId: id, phone: "0712341037" });
    const pushed = await sendStkPush(t.db, connectorFor, first.attemptId);
    await waitFor(async () => ((await fetchPaymentStatus(t.db, connectorFor, "mpesa", pushed.pspReference)).status === "pending" ? undefined : true));
    await age(id, MPESA_PUSH_TIMEOUT_S + 1);
    const second = await caller(ip()).checkout.startMpesa({ checkoutId: id, phone: "0712345678" });
    expect(second.attemptId).not.toBe(first.attemptId);
    const rows = await attemptsOf(id);
    expect(rows.map((a) => [a.status, a.failureCode])).toEqual([
      ["failed", "1037"],
      ["created", null],
    ]);
  });
});

describe("5. card declines are limited per PaymentIntent, checkout, client and card", () => {
  it(`after ${CARD_DECLINES_PER_ATTEMPT_MAX} declines the PaymentIntent is canceled and not reused; a fresh one comes after ${CARD_RETRY_COOLDOWN_S} s`, async () => {
    const id = await checkout();
    const client = ip();
    const session = await caller(client).checkout.prepareCard({ checkoutId: id });
    for (let i = 0; i < CARD_DECLINES_PER_ATTEMPT_MAX; i++) await declineOnPage(client, id);
    const pi = piOf(session.clientSecret);
    expect(piStatus(pi)).toBe("canceled");
    const [retired] = await attemptsOf(id);
    expect([retired!.status, retired!.failureCode, retired!.cardDeclines]).toEqual(["canceled", "too_many_declines", CARD_DECLINES_PER_ATTEMPT_MAX]);
    // The orders an execution had taken for it fail with it (nothing can pay that PaymentIntent now).
    expect((await t.db.select({ s: paymentOrders.status }).from(paymentOrders).where(eq(paymentOrders.checkoutId, id))).map((o) => o.s)).toEqual(["FAILED"]);
    const view = await caller(client).checkout.get({ checkoutId: id });
    expect(view.attempt).toMatchObject({ method: "card", retiredForDeclines: true });
    expect(view.attempt!.failureMessage).toContain("reload the page");

    const before = await snapshot(id);
    const cool = await refusal(caller(ip()).checkout.prepareCard({ checkoutId: id }));
    expect(cool.code).toBe("TOO_MANY_REQUESTS");
    expect(cool.message).toMatch(/^Several cards were declined\. Wait \d+ s before trying another card, or pay with M-Pesa\.$/);
    expect(await snapshot(id)).toEqual(before);

    await age(id, CARD_RETRY_COOLDOWN_S + 1, "updated_at");
    const fresh = await caller(client).checkout.prepareCard({ checkoutId: id });
    expect(piOf(fresh.clientSecret)).not.toBe(pi);
    expect(pisOf(id)).toHaveLength(2);
  });

  it(`after ${CARD_DECLINES_PER_CHECKOUT_MAX} declines on a checkout it takes no more card payments`, async () => {
    const id = await checkout();
    for (let i = 0; i < CARD_DECLINES_PER_CHECKOUT_MAX; i++) {
      if (i > 0 && i % CARD_DECLINES_PER_ATTEMPT_MAX === 0) await age(id, CARD_RETRY_COOLDOWN_S + 1, "updated_at");
      await declineOnPage(ip(), id);
    }
    expect((await caller(ip()).checkout.get({ checkoutId: id })).attempt!.failureMessage).toContain("no longer takes card payments");
    await age(id, CARD_RETRY_COOLDOWN_S + 1, "updated_at");
    const before = await snapshot(id);
    const r = await refusal(caller(ip()).checkout.prepareCard({ checkoutId: id }));
    expect(r.code).toBe("CONFLICT");
    expect(r.message).toContain("no longer takes card payments");
    expect(await snapshot(id)).toEqual(before);
    expect(before.pis.map(([, s]) => s)).toEqual(["canceled", "canceled"]);
    // M-Pesa still can.
    await caller(ip()).checkout.startMpesa({ checkoutId: id, phone: "0712345678" });
  });

  it(`one card declined ${CARD_DECLINES_PER_FINGERPRINT_PER_HOUR} times in an hour, on any checkouts: the PaymentIntent it reaches the limit on is retired`, async () => {
    const ids: string[] = [];
    const stolen = declinedCard();
    for (let i = 0; i < CARD_DECLINES_PER_FINGERPRINT_PER_HOUR; i++) {
      ids.push(await checkout());
      await declineOnPage(ip(), ids[i]!, stolen);
    }
    const statuses = ids.map((id) => pisOf(id)[0]!.status);
    expect(statuses).toEqual([...Array(CARD_DECLINES_PER_FINGERPRINT_PER_HOUR - 1).fill("requires_payment_method"), "canceled"]);
    expect((await attemptsOf(ids.at(-1)!))[0]!.failureCode).toBe("too_many_declines");
  });

  it(`a client whose ${CARD_DECLINES_PER_CLIENT_PER_HOUR} declined tries this hour gets no new card form; another client does`, async () => {
    const tester = ip();
    let last = "";
    for (let i = 0; i < CARD_DECLINES_PER_CLIENT_PER_HOUR; i++) {
      if (i % 2 === 0) last = await checkout();
      await declineOnPage(tester, last);
    }
    expect(pisOf(last)[0]!.status).toBe("canceled");
    const id = await checkout();
    const r = await refusal(caller(tester).checkout.prepareCard({ checkoutId: id }));
    expect(r.code).toBe("TOO_MANY_REQUESTS");
    expect(r.message).toContain("from your connection");
    expect(await attemptsOf(id)).toEqual([]);
    expect(pisOf(id)).toEqual([]);
    await caller(ip()).checkout.prepareCard({ checkoutId: id });
    expect(pisOf(id)).toHaveLength(1);
  });

  it("declines made straight at the PSP (never submitted to us) are counted when the page is next prepared", async () => {
    const id = await checkout();
    const session = await caller(ip()).checkout.prepareCard({ checkoutId: id });
    for (let i = 0; i < CARD_DECLINES_PER_ATTEMPT_MAX; i++) await fieldConfirm(session.clientSecret, declinedCard());
    expect((await refusal(caller(ip()).checkout.prepareCard({ checkoutId: id }))).code).toBe("TOO_MANY_REQUESTS");
    expect(piStatus(piOf(session.clientSecret))).toBe("canceled");
    expect(pisOf(id)).toHaveLength(1);
  });

  it("a success after declines is never canceled, even past the limit", async () => {
    const id = await checkout();
    const client = ip();
    const session = await caller(client).checkout.prepareCard({ checkoutId: id });
    const pi = piOf(session.clientSecret);
    for (let i = 0; i < CARD_DECLINES_PER_ATTEMPT_MAX; i++) await fieldConfirm(session.clientSecret, declinedCard());
    expect((await fieldConfirm(session.clientSecret, "4242424242424242")).status).toBe("succeeded");
    await caller(client).checkout.submitCard({ checkoutId: id, paymentIntentId: pi });
    expect(piStatus(pi)).toBe("succeeded");
    expect((await attemptsOf(id)).map((a) => a.status)).toEqual(["pending"]);
    expect(await executionsOf(id)).toHaveLength(1);
  });

  it("webhook path: at the per-attempt limit of stored payment_failed events, the decline's application enqueues the PSP cancel", async () => {
    const id = await checkout();
    const session = await caller(ip()).checkout.prepareCard({ checkoutId: id });
    const [attempt] = await attemptsOf(id);
    const store = (n: number) =>
      t.db.insert(pspEvents).values({ psp: "stripe", eventId: `evt_test_${id}_${n}`, eventType: "payment_intent.payment_failed", objectId: piOf(session.clientSecret), rawBody: "{}", payload: {}, status: "processed", processedAt: new Date() });
    for (let i = 1; i < CARD_DECLINES_PER_ATTEMPT_MAX; i++) await store(i);
    expect(await t.db.transaction((tx) => cancelIfDeclineCapped(tx, attempt!))).toBe(false);
    await store(CARD_DECLINES_PER_ATTEMPT_MAX);
    // Applying the decline (as the execution does after the PSP reports it) is what enqueues the cancel.
    const decline = { psp: "stripe" as const, pspReference: piOf(session.clientSecret), status: "failed" as const, failure: { code: "card_declined", message: "Your card was declined." } };
    expect(await applyAttemptOutcome(t.db, attempt!.id, decline)).toBe("failed");
    const [cancel] = await t.db.select().from(outboxEvents).where(eq(outboxEvents.id, `attempt-cancel:${attempt!.id}:declines`));
    expect(cancel?.name).toBe("payment/attempt.cancel");
  });
});
