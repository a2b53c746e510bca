// Card fingerprints (Stripe's `card.fingerprint`) from the sandbox through the real `stripe` SDK and our
// connector: one per card number, on PaymentMethods, on charges, on a declined PaymentIntent's status, and
// the declined charges of a PaymentIntent (what the checkout's decline limits count).
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { money } from "@/server/money";
import { createStripeConnector } from "@/server/psp";
import { cardFingerprint } from "@/sandbox/stripe/cards";
import { startTestSandbox } from "@/sandbox/testing";
import type { Sandbox } from "@/sandbox/index";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import type { StripeConnector } from "./connector";
import cardSchemas from "./openapi/card-schemas.json";

interface PropertySchema {
  type?: string;
  nullable?: boolean;
  maxLength?: number;
}
/** The sandbox's object against Stripe's own schema (a trimmed copy): no unknown keys, required ones present, primitive types right. */
function schemaProblems(name: keyof typeof cardSchemas.schemas, obj: Record<string, unknown>): string[] {
  const schema = cardSchemas.schemas[name] as { required: string[]; properties: Record<string, PropertySchema> };
  const problems = schema.required.filter((k) => !(k in obj)).map((k) => `${name}.${k} missing`);
  for (const [k, v] of Object.entries(obj)) {
    const p = schema.properties[k];
    if (!p) problems.push(`${name}.${k} is not in Stripe's schema`);
    else if (v === null ? !p.nullable : p.type && typeof v !== (p.type === "integer" ? "number" : p.type)) problems.push(`${name}.${k} is ${JSON.stringify(v)}, not ${p.type}`);
    else if (typeof v === "string" && p.maxLength !== undefined && v.length > p.maxLength) problems.push(`${name}.${k} is too long`);
  }
  return problems;
}

let sandbox: Sandbox;
let t: TestDatabase;
let stripe: StripeConnector;
let sdk: Stripe;
let seq = 0;

beforeAll(async () => {
  [sandbox, t] = await Promise.all([startTestSandbox(), createTestDatabase()]);
  stripe = createStripeConnector(t.db, { apiBase: sandbox.url });
  sdk = new Stripe("sk_test_sandbox_paybridge_dev", { host: "127.0.0.1", port: sandbox.port, protocol: "http", maxNetworkRetries: 0 });
});
afterAll(async () => {
  await sandbox?.stop();
  await t?.drop();
});

/** The hosted card field's tokenization (publishable key, card number). */
async function paymentMethod(number: string): Promise<Stripe.PaymentMethod> {
  const res = await fetch(`${sandbox.url}/v1/payment_methods`, {
    method: "POST",
    headers: { authorization: "Bearer pk_test_sandbox_paybridge_dev", "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ type: "card", "card[number]": number, "card[exp_month]": "12", "card[exp_year]": "2034" }),
  });
  return (await res.json()) as Stripe.PaymentMethod;
}

const newPayment = () => stripe.createPayment({ amount: money(1500n, "USD"), idempotencyKey: `fp-${++seq}-${Date.now()}`, reference: `fp-${seq}` });

describe("card.fingerprint", () => {
  it("is the same for every PaymentMethod of one number, differs between numbers, and is not the number", async () => {
    const [a1, a2, b] = [await paymentMethod("4000000000000002"), await paymentMethod("4000 0000 0000 0002"), await paymentMethod("4242424242424242")];
    expect(a1.card!.fingerprint).toMatch(/^[0-9A-Za-z]{16}$/);
    expect(a2.card!.fingerprint).toBe(a1.card!.fingerprint);
    expect(b.card!.fingerprint).not.toBe(a1.card!.fingerprint);
    expect(a1.card!.fingerprint).toBe(cardFingerprint("4000000000000002"));
    // pm_card_* tokens stand for their test card's number.
    const pi = await newPayment();
    await stripe.confirmPayment({ pspReference: pi.pspReference, paymentMethodToken: "pm_card_chargeDeclined", idempotencyKey: `c-${++seq}` });
    const [charge] = (await sdk.charges.list({ payment_intent: pi.pspReference })).data;
    expect(charge!.payment_method_details!.card!.fingerprint).toBe(a1.card!.fingerprint);
  });

  it("the sandbox's card objects match Stripe's OpenAPI schemas (payment_method_card, payment_method_details_card)", async () => {
    const pm = await paymentMethod("4000000000000002");
    expect(schemaProblems("payment_method_card", pm.card as unknown as Record<string, unknown>)).toEqual([]);
    expect(schemaProblems("payment_method_card", { ...pm.card, fingerprint: 42, pan: "x" })).toEqual(["payment_method_card.fingerprint is 42, not string", "payment_method_card.pan is not in Stripe's schema"]);
    const pi = await newPayment();
    await stripe.confirmPayment({ pspReference: pi.pspReference, paymentMethodToken: pm.id, idempotencyKey: `c-${++seq}` });
    const [charge] = (await sdk.charges.list({ payment_intent: pi.pspReference })).data;
    expect(schemaProblems("payment_method_details_card", charge!.payment_method_details!.card as unknown as Record<string, unknown>)).toEqual([]);
  });

  it("a declined PaymentIntent's status carries the declined card's fingerprint; listCardDeclines lists its failed charges, newest first", async () => {
    const pi = await newPayment();
    const numbers = ["4000000000009995", "4000000000009987"];
    for (const n of numbers) await stripe.confirmPayment({ pspReference: pi.pspReference, paymentMethodToken: (await paymentMethod(n)).id, idempotencyKey: `c-${++seq}` });
    const status = await stripe.getPaymentStatus({ pspReference: pi.pspReference });
    expect([status.status, status.cardFingerprint]).toEqual(["failed", cardFingerprint(numbers[1]!)]);
    await stripe.confirmPayment({ pspReference: pi.pspReference, paymentMethodToken: "pm_card_visa", idempotencyKey: `c-${++seq}` });
    const declines = await stripe.listCardDeclines({ pspReference: pi.pspReference, limit: 10 });
    expect(declines.map((d) => d.fingerprint)).toEqual([cardFingerprint(numbers[1]!), cardFingerprint(numbers[0]!)]);
    expect(declines.map((d) => d.code)).toEqual(["card_declined", "card_declined"]);
    expect(declines[0]!.chargeId).toMatch(/^ch_/);
    expect((await stripe.getPaymentStatus({ pspReference: pi.pspReference })).cardFingerprint).toBeUndefined();
  });
});
