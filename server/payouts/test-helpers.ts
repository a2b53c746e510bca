// Test wiring for the payouts tests (imported by *.integration-test.ts and benches only): a merchant with a seller
// who has an active payout destination (Stripe: a real connected account created through the stripe SDK against
// the sandbox; M-Pesa: the Daraja test phone), payouts not held, and optionally funds already available.
//
// Funds come from real payment orders applied by the real applyAttemptOutcome (the payment_order posting, with
// its platform fee): paid by card through the sandbox when one is given (Stripe), otherwise from an M-Pesa /
// Stripe attempt whose PSP answer is given here instead of asked (the rest of the path is the production one).
// Settling one moves its seller share pending -> available with the order_settlements row, as settlement does.
import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import Stripe from "stripe";
import type { Db } from "@/db/client";
import { merchants, orderSettlements, paymentAttempts, paymentOrders, payoutDestinations, sellers } from "@/db/schema";
import { encryptField } from "@/server/crypto/field";
import { env } from "@/server/env.js";
import { currencyExponent, money, type CurrencyCode } from "@/server/money";
import { applyAttemptOutcome, platformFee } from "@/server/payments/apply-outcome";
import { prepareCardPayment, submitCardPayment } from "@/server/payments/attempts";
import { fetchPaymentStatus, fromStored } from "@/server/payments/execution";
import { getConnector } from "@/server/psp";
import { releaseToAvailable } from "@/server/wallet/seller-funds";
import { createMerchant, createTestCheckout } from "@/test/fixtures";

/** Daraja's sandbox test MSISDN. */
export const MPESA_TEST_PHONE = "254708374149";

type Merchant = typeof merchants.$inferSelect;
type Seller = typeof sellers.$inferSelect;
type Destination = typeof payoutDestinations.$inferSelect;
type Order = typeof paymentOrders.$inferSelect;

/** Anything with the sandbox's base URL (the Sandbox from sandbox/index.ts). */
export interface SandboxRef {
  url: string;
}

export interface PayoutSeller {
  merchant: Merchant;
  seller: Seller;
  destination: Destination;
}

const suffix = () => randomBytes(4).toString("hex");

/** The stripe SDK against the sandbox. */
export function sandboxStripe(sandbox: SandboxRef): Stripe {
  const u = new URL(sandbox.url);
  return new Stripe(env.STRIPE_SECRET_KEY, { host: u.hostname, port: Number(u.port), protocol: u.protocol === "https:" ? "https" : "http", maxNetworkRetries: 0, timeout: 10_000 });
}

/**
 * A connected account at the sandbox with a bank account (its number decides the sandbox's payout outcome:
 * 000111111116 no_account, 000111111113 account_closed, 000222222227 insufficient_funds, else paid).
 */
export async function createConnectedAccount(sandbox: SandboxRef, opts: { currency?: string; accountNumber?: string; country?: string } = {}): Promise<string> {
  const currency = (opts.currency ?? "KES").toLowerCase();
  const account = await sandboxStripe(sandbox).accounts.create({
    type: "custom",
    country: opts.country ?? "US",
    capabilities: { transfers: { requested: true } },
    external_account: { object: "bank_account", country: opts.country ?? "US", currency, account_number: opts.accountNumber ?? "000123456789", routing_number: "110000000" },
  } as Stripe.AccountCreateParams);
  return account.id;
}

/**
 * A merchant + seller + active payout destination, payouts not held, and `available` minor units available
 * (one paid, settled payment order whose seller share is exactly that).
 */
export async function setupPayoutSeller(
  db: Db,
  opts: { psp: "stripe" | "mpesa"; sandbox?: SandboxRef; available?: bigint; currency?: string; accountNumber?: string; stripeAccountId?: string; feeBps?: number },
): Promise<PayoutSeller> {
  const currency = (opts.currency ?? "KES") as CurrencyCode;
  const m = await createMerchant(db, `Payout Shop ${suffix()}`);
  const [merchant] = await db
    .update(merchants)
    .set({ defaultCurrency: currency, ...(opts.feeBps !== undefined ? { platformFeeBps: opts.feeBps } : {}) })
    .where(eq(merchants.id, m.id))
    .returning();
  const [first] = await db.select().from(sellers).where(eq(sellers.merchantId, m.id)).orderBy(sellers.reference).limit(1);
  const [seller] = await db.update(sellers).set({ defaultCurrency: currency, payoutsHeldUntil: null }).where(eq(sellers.id, first!.id)).returning();
  let values: typeof payoutDestinations.$inferInsert;
  if (opts.psp === "stripe") {
    const account = opts.stripeAccountId ?? (opts.sandbox ? await createConnectedAccount(opts.sandbox, { currency, accountNumber: opts.accountNumber }) : `acct_test${suffix()}${suffix()}`);
    values = { merchantId: m.id, sellerId: seller!.id, psp: "stripe", stripeAccountId: account };
  } else {
    values = { merchantId: m.id, sellerId: seller!.id, psp: "mpesa", phoneEncrypted: encryptField(MPESA_TEST_PHONE), phoneLast3: MPESA_TEST_PHONE.slice(-3) };
  }
  const [destination] = await db.insert(payoutDestinations).values(values).returning();
  const out = { merchant: merchant!, seller: seller!, destination: destination! };
  if (opts.available && opts.available > 0n) {
    const amount = grossForNet(opts.available, merchant!.platformFeeBps);
    const [order] = await payOrders(db, out, [amount], { psp: opts.psp, sandbox: opts.sandbox, currency });
    await settleOrders(db, [order!]);
  }
  return out;
}

