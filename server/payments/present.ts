import { asc, desc, eq, inArray, type SQL } from "drizzle-orm";
import type { DbOrTx, Tx } from "@/db/client";
import { checkouts, paymentOrders, paymentOrderTransitions, riskDecisions, sellers } from "@/db/schema";
import { AppError } from "@/server/errors";
import { formatMoney, money } from "@/server/money";
import { env } from "@/server/env.js";

// The public API's shapes for checkouts and payment orders (snake_case, amounts as decimal strings).

export interface PaymentOrderView {
  object: "payment_order";
  payment_order_id: string;
  checkout_id: string;
  seller_account: string;
  amount: string;
  currency: string;
  status: "NOT_STARTED" | "EXECUTING" | "SUCCESS" | "FAILED";
  failure: { code: string; message: string | null } | null;
  created_at: string;
  updated_at: string;
}
export interface CheckoutView {
  object: "checkout";
  checkout_id: string;
  status: string;
  checkout_url: string | null;
  currency: string;
  total_amount: string;
  return_url: string;
  risk: { outcome: string; reasons: string[] } | null;
  payment_orders: PaymentOrderView[];
  created_at: string;
}

type OrderRow = typeof paymentOrders.$inferSelect & { sellerReference: string };

export function presentOrder(o: OrderRow): PaymentOrderView {
  return {
    object: "payment_order",
    payment_order_id: o.paymentOrderId,
    checkout_id: o.checkoutId,
    seller_account: o.sellerReference,
    amount: formatMoney(money(o.amount, o.currency)),
    currency: o.currency,
    status: o.status,
    failure: o.failureCode ? { code: o.failureCode, message: o.failureMessage } : null,
    created_at: o.createdAt.toISOString(),
    updated_at: o.updatedAt.toISOString(),
  };
}

export async function loadOrders(db: DbOrTx, where: SQL, opts: { order?: SQL[]; limit?: number } = {}): Promise<OrderRow[]> {
  const query = db
    .select({ order: paymentOrders, sellerReference: sellers.reference })
    .from(paymentOrders)
    .innerJoin(sellers, eq(sellers.id, paymentOrders.sellerId))
    .where(where)
    .orderBy(...(opts.order ?? [asc(paymentOrders.createdAt), asc(paymentOrders.id)]));
  const rows = opts.limit ? await query.limit(opts.limit) : await query;
  return rows.map((r) => ({ ...r.order, sellerReference: r.sellerReference }));
}

export async function presentCheckout(tx: Tx, checkoutId: string): Promise<CheckoutView> {
  // Three independent reads sent together: on a transaction postgres.js pipelines them on its one connection (one
  // write, one wait).
  const [[c], orders, [decision]] = await Promise.all([
    tx.select().from(checkouts).where(eq(checkouts.id, checkoutId)),
    loadOrders(tx, eq(paymentOrders.checkoutId, checkoutId)),
    tx.select().from(riskDecisions).where(eq(riskDecisions.checkoutId, checkoutId)).orderBy(desc(riskDecisions.createdAt), desc(riskDecisions.id)).limit(1),
  ]);
  if (!c) throw new AppError("not_found", "Checkout not found");
  const payable = c.status === "open" || c.status === "processing";
  return {
    object: "checkout",
    checkout_id: c.id,
    status: c.status,
    checkout_url: payable ? `${env.APP_URL}/pay/${c.id}` : null,
    currency: c.currency,
    total_amount: formatMoney(money(c.totalAmount, c.currency)),
    return_url: c.returnUrl,
    risk: decision ? { outcome: decision.outcome, reasons: decision.reasons.map((r) => r.reason) } : null,
    payment_orders: orders.map(presentOrder),
    created_at: c.createdAt.toISOString(),
  };
}

export async function orderHistory(db: DbOrTx, orderIds: string[]) {
  if (orderIds.length === 0) return [];
  return db
    .select()
    .from(paymentOrderTransitions)
    .where(inArray(paymentOrderTransitions.paymentOrderId, orderIds))
    .orderBy(asc(paymentOrderTransitions.at), asc(paymentOrderTransitions.id));
}
