// Fixture tests of the Stripe transforms: wire objects as the API (and the sandbox) send them.
import type Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { money } from "@/server/money";
import { balanceTransactionToRow, paymentIntentToResult, paymentStatusOf, stripeErrorToPspError, stripeEventToParsed, toStripeAmount } from "./transform";

const pi = (over: Partial<Stripe.PaymentIntent>): Stripe.PaymentIntent =>
  ({ id: "pi_1", object: "payment_intent", amount: 2000, currency: "usd", status: "requires_payment_method", client_secret: "pi_1_secret_x", last_payment_error: null, latest_charge: null, next_action: null, ...over }) as Stripe.PaymentIntent;

describe("paymentIntentToResult", () => {
  it("succeeded with a charge", () => {
    expect(paymentIntentToResult(pi({ status: "succeeded", latest_charge: "ch_1" }))).toEqual({ psp: "stripe", pspReference: "pi_1", status: "succeeded", amount: money(2000n, "USD"), clientSecret: "pi_1_secret_x", nextActionUrl: undefined, failure: undefined, receipt: "ch_1" });
  });

  it("a decline: requires_payment_method with last_payment_error is failed", () => {
    const r = paymentIntentToResult(pi({ last_payment_error: { type: "card_error", code: "card_declined", decline_code: "insufficient_funds", message: "Your card has insufficient funds." } as Stripe.PaymentIntent.LastPaymentError }));
    expect(r.status).toBe("failed");
    expect(r.failure).toEqual({ code: "card_declined", declineCode: "insufficient_funds", message: "Your card has insufficient funds." });
  });

  it("3DS: requires_action with the redirect URL", () => {
    const r = paymentIntentToResult(pi({ status: "requires_action", next_action: { type: "redirect_to_url", redirect_to_url: { url: "http://sandbox/3ds/pi_1", return_url: null } } as Stripe.PaymentIntent.NextAction }));
    expect(r).toMatchObject({ status: "requires_action", nextActionUrl: "http://sandbox/3ds/pi_1" });
  });

  it.each([
    ["requires_confirmation", "requires_payment_method"],
    ["processing", "pending"],
    ["requires_capture", "authorized"],
    ["canceled", "canceled"],
  ] as const)("%s -> %s", (s, expected) => {
    expect(paymentStatusOf({ status: s, last_payment_error: null })).toBe(expected);
  });
});

describe("amounts", () => {
  it("refuses negative and unsafe amounts", () => {
    expect(toStripeAmount(money(123n, "USD"))).toBe(123);
    expect(() => toStripeAmount(money(-1n, "USD"))).toThrow();
    expect(() => toStripeAmount(money(2n ** 60n, "USD"))).toThrow();
  });
});

describe("balanceTransactionToRow", () => {
  it("maps a charge with its fee and net", () => {
    const bt = { id: "txn_1", object: "balance_transaction", amount: 2000, fee: 88, net: 1912, currency: "usd", type: "charge", reporting_category: "charge", source: "ch_1", created: 1_700_000_000, available_on: 1_700_172_800 } as Stripe.BalanceTransaction;
    expect(balanceTransactionToRow(bt)).toEqual({ pspTransactionId: "txn_1", type: "charge", gross: money(2000n, "USD"), fee: money(88n, "USD"), net: money(1912n, "USD"), sourceId: "ch_1", createdAt: new Date(1_700_000_000_000), availableOn: new Date(1_700_172_800_000) });
  });

  it("maps payouts, refunds and dispute adjustments", () => {
    const base = { id: "txn", fee: 0, net: -5, amount: -5, currency: "usd", source: "x", created: 1, available_on: 1 };
    expect(balanceTransactionToRow({ ...base, type: "payout", reporting_category: "payout" } as Stripe.BalanceTransaction).type).toBe("payout");
    expect(balanceTransactionToRow({ ...base, type: "refund", reporting_category: "refund" } as Stripe.BalanceTransaction).type).toBe("refund");
    expect(balanceTransactionToRow({ ...base, type: "adjustment", reporting_category: "dispute" } as Stripe.BalanceTransaction).type).toBe("dispute");
    expect(balanceTransactionToRow({ ...base, type: "adjustment", reporting_category: "other_adjustment" } as Stripe.BalanceTransaction).type).toBe("other");
  });
});

describe("stripeErrorToPspError", () => {
  it.each([
    [{ type: "StripeConnectionError", detail: { code: "ETIMEDOUT" } }, "timeout", true],
    [{ type: "StripeConnectionError", detail: { code: "ECONNRESET" } }, "network", true],
    [{ type: "StripeAPIError", statusCode: 503 }, "unavailable", true],
    [{ type: "StripeAPIError", statusCode: 409, code: "idempotency_key_in_use" }, "unavailable", true],
    [{ type: "StripeRateLimitError", statusCode: 429, code: "rate_limit", headers: { "retry-after": "3" } }, "rate_limited", true],
    [{ type: "StripeRateLimitError", statusCode: 429, code: "lock_timeout" }, "unavailable", true],
    [{ type: "StripeIdempotencyError", statusCode: 400 }, "invalid_request", false],
    [{ type: "StripeAuthenticationError", statusCode: 401 }, "invalid_request", false],
  ])("%o -> %s (retryable %s)", (err, kind, retryable) => {
    const e = stripeErrorToPspError(err);
    expect(e.kind).toBe(kind);
    expect(e.retryable).toBe(retryable);
  });

  it("reads Retry-After", () => {
    expect(stripeErrorToPspError({ type: "StripeRateLimitError", statusCode: 429, code: "rate_limit", headers: { "retry-after": "3" } }).retryAfterMs).toBe(3000);
  });
});

describe("stripeEventToParsed", () => {
  it("keeps the event id, type and the object's id", () => {
    const e = { id: "evt_1", object: "event", type: "payment_intent.succeeded", data: { object: { id: "pi_9", object: "payment_intent" } } } as unknown as Stripe.Event;
    expect(stripeEventToParsed(e)).toMatchObject({ psp: "stripe", eventId: "evt_1", type: "payment_intent.succeeded", objectId: "pi_9" });
  });
});
