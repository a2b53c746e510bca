// The real `stripe` SDK (through our connector, and directly) against the PSP sandbox: every test card,
// every fault, idempotency replay, refunds, Connect, balance transactions. psp_attempts is checked too.
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { pspAttempts } from "@/db/schema";
import { money } from "@/server/money";
import { startTestSandbox } from "@/sandbox/testing";
import type { Sandbox } from "@/sandbox/index";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createStripeConnector } from "@/server/psp";
import { PspError } from "@/server/psp/errors";
import type { StripeConnector } from "./connector";

const TIMEOUT_MS = 1_500;
let sandbox: Sandbox;
let t: TestDatabase;
let stripe: StripeConnector;
let sdk: Stripe;
let seq = 0;
const key = (label: string) => `test_${label}_${++seq}_${Date.now()}`;
const usd = (n: bigint) => money(n, "USD");

beforeAll(async () => {
  [sandbox, t] = await Promise.all([startTestSandbox(), createTestDatabase()]);
  stripe = createStripeConnector(t.db, { apiBase: sandbox.url, timeoutMs: TIMEOUT_MS });
  sdk = new Stripe("sk_test_sandbox_paybridge_dev", { host: "127.0.0.1", port: sandbox.port, protocol: "http", timeout: TIMEOUT_MS, maxNetworkRetries: 0 });
});
afterAll(async () => {
  await sandbox?.stop();
  await t?.drop();
});

/** The reference follows the key, so a retry with the same key sends the same parameters. */
const pay = (token: string, extra: Partial<Parameters<StripeConnector["createPayment"]>[0]> = {}) => {
  const idempotencyKey = extra.idempotencyKey ?? key(token);
  return stripe.createPayment({ amount: usd(2000n), reference: `po_${idempotencyKey}`, paymentMethod: { type: "card_token", token }, ...extra, idempotencyKey });
};