/** The smallest order amount whose seller share (amount - platform fee, the fee rounded down) is `net`. */
export function grossForNet(net: bigint, feeBps: number): bigint {
  let a = (net * 10_000n) / BigInt(10_000 - feeBps);
  while (a - platformFee(a, feeBps) < net) a++;
  while (a > net && a - 1n - platformFee(a - 1n, feeBps) >= net) a--;
  if (a - platformFee(a, feeBps) !== net) throw new Error(`no order amount leaves ${net} after a ${feeBps} bps fee`);
  return a;
}

let seq = 0;

/**
 * One paid checkout per amount (minor units), each one payment order to the seller, applied by the real
 * applyAttemptOutcome. Stripe with a sandbox: paid by card at the sandbox; otherwise the PSP's answer is given.
 */
export async function payOrders(db: Db, s: Pick<PayoutSeller, "merchant" | "seller">, amounts: readonly bigint[], opts: { psp: "stripe" | "mpesa"; sandbox?: SandboxRef; currency?: string }): Promise<Order[]> {
  const currency = (opts.currency ?? s.seller.defaultCurrency) as CurrencyCode;
  const orders: Order[] = [];
  for (const amount of amounts) {
    const c = await createTestCheckout(db, { merchantId: s.merchant.id, sellerRefs: [s.seller.reference], amounts: [decimal(amount, currency)], currency: currency as never });
    let attemptId: string;
    if (opts.psp === "stripe" && opts.sandbox) {
      const sandbox = opts.sandbox;
      const connectorFor = (d: Db, psp: "stripe" | "mpesa") => getConnector(d, psp, { apiBase: sandbox.url });
      const stripe = connectorFor(db, "stripe");
      const session = await prepareCardPayment(db, stripe, c.checkout_id);
      const piId = session.clientSecret.split("_secret_")[0]!;
      await stripe.confirmPayment({ pspReference: piId, paymentMethodToken: "pm_card_visa", idempotencyKey: `confirm-${piId}-${++seq}` });
      await submitCardPayment(db, { checkoutId: c.checkout_id, paymentIntentId: piId });
      const status = await fetchPaymentStatus(db, connectorFor, "stripe", piId);
      const applied = await applyAttemptOutcome(db, session.attemptId, fromStored(status));
      if (applied !== "succeeded" && applied !== "ignored") throw new Error(`payment of ${c.checkout_id} not applied: ${applied}`);
      attemptId = session.attemptId;
    } else {
      const method = opts.psp === "stripe" ? "card" : "mpesa";
      const ref = opts.psp === "stripe" ? `pi_test${suffix()}${suffix()}` : `ws_CO_test${suffix()}${suffix()}`;
      const [a] = await db
        .insert(paymentAttempts)
        .values({ checkoutId: c.checkout_id, attemptNo: 1, method, psp: opts.psp, idempotencyKey: `${c.checkout_id}:attempt:1`, pspReference: ref })
        .returning();
      attemptId = a!.id;
      const receipt = opts.psp === "mpesa" ? `T${suffix().toUpperCase()}${++seq}`.slice(0, 10) : `ch_test${suffix()}`;
      const applied = await applyAttemptOutcome(db, attemptId, { psp: opts.psp, pspReference: ref, status: "succeeded", amount: money(amount, currency), receipt });
      if (applied !== "succeeded") throw new Error(`payment of ${c.checkout_id} not applied: ${applied}`);
    }
    const [order] = await db.select().from(paymentOrders).where(eq(paymentOrders.checkoutId, c.checkout_id));
    if (order?.status !== "SUCCESS") throw new Error(`order of ${c.checkout_id} is ${order?.status}`);
    orders.push(order);
  }
  return orders;
}

/** Settles orders as settlement does: the seller share pending -> available, with its order_settlements row. */
export async function settleOrders(db: Db, orders: readonly Order[], opts: { settledAt?: Date } = {}): Promise<void> {
  for (const o of orders) {
    const [m] = await db.select({ feeBps: merchants.platformFeeBps }).from(merchants).where(eq(merchants.id, o.merchantId));
    const share = o.amount - platformFee(o.amount, m!.feeBps);
    await db.transaction(async (tx) => {
      const posted = await releaseToAvailable(tx, { sellerId: o.sellerId, amount: money(share, o.currency as CurrencyCode), reference: `order:${o.id}` });
      await tx
        .insert(orderSettlements)
        .values({ paymentOrderId: o.id, sellerId: o.sellerId, currency: o.currency, amount: share, availableOn: new Date(), source: "fallback", ledgerTransactionId: posted.id, ...(opts.settledAt ? { settledAt: opts.settledAt } : {}) })
        .onConflictDoNothing();
    });
  }
}

function decimal(amount: bigint, currency: CurrencyCode): string {
  const exp = currencyExponent(currency);
  if (exp === 0) return amount.toString();
  const s = amount.toString().padStart(exp + 1, "0");
  return `${s.slice(0, -exp)}.${s.slice(-exp)}`;
}
