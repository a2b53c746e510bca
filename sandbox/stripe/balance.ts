// Balance transactions: every money movement in the sandbox's Stripe account and in each connected account
// (`_account`: the acct_… it belongs to; absent = the platform), plus what /v1/balance sums per account.
import { type StripeCtx } from "./context";
import { stripeId, type StripeObject } from "./store";

export interface BalanceTxnInput {
  amount: number;
  currency: string;
  fee?: number;
  type: "charge" | "refund" | "refund_failure" | "transfer" | "transfer_cancel" | "transfer_refund" | "payment" | "payment_refund" | "payout" | "payout_failure" | "payout_cancel" | "adjustment" | "application_fee";
  reportingCategory: string;
  source: string;
  description?: string;
  /** The connected account (acct_…) whose balance this moves; absent: the platform's. */
  account?: string | null;
  /** When the funds are available (default: now + availableDelayS). Debits pass now: they draw on available funds. */
  availableOn?: number;
}

/** Whose balance a transaction (or payout, event) belongs to: a connected account's id, or null for the platform. */
export const accountOf = (o: Record<string, unknown>): string | null => (typeof o._account === "string" ? o._account : null);

export function addBalanceTransaction(ctx: StripeCtx, input: BalanceTxnInput): StripeObject {
  const now = ctx.store.nowS();
  const fee = input.fee ?? 0;
  const availableOn = input.availableOn ?? now + ctx.availableDelayS;
  return ctx.store.put({
    id: stripeId("txn"),
    object: "balance_transaction",
    amount: input.amount,
    available_on: availableOn,
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
    status: availableOn > now ? "pending" : "available",
    type: input.type,
    ...(input.account ? { _account: input.account } : {}),
  });
}

/** Status follows the (virtual) clock: pending until available_on. */
export function refreshStatus(ctx: StripeCtx, txn: StripeObject): StripeObject {
  txn.status = (txn.available_on as number) <= ctx.store.nowS() ? "available" : "pending";
  return txn;
}

/** The platform's balance, or with `account` a connected account's. */
export function balanceOf(ctx: StripeCtx, account: string | null = null): Record<string, unknown> {
  const available = new Map<string, number>();
  const pending = new Map<string, number>();
  for (const t of ctx.store.all("balance_transaction")) {
    if (accountOf(t) !== account) continue;
    const target = refreshStatus(ctx, t).status === "available" ? available : pending;
    const cur = t.currency as string;
    target.set(cur, (target.get(cur) ?? 0) + (t.net as number));
    if (!available.has(cur)) available.set(cur, 0);
    if (!pending.has(cur)) pending.set(cur, 0);
  }
  const list = (m: Map<string, number>) => [...m].map(([currency, amount]) => ({ amount, currency, source_types: { card: amount } }));
  return { object: "balance", available: list(available), pending: list(pending), livemode: false };
}

export function availableAmount(ctx: StripeCtx, currency: string, account: string | null = null): number {
  const bal = balanceOf(ctx, account).available as { amount: number; currency: string }[];
  return bal.find((b) => b.currency === currency)?.amount ?? 0;
}