describe("test cards", () => {
  it("4242 succeeds and records one ok attempt", async () => {
    const r = await pay("pm_card_visa");
    expect(r.status).toBe("succeeded");
    expect(r.receipt).toMatch(/^ch_/);
    const rows = await t.db.select().from(pspAttempts).where(eq(pspAttempts.pspObjectId, r.pspReference));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ psp: "stripe", operation: "payment_intent.create", outcome: "ok", responseStatus: 200 });
    expect(rows[0]!.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it.each([
    ["pm_card_chargeDeclined", "card_declined", "generic_decline"],
    ["pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"],
    ["pm_card_chargeDeclinedLostCard", "card_declined", "lost_card"],
    ["pm_card_chargeDeclinedStolenCard", "card_declined", "stolen_card"],
    ["pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card"],
    ["pm_card_chargeDeclinedIncorrectCvc", "incorrect_cvc", "incorrect_cvc"],
    ["pm_card_chargeDeclinedProcessingError", "processing_error", "processing_error"],
    ["pm_card_chargeCustomerFail", "card_declined", "generic_decline"],
  ])("%s declines with %s / %s (a result, not an exception) and records a 402", async (token, code, declineCode) => {
    const r = await pay(token);
    expect(r.status).toBe("failed");
    expect(r.failure).toMatchObject({ code, declineCode });
    const attempts = await t.db.select().from(pspAttempts).where(eq(pspAttempts.errorCode, code));
    expect(attempts.length).toBeGreaterThan(0);
    expect(attempts.every((a) => a.outcome === "psp_error" && a.responseStatus === 402)).toBe(true);
  });

  it("the SDK raises StripeCardError with the PaymentIntent back in requires_payment_method", async () => {
    const err = await sdk.paymentIntents.create({ amount: 500, currency: "usd", payment_method: "pm_card_chargeDeclinedInsufficientFunds", confirm: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    const e = err as Stripe.errors.StripeCardError;
    expect(e.decline_code).toBe("insufficient_funds");
    expect(e.raw).toMatchObject({ payment_intent: { status: "requires_payment_method" } });
  });

  it("0341 attaches (tokenizes) and then every charge fails", async () => {
    const pm = await fetch(`${sandbox.url}/v1/payment_methods`, {
      method: "POST",
      headers: { authorization: "Bearer pk_test_sandbox_paybridge_dev", "content-type": "application/x-www-form-urlencoded" },
      body: "type=card&card[number]=4000000000000341&card[exp_month]=12&card[exp_year]=2034&card[cvc]=123",
    }).then((r) => r.json() as Promise<{ id: string; card: { last4: string } }>);
    expect(pm.id).toMatch(/^pm_/);
    expect(pm.card.last4).toBe("0341");
    expect((await pay(pm.id)).status).toBe("failed");
    expect((await pay(pm.id)).status).toBe("failed");
  });

  it("4242424242424241 fails at tokenization with incorrect_number", async () => {
    const res = await fetch(`${sandbox.url}/v1/payment_methods`, {
      method: "POST",
      headers: { authorization: "Bearer pk_test_sandbox_paybridge_dev", "content-type": "application/x-www-form-urlencoded" },
      body: "type=card&card[number]=4242424242424241&card[exp_month]=12&card[exp_year]=2034",
    });
    expect(res.status).toBe(402);
    expect(await res.json()).toMatchObject({ error: { type: "card_error", code: "incorrect_number" } });
  });

  it("3DS (3184) needs an extra step: requires_action, then succeeded after the challenge", async () => {
    const r = await pay("pm_card_authenticationRequired", { returnUrl: "http://localhost:3000/pay/return" });
    expect(r.status).toBe("requires_action");
    expect(r.nextActionUrl).toContain(`/3ds/${r.pspReference}`);
    sandbox.completeThreeDs(r.pspReference, "complete");
    expect((await stripe.getPaymentStatus({ pspReference: r.pspReference })).status).toBe("succeeded");
  });

  it("3DS then insufficient funds (3178) fails after the challenge; a failed challenge fails too", async () => {
    const a = await pay("pm_card_authenticationRequiredChargeDeclinedInsufficientFunds", { returnUrl: "http://localhost/r" });
    sandbox.completeThreeDs(a.pspReference, "complete");
    expect(await stripe.getPaymentStatus({ pspReference: a.pspReference })).toMatchObject({ status: "failed", failure: { declineCode: "insufficient_funds" } });
    const b = await pay("pm_card_authenticationRequired", { returnUrl: "http://localhost/r" });
    sandbox.completeThreeDs(b.pspReference, "fail");
    expect(await stripe.getPaymentStatus({ pspReference: b.pspReference })).toMatchObject({ status: "failed", failure: { code: "payment_intent_authentication_failure" } });
  });

  it("3155 needs 3DS on-session but not off-session", async () => {
    const created = await stripe.createPayment({ amount: usd(700n), idempotencyKey: key("3155"), reference: "po_3155" });
    expect(created.status).toBe("requires_payment_method");
    expect(created.clientSecret).toMatch(/^pi_.+_secret_/);
    const off = await stripe.confirmPayment({ pspReference: created.pspReference, paymentMethodToken: "pm_card_authenticationRequiredOnSetup", idempotencyKey: key("3155c"), offSession: true });
    expect(off.status).toBe("succeeded");
    expect((await pay("pm_card_authenticationRequiredOnSetup", { returnUrl: "http://localhost/r" })).status).toBe("requires_action");
  });

  it("manual capture: authorized, then partial capture succeeds; cancel works on an open intent", async () => {
    const r = await pay("pm_card_visa", { captureMethod: "manual" });
    expect(r.status).toBe("authorized");
    const c = await stripe.capturePayment({ pspReference: r.pspReference, amount: usd(1500n), idempotencyKey: key("cap") });
    expect(c.status).toBe("succeeded");
    const open = await stripe.createPayment({ amount: usd(300n), idempotencyKey: key("open"), reference: "po_open" });
    expect((await stripe.cancelPayment({ pspReference: open.pspReference, idempotencyKey: key("cancel") })).status).toBe("canceled");
    await expect(stripe.cancelPayment({ pspReference: open.pspReference, idempotencyKey: key("cancel2") })).rejects.toMatchObject({ kind: "invalid_request", pspCode: "payment_intent_unexpected_state" });
  });

  it("the sandbox refuses raw card numbers sent with the secret key", async () => {
    const err = await sdk.paymentMethods.create({ type: "card", card: { number: "4242424242424242", exp_month: 12, exp_year: 2034 } } as Stripe.PaymentMethodCreateParams).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect((err as Stripe.errors.StripeError).code).toBe("unsafe_card_data");
  });
});

describe("idempotency", () => {
  it("a replayed Idempotency-Key returns the first response and creates nothing new", async () => {
    const before = sandbox.stripeObjects("payment_intent").length;
    const k = key("replay");
    const first = await sdk.paymentIntents.create({ amount: 1234, currency: "usd", payment_method: "pm_card_visa", confirm: true }, { idempotencyKey: k });
    const second = await sdk.paymentIntents.create({ amount: 1234, currency: "usd", payment_method: "pm_card_visa", confirm: true }, { idempotencyKey: k });
    expect(second.id).toBe(first.id);
    expect(second.lastResponse.headers["idempotent-replayed"]).toBe("true");
    expect(sandbox.stripeObjects("payment_intent").length).toBe(before + 1);
    expect(sandbox.stripeObjects("charge").filter((c) => c.payment_intent === first.id)).toHaveLength(1);
  });

  it("a replayed decline replays the 402", async () => {
    const k = key("replay402");
    const a = await pay("pm_card_chargeDeclined", { idempotencyKey: k });
    const b = await pay("pm_card_chargeDeclined", { idempotencyKey: k });
    expect(b.pspReference).toBe(a.pspReference);
  });

  it("the same key with different params is an idempotency_error", async () => {
    const k = key("mismatch");
    await sdk.paymentIntents.create({ amount: 100, currency: "usd" }, { idempotencyKey: k });
    const err = await sdk.paymentIntents.create({ amount: 101, currency: "usd" }, { idempotencyKey: k }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
  });
});

describe("faults", () => {
  it("added latency still succeeds", async () => {
    expect((await pay("pm_card_visa", { sandboxFault: "latency=150" })).status).toBe("succeeded");
  });

  it.each([
    ["status=500", "unavailable", 500],
    ["status=502", "unavailable", 502],
    ["status=503;retry=false", "unavailable", 503],
    ["rate_limit=7", "rate_limited", 429],
    ["lock_timeout", "unavailable", 429],
  ])("%s -> PspError %s, recorded with HTTP %i, nothing created", async (fault, kind, status) => {
    const before = sandbox.stripeObjects("payment_intent").length;
    const k = key("fault");
    const err = await pay("pm_card_visa", { sandboxFault: fault, idempotencyKey: k }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PspError);
    expect((err as PspError).kind).toBe(kind);
    expect((err as PspError).retryable).toBe(true);
    if (fault.startsWith("rate_limit")) expect((err as PspError).retryAfterMs).toBe(7000);
    expect(sandbox.stripeObjects("payment_intent").length).toBe(before);
    const [row] = await t.db.select().from(pspAttempts).where(eq(pspAttempts.idempotencyKey, k));
    expect(row).toMatchObject({ outcome: "psp_error", responseStatus: status });
    // The durable retry with the same key then goes through once.
    expect((await pay("pm_card_visa", { idempotencyKey: k })).status).toBe("succeeded");
  });

  it("hang past the caller's timeout -> timeout error, recorded as outcome timeout", async () => {
    const k = key("hang");
    const err = await pay("pm_card_visa", { sandboxFault: "hang", idempotencyKey: k }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: "timeout" });
    const [row] = await t.db.select().from(pspAttempts).where(eq(pspAttempts.idempotencyKey, k));
    expect(row).toMatchObject({ outcome: "timeout", responseStatus: null });
  });

  it("hang after commit: the retry with the same key replays the PaymentIntent created before the timeout", async () => {
    const k = key("hangcommit");
    const before = sandbox.stripeObjects("payment_intent").length;
    await expect(pay("pm_card_visa", { sandboxFault: "hang=after_commit", idempotencyKey: k })).rejects.toMatchObject({ kind: "timeout" });
    expect(sandbox.stripeObjects("payment_intent").length).toBe(before + 1);
    const retried = await pay("pm_card_visa", { idempotencyKey: k });
    expect(retried.status).toBe("succeeded");
    expect(sandbox.stripeObjects("payment_intent").length).toBe(before + 1);
    expect(retried.pspReference).toBe(sandbox.stripeObjects("payment_intent")[0]!.id);
  });

  it("connection reset on every attempt -> network error (the SDK's one reset retry reuses the key)", async () => {
    const before = sandbox.stripeObjects("payment_intent").length;
    await expect(pay("pm_card_visa", { sandboxFault: "reset" })).rejects.toMatchObject({ kind: "network" });
    expect(sandbox.stripeObjects("payment_intent").length).toBe(before);
  });

  it("a single reset (global rule, count 1) is absorbed by the SDK's reset retry without a duplicate", async () => {
    sandbox.addFault({ fault: "reset", pathPrefix: "/v1/payment_intents", method: "POST", count: 1 });
    const before = sandbox.stripeObjects("payment_intent").length;
    expect((await pay("pm_card_visa")).status).toBe("succeeded");
    expect(sandbox.stripeObjects("payment_intent").length).toBe(before + 1);
  });

  it("a global 503 rule fires by count, then clears itself", async () => {
    sandbox.addFault({ fault: "status=503", pathPrefix: "/v1/refunds", count: 1 });
    const paid = await pay("pm_card_visa");
    await expect(stripe.refundPayment({ pspReference: paid.pspReference, amount: usd(100n), idempotencyKey: key("rf") })).rejects.toMatchObject({ kind: "unavailable" });
    expect((await stripe.refundPayment({ pspReference: paid.pspReference, amount: usd(100n), idempotencyKey: key("rf2") })).status).toBe("succeeded");
  });

  it("forced decline by metadata fault", async () => {
    const r = await pay("pm_card_visa", { metadata: { sandbox_fault: "decline=do_not_honor" } });
    expect(r).toMatchObject({ status: "failed", failure: { declineCode: "do_not_honor" } });
  });
});

describe("refunds, Connect, balance", () => {
  it("refunds: full, over-refund refused, pending-then-succeeded card", async () => {
    const paid = await pay("pm_card_visa");
    expect((await stripe.refundPayment({ pspReference: paid.pspReference, amount: usd(2000n), idempotencyKey: key("r1") })).status).toBe("succeeded");
    await expect(stripe.refundPayment({ pspReference: paid.pspReference, amount: usd(1n), idempotencyKey: key("r2") })).rejects.toMatchObject({ kind: "invalid_request", pspCode: "charge_already_refunded" });
    const slow = await pay("pm_card_refundPending");
    expect((await stripe.refundPayment({ pspReference: slow.pspReference, amount: usd(500n), idempotencyKey: key("r3") })).status).toBe("pending");
  });

  it("destination charge + transfer + payout", async () => {
    const acct = await sdk.accounts.create({ type: "express", country: "US" });
    const paid = await pay("pm_card_visa", { destination: { account: acct.id, applicationFee: usd(200n) } });
    expect(paid.status).toBe("succeeded");
    const tr = await stripe.createPayout({ amount: usd(300n), idempotencyKey: key("tr"), destination: acct.id, reference: "payout_1" });
    expect(tr).toMatchObject({ status: "paid", pspPayoutId: expect.stringMatching(/^tr_/) });
    const po = await stripe.createPayout({ amount: usd(100n), idempotencyKey: key("po"), destination: "platform", reference: "payout_2" });
    expect(po).toMatchObject({ status: "pending", pspPayoutId: expect.stringMatching(/^po_/) });
    await expect(stripe.createPayout({ amount: usd(100n), idempotencyKey: key("bad"), destination: "acct_missing", reference: "x" })).rejects.toMatchObject({ kind: "invalid_request" });
  });

  it("balance transactions page with starting_after and carry fee and net", async () => {
    const first = await stripe.listSettlement({ limit: 3 });
    expect(first.rows).toHaveLength(3);
    expect(first.nextCursor).toBeDefined();
    const second = await stripe.listSettlement({ limit: 3, cursor: first.nextCursor });
    expect(second.rows[0]!.pspTransactionId).not.toBe(first.rows[0]!.pspTransactionId);
    const charge = [...first.rows, ...second.rows].find((r) => r.type === "charge")!;
    expect(charge.net.amount).toBe(charge.gross.amount - charge.fee.amount);
  });

  it("injected discrepancies show in the API and the CSV, with a manifest", async () => {
    const paid = await pay("pm_card_visa");
    const ch = sandbox.stripeObjects("charge").find((c) => c.payment_intent === paid.pspReference)!;
    const entry = sandbox.injectDiscrepancy({ kind: "amount_off", balanceTransaction: ch.balance_transaction as string, delta: 5 });
    sandbox.injectDiscrepancy({ kind: "duplicate_row", balanceTransaction: ch.balance_transaction as string });
    const rows = (await stripe.listSettlement({ limit: 100 })).rows.filter((r) => r.pspTransactionId === entry.balanceTransaction);
    expect(rows).toHaveLength(2);
    expect(rows[0]!.gross.amount).toBe(2005n);
    expect(sandbox.stripeSettlementCsv().split("\n")[0]).toBe("balance_transaction_id,created_utc,available_on_utc,currency,gross,fee,net,reporting_category,source_id,automatic_payout_id,payment_intent_id");
    expect(sandbox.stripeSettlementCsv()).toContain(`${entry.balanceTransaction},`);
    expect(sandbox.settlementManifest().map((m) => m.kind)).toEqual(["amount_off", "duplicate_row"]);
  });

  it("currency_off, refund_failed, and a missing row released late: in the API and the CSV alike", async () => {
    const paid = await pay("pm_card_visa");
    const other = await pay("pm_card_visa");
    const txnOf = (pi: string) => sandbox.stripeObjects("charge").find((c) => c.payment_intent === pi)!.balance_transaction as string;
    const re = await sdk.refunds.create({ payment_intent: paid.pspReference, amount: 300 });
    const reTxn = (await sdk.refunds.retrieve(re.id)).balance_transaction as string;
    sandbox.injectDiscrepancy({ kind: "currency_off", balanceTransaction: txnOf(paid.pspReference), currency: "eur" });
    const failed = sandbox.injectDiscrepancy({ kind: "refund_failed", balanceTransaction: reTxn });
    sandbox.injectDiscrepancy({ kind: "missing_row", balanceTransaction: txnOf(other.pspReference) });
    const failure = String(failed.detail.failureBalanceTransaction);

    const listed = await sdk.balanceTransactions.list({ limit: 100 });
    expect(listed.data.find((t) => t.id === txnOf(paid.pspReference))?.currency).toBe("eur");
    expect(listed.data.find((t) => t.id === failure)).toMatchObject({ type: "refund_failure", reporting_category: "refund_failure", source: re.id, amount: 300, net: 300 });
    expect(listed.data.some((t) => t.id === txnOf(other.pspReference))).toBe(false);
    const csv = sandbox.stripeSettlementCsv();
    expect(csv).toContain(`${txnOf(paid.pspReference)},`);
    expect(csv.split("\n").find((l) => l.startsWith(`${txnOf(paid.pspReference)},`))).toContain(",eur,20.00,");
    expect(csv.split("\n").find((l) => l.startsWith(`${failure},`))).toContain(",usd,3.00,0.00,3.00,refund_failure,");
    expect(csv).not.toContain(`${txnOf(other.pspReference)},`);
    expect(() => sandbox.injectDiscrepancy({ kind: "refund_failed", balanceTransaction: txnOf(other.pspReference) })).toThrow(/not a refund/);

    const released = await fetch(`${sandbox.url}/_sandbox/discrepancies/release`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ balanceTransaction: txnOf(other.pspReference) }) });
    expect(await released.json()).toEqual({ released: 1 });
    expect((await sdk.balanceTransactions.list({ limit: 100 })).data.some((t) => t.id === txnOf(other.pspReference))).toBe(true);
    expect(sandbox.stripeSettlementCsv()).toContain(`${txnOf(other.pspReference)},`);
    expect(sandbox.settlementManifest().slice(-2).map((m) => m.kind)).toEqual(["currency_off", "refund_failed"]);
  });
});
