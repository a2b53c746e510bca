// Test wiring for the refunds tests (imported by *.integration-test.ts only): a shop with its refund policies,
// and a checkout paid by card through the real stripe SDK against the sandbox, applied as the execution does.
import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { merchants, paymentOrders, sellers } from "@/db/schema";
import { prepareCardPayment, submitCardPayment } from "@/server/payments/attempts";
import { applyAttemptOutcome } from "@/server/payments/apply-outcome";
import { fetchPaymentStatus, fromStored } from "@/server/payments/execution";
import type { ConnectorFor } from "@/server/psp";
import { createMerchant, createTestCheckout } from "@/test/fixtures";

export interface RefundShop {
  merchantId: string;
  refs: string[];
  sellerIds: string[];
  feeBps: number;
}

export async function createRefundShop(db: Db, opts: { refundFeePolicy?: "keep" | "return"; negativeBalancePolicy?: "allow" | "refuse"; feeBps?: number } = {}): Promise<RefundShop> {
  const m = await createMerchant(db);
  await db
    .update(merchants)
    .set({ refundFeePolicy: opts.refundFeePolicy ?? "keep", negativeBalancePolicy: opts.negativeBalancePolicy ?? "allow", platformFeeBps: opts.feeBps ?? m.platformFeeBps })
    .where(eq(merchants.id, m.id));
  const rows = await db.select().from(sellers).where(eq(sellers.merchantId, m.id)).orderBy(sellers.reference);
  return { merchantId: m.id, refs: rows.map((r) => r.reference), sellerIds: rows.map((r) => r.id), feeBps: opts.feeBps ?? m.platformFeeBps };
}

let seq = 0;

/** A checkout of `amounts` (one order per seller, in order) paid with card `pm`; returns its orders (SUCCESS) in seller order. */
export async function payCheckoutByCard(db: Db, connectorFor: ConnectorFor, shop: RefundShop, amounts: string[], pm = "pm_card_visa") {
  const c = await createTestCheckout(db, { merchantId: shop.merchantId, sellerRefs: shop.refs.slice(0, amounts.length), amounts });
  const stripe = connectorFor(db, "stripe");
  const session = await prepareCardPayment(db, stripe, c.checkout_id);
  const piId = session.clientSecret.split("_secret_")[0]!;
  await stripe.confirmPayment({ pspReference: piId, paymentMethodToken: pm, idempotencyKey: `confirm-${piId}-${++seq}` });
  await submitCardPayment(db, { checkoutId: c.checkout_id, paymentIntentId: piId });
  const status = await fetchPaymentStatus(db, connectorFor, "stripe", piId);
  const applied = await applyAttemptOutcome(db, session.attemptId, fromStored(status));
  if (applied !== "succeeded" && applied !== "ignored") throw new Error(`payment of ${c.checkout_id} not applied: ${applied}`);
  const orders = await db.select().from(paymentOrders).where(eq(paymentOrders.checkoutId, c.checkout_id)).orderBy(paymentOrders.position);
  return { checkoutId: c.checkout_id, piId, attemptId: session.attemptId, orders };
}
