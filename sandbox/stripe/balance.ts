// Balance transactions: every money movement in the sandbox's Stripe account, plus what /v1/balance sums.
import { type StripeCtx } from "./context";
import { stripeId, type StripeObject } from "./store";

export interface BalanceTxnInput {
  amount: number;
  currency: string;
  fee?: number;
  type: "charge" | "refund" | "refund_failure" | "transfer" | "transfer_cancel" | "payout" | "payout_failure" | "adjustment" | "application_fee";
  reportingCategory: string;
  source: string;
  description?: string;
}

export function addBalanceTransaction(ctx: StripeCtx, input: BalanceTxnInput): StripeObject {
  const now = ctx.store.nowS();
  const fee = input.fee ?? 0;
  return ctx.store.put({
    id: stripeId("txn"),
    object: "balance_transaction",
    amount: input.amount,
    available_on: now + ctx.availableDelayS,
    balance_type: "payments",
    created: now,
    currency: input.currency,
    description: input.description ?? null,
    exchange_rate: null,
    fee,
    fee_details: fee ? [{ amount: fee, application: null, currency: input.currency, description: "Stripe processing fees", type: "stripe_fee" }] : [],
    net: input.amount - fee,
    reporting_category: input.reportingCategory,
    source: input.source,
    status: ctx.availableDelayS > 0 ? "pending" : "available",
    type: input.type,
  });
}

/** Status follows the (virtual) clock: pending until available_on. */
export function refreshStatus(ctx: StripeCtx, txn: StripeObject): StripeObject {
  txn.status = (txn.available_on as number) <= ctx.store.nowS() ? "available" : "pending";
  return txn;
}

export function balanceOf(ctx: StripeCtx): Record<string, unknown> {
  const available = new Map<string, number>();
  const pending = new Map<string, number>();
  for (const t of ctx.store.all("balance_transaction")) {
    const target = refreshStatus(ctx, t).status === "available" ? available : pending;
    const cur = t.currency as string;
    target.set(cur, (target.get(cur) ?? 0) + (t.net as number));
    if (!available.has(cur)) available.set(cur, 0);
    if (!pending.has(cur)) pending.set(cur, 0);
  }
  const list = (m: Map<string, number>) => [...m].map(([currency, amount]) => ({ amount, currency, source_types: { card: amount } }));
  return { object: "balance", available: list(available), pending: list(pending), livemode: false };
}

export function availableAmount(ctx: StripeCtx, currency: string): number {
  const bal = balanceOf(ctx).available as { amount: number; currency: string }[];
  return bal.find((b) => b.currency === currency)?.amount ?? 0;
}
