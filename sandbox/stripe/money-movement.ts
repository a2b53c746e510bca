// Connect accounts, transfers (+ reversals) and payouts (refunds: refunds.ts).
import { StripeApiError, stripeNotFound, type SandboxRequest } from "../http";
import { addBalanceTransaction, availableAmount } from "./balance";
import { currencyParam, intParam, metadataParam, strParam, type StripeCtx } from "./context";
import { stripeId, type StripeObject } from "./store";

export function createAccount(ctx: StripeCtx, req: SandboxRequest): StripeObject {
  const acct = ctx.store.put({ id: stripeId("acct", 16), object: "account", type: strParam(req.body, "type") ?? "express", country: strParam(req.body, "country") ?? "US", email: strParam(req.body, "email") ?? null, charges_enabled: true, payouts_enabled: true, details_submitted: true, created: ctx.store.nowS(), metadata: metadataParam(req.body) });
  ctx.emit(req, "account.updated", acct);
  return acct;
}

function insufficient(amount: number, available: number): StripeApiError {
  return new StripeApiError(400, "invalid_request_error", "balance_insufficient", `You have insufficient available funds in your Stripe account (${available} available, ${amount} requested).`);
}

export function createTransfer(ctx: StripeCtx, req: SandboxRequest): StripeObject {
  const amount = intParam(req.body, "amount", { required: true, min: 1 })!;
  const currency = currencyParam(req.body);
  const destination = strParam(req.body, "destination", true)!;
  if (!ctx.store.get(destination, "account")) throw stripeNotFound("destination", destination, "destination");
  const source = strParam(req.body, "source_transaction");
  if (source && !ctx.store.get(source, "charge")) throw stripeNotFound("charge", source, "source_transaction");
  if (!source && availableAmount(ctx, currency) < amount) throw insufficient(amount, availableAmount(ctx, currency));
  const tr = ctx.store.put({ id: stripeId("tr"), object: "transfer", amount, amount_reversed: 0, balance_transaction: null, created: ctx.store.nowS(), currency, destination, metadata: metadataParam(req.body), reversed: false, reversals: { object: "list", data: [] as unknown[], has_more: false }, source_transaction: source ?? null, transfer_group: strParam(req.body, "transfer_group") ?? null });
  tr.balance_transaction = addBalanceTransaction(ctx, { amount: -amount, currency, type: "transfer", reportingCategory: "transfer", source: tr.id }).id;
  ctx.emit(req, "transfer.created", tr);
  return tr;
}

export function reverseTransfer(ctx: StripeCtx, req: SandboxRequest, id: string): StripeObject {
  const tr = ctx.store.get(id, "transfer");
  if (!tr) throw stripeNotFound("transfer", id);
  const remaining = (tr.amount as number) - (tr.amount_reversed as number);
  const amount = intParam(req.body, "amount", { min: 1 }) ?? remaining;
  if (amount > remaining) throw new StripeApiError(400, "invalid_request_error", "amount_too_large", "Transfer reversal amount is greater than the unreversed amount.", { param: "amount" });
  const trr = ctx.store.put({ id: stripeId("trr"), object: "transfer_reversal", amount, created: ctx.store.nowS(), currency: tr.currency, transfer: tr.id, metadata: metadataParam(req.body), balance_transaction: null });
  trr.balance_transaction = addBalanceTransaction(ctx, { amount, currency: tr.currency as string, type: "transfer_cancel", reportingCategory: "transfer_reversal", source: trr.id }).id;
  tr.amount_reversed = (tr.amount_reversed as number) + amount;
  tr.reversed = tr.amount_reversed === tr.amount;
  (tr.reversals as { data: unknown[] }).data.unshift(trr);
  ctx.emit(req, "transfer.reversed", tr);
  return trr;
}

export function createPayout(ctx: StripeCtx, req: SandboxRequest): StripeObject {
  const amount = intParam(req.body, "amount", { required: true, min: 1 })!;
  const currency = currencyParam(req.body);
  const connected = typeof req.headers["stripe-account"] === "string" ? req.headers["stripe-account"] : undefined;
  if (connected && !ctx.store.get(connected, "account")) throw new StripeApiError(403, "invalid_request_error", "account_invalid", `The provided key does not have access to account '${connected}'.`);
  // The platform's own payout draws on its available balance; a connected account's balance is not modelled.
  if (!connected && availableAmount(ctx, currency) < amount) throw insufficient(amount, availableAmount(ctx, currency));
  const metadata = metadataParam(req.body);
  const po = ctx.store.put({ id: stripeId("po"), object: "payout", amount, arrival_date: ctx.store.nowS() + 86_400, automatic: false, balance_transaction: null, created: ctx.store.nowS(), currency, description: strParam(req.body, "description") ?? null, destination: "ba_sandbox_bank", failure_code: null, failure_message: null, metadata, method: strParam(req.body, "method") ?? "standard", status: "pending", type: "bank_account", _account: connected ?? null });
  if (!connected) {
    for (const t of ctx.store.all("balance_transaction")) {
      if (ctx.store.paidOut.has(t.id) || t.status !== "available" || t.currency !== currency) continue;
      ctx.store.paidOut.add(t.id);
      t._payout = po.id; // what /v1/balance_transactions?payout= answers
      ctx.store.touch(t);
    }
    po.balance_transaction = addBalanceTransaction(ctx, { amount: -amount, currency, type: "payout", reportingCategory: "payout", source: po.id }).id;
  }
  ctx.emit(req, "payout.created", po);
  const fail = metadata.sandbox_payout === "fail";
  ctx.later(ctx.asyncSettleMs, () => settlePayout(ctx, po, fail));
  return po;
}

function settlePayout(ctx: StripeCtx, po: StripeObject, fail: boolean): void {
  const previous = { status: po.status };
  ctx.store.put(po); // marks it; the changes below are written at the next flush
  if (!fail) {
    po.status = "paid";
    ctx.emit(undefined, "payout.paid", po, previous);
    return;
  }
  Object.assign(po, { status: "failed", failure_code: "account_closed", failure_message: "The bank account has been closed." });
  if (!po._account) addBalanceTransaction(ctx, { amount: po.amount as number, currency: po.currency as string, type: "payout_failure", reportingCategory: "payout_reversal", source: po.id });
  ctx.emit(undefined, "payout.failed", po, previous);
}
