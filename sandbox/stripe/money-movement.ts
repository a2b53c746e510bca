// Connect: connected accounts (each with its own balance and balance transactions, reached with the
// `Stripe-Account` header), transfers (+ reversals) and payouts, on the platform or a connected account, manual or
// automatic on the account's payout schedule (refunds: refunds.ts). Shapes as Stripe's (openapi/connect-payout-
// schemas.json); see docs/sandbox.md "Connect, transfers and payouts".
import { StripeApiError, stripeNotFound, type SandboxRequest } from "../http";
import { accountOf, addBalanceTransaction, availableAmount, refreshStatus } from "./balance";
import { connectedAccountOf, currencyParam, intParam, metadataParam, strParam, type StripeCtx } from "./context";
import { createdFilter, stripeId, type StripeObject } from "./store";

// ---------------------------------------------------------------------------------------------------------------
// Accounts and their bank accounts

/** Stripe's test bank account numbers (routing 110000000) whose payouts fail, with Stripe's failure messages. */
const PAYOUT_FAILURES: Record<string, { code: string; message: string }> = {
  "000111111116": { code: "no_account", message: "The bank account details on file are probably incorrect. No bank account could be located with those details." },
  "000111111113": { code: "account_closed", message: "The bank account has been closed." },
  "000222222227": { code: "insufficient_funds", message: "Your Stripe account has insufficient funds to cover the payout." },
  "000333333335": { code: "debit_not_authorized", message: "Debit transactions are not approved on the bank account. (Stripe requires bank accounts to be set up for both credit and debit payouts.)" },
  "000444444440": { code: "invalid_currency", message: "The bank was unable to process this payout because of its currency. This is probably because the bank account cannot accept payments in that currency." },
};
/** Stripe's test bank tokens: the same outcomes. */
const BANK_TOKENS: Record<string, string> = {
  btok_us_verified: "000123456789",
  btok_us_verified_noAccount: "000111111116",
  btok_us_verified_accountClosed: "000111111113",
  btok_us_verified_insufficientFunds: "000222222227",
  btok_us_verified_debitNotAuthorized: "000333333335",
  btok_us_verified_invalidCurrency: "000444444440",
};
const DEFAULT_ACCOUNT_NUMBER = "000123456789";
const COUNTRY_CURRENCY: Record<string, string> = { US: "usd", KE: "kes", GB: "gbp", CA: "cad", AU: "aud", DE: "eur", FR: "eur", NL: "eur", IE: "eur" };
const PLATFORM_ACCOUNT = "acct_sandboxplatform0001";
const SCHEDULE_INTERVALS = ["manual", "daily", "weekly", "monthly"];
const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
const DAY_S = 86_400;

interface PayoutSchedule {
  interval: string;
  delay_days: number;
  weekly_anchor?: string;
  monthly_anchor?: number;
}

/** A new account's payout schedule (Stripe's default for Connect accounts the platform pays out: manual). */
const defaultSchedule = (): PayoutSchedule => ({ interval: "manual", delay_days: 2 });

const badParam = (param: string, message: string) => new StripeApiError(400, "invalid_request_error", "parameter_invalid", message, { param });

/** The bank account a payout to it would reach; `_number` never leaves the sandbox (last4 does). */
function bankAccount(account: string, raw: unknown, defaultCurrency: string, country: string): { view: Record<string, unknown> & { id: string }; number: string } {
  let number = DEFAULT_ACCOUNT_NUMBER;
  let routing = "110000000";
  let currency = defaultCurrency;
  let holder: string | null = null;
  let holderType: string | null = null;
  let bankCountry = country;
  if (typeof raw === "string") {
    number = BANK_TOKENS[raw] ?? "";
    if (!number) throw new StripeApiError(400, "invalid_request_error", "resource_missing", `No such token: '${raw}'`, { param: "external_account" });
  } else if (raw && typeof raw === "object") {
    const b = raw as Record<string, unknown>;
    if (b.object !== undefined && b.object !== "bank_account") throw badParam("external_account[object]", "The sandbox's connected accounts take bank accounts only (external_account[object]=bank_account).");
    number = String(b.account_number ?? "");
    if (!/^\d{4,17}$/.test(number)) throw badParam("external_account[account_number]", "You must use a test bank account number in test mode. Try 000123456789 or see https://stripe.com/docs/connect/testing.");
    if (b.routing_number !== undefined) routing = String(b.routing_number);
    if (typeof b.currency === "string" && /^[a-zA-Z]{3}$/.test(b.currency)) currency = b.currency.toLowerCase();
    if (typeof b.country === "string") bankCountry = b.country.toUpperCase();
    if (typeof b.account_holder_name === "string") holder = b.account_holder_name.slice(0, 5000);
    if (typeof b.account_holder_type === "string") holderType = b.account_holder_type;
  }
  const view = {
    id: stripeId("ba"),
    object: "bank_account",
    account,
    account_holder_name: holder,
    account_holder_type: holderType,
    account_type: null,
    available_payout_methods: ["standard", "instant"],
    bank_name: "STRIPE TEST BANK",
    country: bankCountry,
    currency,
    default_for_currency: true,
    fingerprint: stripeId("", 16).slice(1),
    last4: number.slice(-4),
    metadata: {},
    routing_number: routing,
    status: "new",
  };
  return { view, number };
}

// Accounts stored before payout schedules and bank accounts (persisted sandbox state) have no settings,
// external_accounts, _bank_numbers or default_currency: they read as createAccount would make them today.
const countryOf = (acct: StripeObject): string => (typeof acct.country === "string" ? acct.country.toUpperCase() : "US");
const defaultCurrencyOf = (acct: StripeObject): string => (typeof acct.default_currency === "string" ? acct.default_currency : (COUNTRY_CURRENCY[countryOf(acct)] ?? "usd"));

/** settings.payouts (absent on an old account: Stripe's defaults, manual, added to it). */
function payoutSettingsOf(acct: StripeObject): { schedule: PayoutSchedule } {
  const settings = (acct.settings ??= {}) as { payouts?: { schedule: PayoutSchedule } };
  settings.payouts ??= { debit_negative_balances: true, schedule: defaultSchedule(), statement_descriptor: null } as { schedule: PayoutSchedule };
  return settings.payouts;
}

/** The bank account numbers by ba_… id (`_bank_numbers`, absent on an old account). */
function bankNumbersOf(acct: StripeObject): Record<string, string> {
  return (acct._bank_numbers ??= {}) as Record<string, string>;
}

/** external_accounts (absent on an old account: the default test bank, as createAccount gives without external_account). */
function banksOf(acct: StripeObject): { data: Record<string, unknown>[] } {
  if (!acct.external_accounts) {
    const bank = bankAccount(acct.id, undefined, defaultCurrencyOf(acct), countryOf(acct));
    acct.external_accounts = { object: "list", data: [bank.view], has_more: false, url: `/v1/accounts/${acct.id}/external_accounts` };
    bankNumbersOf(acct)[bank.view.id] = bank.number;
  }
  return acct.external_accounts as { data: Record<string, unknown>[] };
}

function scheduleParam(body: Record<string, unknown>, current: PayoutSchedule): PayoutSchedule {
  const raw = ((body.settings as Record<string, unknown> | undefined)?.payouts as Record<string, unknown> | undefined)?.schedule as Record<string, unknown> | undefined;
  if (!raw || typeof raw !== "object") return current;
  const next: PayoutSchedule = { ...current };
  if (raw.interval !== undefined) {
    if (!SCHEDULE_INTERVALS.includes(String(raw.interval))) throw badParam("settings[payouts][schedule][interval]", `Invalid interval: must be one of ${SCHEDULE_INTERVALS.join(", ")}`);
    next.interval = String(raw.interval);
  }
  if (raw.delay_days !== undefined) {
    const d = raw.delay_days === "minimum" ? 2 : Number(raw.delay_days);
    if (!Number.isInteger(d) || d < 0 || d > 365) throw badParam("settings[payouts][schedule][delay_days]", "Invalid delay_days: an integer, or minimum.");
    next.delay_days = d;
  }
  if (raw.weekly_anchor !== undefined) {
    if (!WEEKDAYS.includes(String(raw.weekly_anchor))) throw badParam("settings[payouts][schedule][weekly_anchor]", `Invalid weekly_anchor: must be one of ${WEEKDAYS.join(", ")}`);
    next.weekly_anchor = String(raw.weekly_anchor);
  }
  if (raw.monthly_anchor !== undefined) {
    const a = Number(raw.monthly_anchor);
    if (!Number.isInteger(a) || a < 1 || a > 31) throw badParam("settings[payouts][schedule][monthly_anchor]", "Invalid monthly_anchor: 1 to 31.");
    next.monthly_anchor = a;
  }
  if (next.interval === "weekly") next.weekly_anchor ??= "monday";
  else delete next.weekly_anchor;
  if (next.interval === "monthly") next.monthly_anchor ??= 1;
  else delete next.monthly_anchor;
  return next;
}

/** The first UTC midnight after `afterS` on which the schedule pays out (undefined for manual). */
function nextScheduledPayoutS(schedule: PayoutSchedule, afterS: number): number | undefined {
  if (schedule.interval === "manual") return undefined;
  let day = Math.floor(afterS / DAY_S) * DAY_S + DAY_S;
  for (let i = 0; i < 400; i++, day += DAY_S) {
    const d = new Date(day * 1000);
    if (schedule.interval === "daily") return day;
    if (schedule.interval === "weekly" && WEEKDAYS[d.getUTCDay()] === schedule.weekly_anchor) return day;
    if (schedule.interval === "monthly") {
      const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
      if (d.getUTCDate() === Math.min(schedule.monthly_anchor ?? 1, last)) return day;
    }
  }
  return undefined;
}

export function createAccount(ctx: StripeCtx, req: SandboxRequest): StripeObject {
  const type = strParam(req.body, "type") ?? "express";
  if (!["custom", "express", "standard"].includes(type)) throw badParam("type", `Invalid type: must be one of custom, express, standard`);
  const country = (strParam(req.body, "country") ?? "US").toUpperCase();
  const defaultCurrency = (strParam(req.body, "default_currency") ?? COUNTRY_CURRENCY[country] ?? "usd").toLowerCase();
  const id = stripeId("acct", 16);
  const bank = bankAccount(id, req.body.external_account, defaultCurrency, country);
  const schedule = scheduleParam(req.body, defaultSchedule());
  const email = strParam(req.body, "email") ?? null;
  const acct = ctx.store.put({
    id,
    object: "account",
    business_type: null,
    capabilities: { card_payments: "active", transfers: "active" },
    charges_enabled: true,
    country,
    created: ctx.store.nowS(),
    default_currency: defaultCurrency,
    details_submitted: true,
    email,
    external_accounts: { object: "list", data: [bank.view], has_more: false, url: `/v1/accounts/${id}/external_accounts` },
    metadata: metadataParam(req.body),
    payouts_enabled: true,
    settings: {
      branding: { icon: null, logo: null, primary_color: null, secondary_color: null },
      card_payments: { decline_on: { avs_failure: false, cvc_failure: false }, statement_descriptor_prefix: null, statement_descriptor_prefix_kana: null, statement_descriptor_prefix_kanji: null },
      dashboard: { display_name: email, timezone: "Etc/UTC" },
      payments: { statement_descriptor: null, statement_descriptor_kana: null, statement_descriptor_kanji: null },
      payouts: { debit_negative_balances: true, schedule, statement_descriptor: null },
    },
    type,
    _bank_numbers: { [bank.view.id]: bank.number },
    _next_auto_payout_at: nextScheduledPayoutS(schedule, ctx.store.nowS()) ?? null,
  });
  ctx.emit(req, "account.updated", acct);
  return acct;
}

export function getAccount(ctx: StripeCtx, req: SandboxRequest, id: string): StripeObject {
  const connected = connectedAccountOf(req);
  const acct = ctx.store.get(id, "account");
  if (!acct || (connected && connected !== id)) throw new StripeApiError(404, "invalid_request_error", "account_invalid", `The provided key does not have access to account '${id}' (or that account does not exist). Application access may have been revoked.`, { param: "account" });
  return acct;
}

/** GET /v1/account: the connected account named by Stripe-Account, else the platform's own. */
export function currentAccount(ctx: StripeCtx, req: SandboxRequest): StripeObject {
  const connected = connectedAccountOf(req);
  if (connected) return getAccount(ctx, req, connected);
  return { id: PLATFORM_ACCOUNT, object: "account", charges_enabled: true, country: "US", created: 0, default_currency: "usd", details_submitted: true, email: null, metadata: {}, payouts_enabled: true, type: "standard" };
}

/** POST /v1/accounts/:id: metadata, email, the payout schedule. */
export function updateAccount(ctx: StripeCtx, req: SandboxRequest, id: string): StripeObject {
  const acct = getAccount(ctx, req, id);
  onlyParams(req, ["metadata", "email", "settings", "expand"]);
  const payouts = payoutSettingsOf(acct);
  const schedule = scheduleParam(req.body, payouts.schedule);
  payouts.schedule = schedule;
  acct._next_auto_payout_at = nextScheduledPayoutS(schedule, ctx.store.nowS()) ?? null;
  acct.metadata = metadataParam(req.body, acct.metadata as Record<string, string>);
  if (req.body.email !== undefined) acct.email = strParam(req.body, "email") ?? null;
  ctx.store.put(acct);
  ctx.emit(req, "account.updated", acct);
  return acct;
}

/** POST /v1/accounts/:id/external_accounts: another bank account (default_for_currency unless told otherwise). */
export function addExternalAccount(ctx: StripeCtx, req: SandboxRequest, id: string): StripeObject {
  const acct = getAccount(ctx, req, id);
  if (req.body.external_account === undefined) throw new StripeApiError(400, "invalid_request_error", "parameter_missing", "Missing required param: external_account.", { param: "external_account" });
  const bank = bankAccount(id, req.body.external_account, defaultCurrencyOf(acct), countryOf(acct));
  const list = banksOf(acct);
  const makeDefault = req.body.default_for_currency !== "false";
  if (makeDefault) {
    for (const b of list.data) if (b.currency === bank.view.currency) b.default_for_currency = false;
  } else {
    bank.view.default_for_currency = !list.data.some((b) => b.currency === bank.view.currency);
  }
  list.data.push(bank.view);
  bankNumbersOf(acct)[bank.view.id] = bank.number;
  ctx.store.put(acct);
  ctx.emit(req, "account.external_account.created", { ...bank.view, created: ctx.store.nowS() } as StripeObject);
  return { ...bank.view, created: ctx.store.nowS() } as StripeObject;
}

function insufficient(amount: number, available: number): StripeApiError {
  return new StripeApiError(400, "invalid_request_error", "balance_insufficient", `You have insufficient available funds in your Stripe account (${available} available, ${amount} requested).`);
}

// ---------------------------------------------------------------------------------------------------------------
// Transfers and reversals

export interface TransferInput {
  amount: number;
  currency: string;
  destination: string;
  sourceTransaction?: string | null;
  transferGroup?: string | null;
  metadata?: Record<string, string>;
  description?: string | null;
}

/**
 * A transfer from the platform to a connected account: a `transfer` balance transaction on the platform and a
 * `payment` (py_…) on the destination, available when the source charge's funds are (or at once).
 */
export function recordTransfer(ctx: StripeCtx, req: SandboxRequest | undefined, input: TransferInput): StripeObject {
  const now = ctx.store.nowS();
  const payment = stripeId("py");
  const sourceTxn = input.sourceTransaction ? ctx.store.get(ctx.store.get(input.sourceTransaction, "charge")?.balance_transaction as string, "balance_transaction") : undefined;
  const tr = ctx.store.put({
    id: stripeId("tr"),
    object: "transfer",
    amount: input.amount,
    amount_reversed: 0,
    balance_transaction: null,
    created: now,
    currency: input.currency,
    description: input.description ?? null,
    destination: input.destination,
    destination_payment: payment,
    livemode: false,
    metadata: input.metadata ?? {},
    reversals: { object: "list", data: [] as unknown[], has_more: false, url: "" },
    reversed: false,
    source_transaction: input.sourceTransaction ?? null,
    source_type: "card",
    transfer_group: input.transferGroup ?? null,
  });
  (tr.reversals as { url: string }).url = `/v1/transfers/${tr.id}/reversals`;
  tr.balance_transaction = addBalanceTransaction(ctx, { amount: -input.amount, currency: input.currency, type: "transfer", reportingCategory: "transfer", source: tr.id, availableOn: sourceTxn ? undefined : now }).id;
  addBalanceTransaction(ctx, { amount: input.amount, currency: input.currency, type: "payment", reportingCategory: "transfer", source: payment, account: input.destination, availableOn: (sourceTxn?.available_on as number | undefined) ?? now });
  ctx.emit(req, "transfer.created", tr);
  return tr;
}

export function createTransfer(ctx: StripeCtx, req: SandboxRequest): StripeObject {
  const amount = intParam(req.body, "amount", { required: true, min: 1 })!;
  const currency = currencyParam(req.body);
  const destination = strParam(req.body, "destination", true)!;
  if (!ctx.store.get(destination, "account")) throw stripeNotFound("destination", destination, "destination");
  const source = strParam(req.body, "source_transaction");
  if (source && !ctx.store.get(source, "charge")) throw stripeNotFound("charge", source, "source_transaction");
  if (!source && availableAmount(ctx, currency) < amount) throw insufficient(amount, availableAmount(ctx, currency));
  const description = strParam(req.body, "description");
  return recordTransfer(ctx, req, { amount, currency, destination, sourceTransaction: source, transferGroup: strParam(req.body, "transfer_group"), metadata: metadataParam(req.body), description });
}

export function getTransfer(ctx: StripeCtx, id: string): StripeObject {
  const tr = ctx.store.get(id, "transfer");
  if (!tr) throw stripeNotFound("transfer", id);
  return tr;
}

/** GET /v1/transfers filters: destination, transfer_group (created is the list's). */
export function transferFilter(query: Record<string, unknown>): (t: StripeObject) => boolean {
  return (t) => (query.destination === undefined || t.destination === query.destination) && (query.transfer_group === undefined || t.transfer_group === query.transfer_group);
}

function onlyParams(req: SandboxRequest, allowed: string[]): void {
  for (const k of Object.keys(req.body)) if (!allowed.includes(k)) throw new StripeApiError(400, "invalid_request_error", "parameter_unknown", `Received unknown parameter: ${k}`, { param: k });
}

/** POST /v1/transfers/:id: metadata and description only. */
export function updateTransfer(ctx: StripeCtx, req: SandboxRequest, id: string): StripeObject {
  const tr = getTransfer(ctx, id);
  onlyParams(req, ["metadata", "description", "expand"]);
  const previous: Record<string, unknown> = {};
  if (req.body.metadata !== undefined) {
    previous.metadata = tr.metadata;
    tr.metadata = metadataParam(req.body, tr.metadata as Record<string, string>);
  }
  if (req.body.description !== undefined) {
    previous.description = tr.description;
    tr.description = strParam(req.body, "description") ?? null;
  }
  ctx.store.put(tr);
  ctx.emit(req, "transfer.updated", tr, previous);
  return tr;
}

/** Reverses part or all of a transfer: the connected account is debited (it must have the funds), the platform credited. */
export function reverseTransfer(ctx: StripeCtx, req: SandboxRequest, id: string): StripeObject {
  const tr = getTransfer(ctx, id);
  const remaining = (tr.amount as number) - (tr.amount_reversed as number);
  if (remaining === 0) throw new StripeApiError(400, "invalid_request_error", "transfer_already_reversed", "The transfer has already been fully reversed.");
  const amount = intParam(req.body, "amount", { min: 1 }) ?? remaining;
  if (amount > remaining) throw new StripeApiError(400, "invalid_request_error", "amount_too_large", "Transfer reversal amount is greater than the unreversed amount.", { param: "amount" });
  const destination = tr.destination as string;
  const currency = tr.currency as string;
  const onAccount = availableAmount(ctx, currency, destination);
  if (onAccount < amount) throw new StripeApiError(400, "invalid_request_error", "balance_insufficient", `The connected account ${destination} has insufficient available funds to reverse this transfer (${onAccount} available, ${amount} requested).`);
  const now = ctx.store.nowS();
  const refund = stripeId("pyr");
  const trr = ctx.store.put({ id: stripeId("trr"), object: "transfer_reversal", amount, balance_transaction: null, created: now, currency, destination_payment_refund: refund, metadata: metadataParam(req.body), source_refund: null, transfer: tr.id });
  trr.balance_transaction = addBalanceTransaction(ctx, { amount, currency, type: "transfer_refund", reportingCategory: "transfer_reversal", source: trr.id, availableOn: now }).id;
  addBalanceTransaction(ctx, { amount: -amount, currency, type: "payment_refund", reportingCategory: "transfer_reversal", source: refund, account: destination, availableOn: now });
  const previous = { amount_reversed: tr.amount_reversed, reversed: tr.reversed };
  tr.amount_reversed = (tr.amount_reversed as number) + amount;
  tr.reversed = tr.amount_reversed === tr.amount;
  const reversals = tr.reversals as { data: unknown[]; has_more: boolean };
  reversals.data.unshift(structuredClone(trr));
  if (reversals.data.length > 10) {
    reversals.data.length = 10; // Stripe embeds the newest ten; the rest through GET /v1/transfers/:id/reversals
    reversals.has_more = true;
  }
  ctx.store.put(tr);
  ctx.emit(req, "transfer.reversed", tr, previous);
  return trr;
}

export function getTransferReversal(ctx: StripeCtx, transferId: string, id: string): StripeObject {
  getTransfer(ctx, transferId);
  const trr = ctx.store.get(id, "transfer_reversal");
  if (!trr || trr.transfer !== transferId) throw stripeNotFound("transfer reversal", id);
  return trr;
}

// ---------------------------------------------------------------------------------------------------------------
// Payouts

const payoutOutcomeAt = (ctx: StripeCtx) => ({ inTransitAt: Date.now() + ctx.asyncSettleMs, doneAt: Date.now() + 2 * ctx.asyncSettleMs });

/** The bank a payout goes to: `destination` (one of the account's), else its default for the currency, else its first. */
function payoutDestination(ctx: StripeCtx, account: string | null, currency: string, requested: string | undefined): { id: string; failure?: { code: string; message: string } } {
  if (!account) {
    if (requested && requested !== "ba_sandbox_bank") throw stripeNotFound("external account", requested, "destination");
    return { id: "ba_sandbox_bank" };
  }
  const acct = ctx.store.get(account, "account")!;
  const banks = banksOf(acct).data;
  const bank = requested ? banks.find((b) => b.id === requested) : (banks.find((b) => b.currency === currency && b.default_for_currency) ?? banks.find((b) => b.currency === currency) ?? banks[0]);
  if (!bank) throw requested ? stripeNotFound("external account", requested, "destination") : new StripeApiError(400, "invalid_request_error", "no_external_account", "The account has no external account to pay out to.");
  const number = bankNumbersOf(acct)[bank.id as string];
  return { id: bank.id as string, failure: number ? PAYOUT_FAILURES[number] : undefined };
}

interface NewPayout {
  account: string | null;
  amount: number;
  currency: string;
  automatic: boolean;
  metadata: Record<string, string>;
  description?: string | null;
  method?: string;
  statementDescriptor?: string | null;
  destination?: string;
  originalPayout?: string;
}

function newPayout(ctx: StripeCtx, req: SandboxRequest | undefined, p: NewPayout): StripeObject {
  const now = ctx.store.nowS();
  const dest = payoutDestination(ctx, p.account, p.currency, p.destination);
  const knob = p.metadata.sandbox_payout;
  const hold = knob === "pending";
  const failure = knob === "fail" ? PAYOUT_FAILURES["000111111113"] : dest.failure;
  const { inTransitAt, doneAt } = payoutOutcomeAt(ctx);
  const po = ctx.store.put({
    id: stripeId("po"),
    object: "payout",
    amount: p.amount,
    arrival_date: p.method === "instant" ? now : Math.floor(now / DAY_S) * DAY_S + 2 * DAY_S,
    automatic: p.automatic,
    balance_transaction: null,
    created: now,
    currency: p.currency,
    description: p.description ?? (p.automatic ? "STRIPE PAYOUT" : null),
    destination: dest.id,
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    livemode: false,
    metadata: p.metadata,
    method: p.method ?? "standard",
    original_payout: p.originalPayout ?? null,
    reconciliation_status: p.automatic ? "in_progress" : "not_applicable",
    reversed_by: null,
    source_type: "card",
    statement_descriptor: p.statementDescriptor ?? null,
    status: "pending",
    type: "bank_account",
    ...(p.account ? { _account: p.account } : {}),
    // paid_then_fail: the bank returns it after it was paid (Stripe: up to days later), account_closed.
    _outcome: hold ? "hold" : knob === "paid_then_fail" && !failure ? "paid_then_fail" : (failure?.code ?? "paid"),
    _in_transit_at: inTransitAt,
    _done_at: doneAt,
  });
  // A payout debits the account's available balance at once; a reversing payout (original_payout) credits it back.
  const amount = p.originalPayout ? p.amount : -p.amount;
  po.balance_transaction = addBalanceTransaction(ctx, { amount, currency: p.currency, type: "payout", reportingCategory: p.originalPayout ? "payout_reversal" : "payout", source: po.id, account: p.account, availableOn: now, description: p.automatic ? "STRIPE PAYOUT" : undefined }).id;
  ctx.emit(req, "payout.created", po);
  if (!hold) {
    ctx.later(ctx.asyncSettleMs, () => progressPayout(ctx, po.id));
    ctx.later(2 * ctx.asyncSettleMs + 1, () => progressPayout(ctx, po.id));
    if (knob === "paid_then_fail") ctx.later(3 * ctx.asyncSettleMs + 2, () => progressPayout(ctx, po.id));
  }
  return po;
}

export function createPayout(ctx: StripeCtx, req: SandboxRequest): StripeObject {
  const amount = intParam(req.body, "amount", { required: true, min: 1 })!;
  const currency = currencyParam(req.body);
  const account = connectedAccountOf(req);
  const method = strParam(req.body, "method") ?? "standard";
  if (!["standard", "instant"].includes(method)) throw badParam("method", "Invalid method: must be one of standard, instant");
  const sourceType = strParam(req.body, "source_type") ?? "card";
  if (!["card", "bank_account", "fpx"].includes(sourceType)) throw badParam("source_type", "Invalid source_type: must be one of bank_account, card, fpx");
  const available = availableAmount(ctx, currency, account);
  if (available < amount) throw insufficient(amount, available);
  const statementDescriptor = strParam(req.body, "statement_descriptor");
  if (statementDescriptor && statementDescriptor.length > 22) throw badParam("statement_descriptor", "statement_descriptor: at most 22 characters.");
  return newPayout(ctx, req, { account, amount, currency, automatic: false, metadata: metadataParam(req.body), description: strParam(req.body, "description"), method, statementDescriptor, destination: strParam(req.body, "destination") });
}

/** The payout, if it is the requester's (platform or the Stripe-Account connected account); else 404 like Stripe. */
export function getPayout(ctx: StripeCtx, req: SandboxRequest, id: string): StripeObject {
  const po = ctx.store.get(id, "payout");
  if (!po || accountOf(po) !== connectedAccountOf(req)) throw stripeNotFound("payout", id);
  progressPayout(ctx, po.id);
  return po;
}

/** The requester's payouts, each brought up to date; filters status, destination, arrival_date[...] (created: the list's). */
export function listPayouts(ctx: StripeCtx, req: SandboxRequest): StripeObject[] {
  const account = connectedAccountOf(req);
  const q = req.query;
  const arrives = createdFilter(q, "arrival_date");
  const mine = ctx.store.all("payout").filter((p) => accountOf(p) === account);
  for (const p of mine) progressPayout(ctx, p.id);
  return mine.filter((p) => (q.status === undefined || p.status === q.status) && (q.destination === undefined || p.destination === q.destination) && arrives(p));
}

/**
 * pending -> in_transit -> paid | failed, `asyncSettleMs` apart (by timer, and on every read, so a payout still
 * moves on after a restart); paid_then_fail: paid, then failed one step later. A held payout
 * (metadata[sandbox_payout]=pending) waits for cancel.
 */
export function progressPayout(ctx: StripeCtx, id: string): void {
  const po = ctx.store.objects.peek(id);
  if (!po || po.object !== "payout" || po._outcome === "hold") return;
  const now = Date.now();
  if (po.status === "paid" && po._outcome === "paid_then_fail" && !po.reversed_by && now >= (po._done_at as number) + ctx.asyncSettleMs) {
    ctx.store.put(po);
    po._outcome = "account_closed";
    failPayout(ctx, po, "paid");
    return;
  }
  if (po.status === "pending" && now >= (po._in_transit_at as number)) {
    ctx.store.put(po);
    po.status = "in_transit";
    ctx.emit(undefined, "payout.updated", po, { status: "pending" });
  }
  if (po.status !== "in_transit" || now < (po._done_at as number)) return;
  ctx.store.put(po);
  if (po._outcome === "paid" || po._outcome === "paid_then_fail") {
    po.status = "paid";
    ctx.emit(undefined, "payout.paid", po, { status: "in_transit" });
    if (po.automatic) {
      po.reconciliation_status = "completed";
      ctx.emit(undefined, "payout.reconciliation_completed", po, { reconciliation_status: "in_progress" });
    }
    return;
  }
  failPayout(ctx, po, "in_transit");
}

/** The bank refused (or returned) the payout: the amount back on the balance (payout_failure), payout.failed. */
function failPayout(ctx: StripeCtx, po: StripeObject, from: string): void {
  const failure = Object.values(PAYOUT_FAILURES).find((f) => f.code === po._outcome) ?? PAYOUT_FAILURES["000111111113"]!;
  const txn = addBalanceTransaction(ctx, { amount: po.amount as number, currency: po.currency as string, type: "payout_failure", reportingCategory: "payout_reversal", source: po.id, account: accountOf(po), availableOn: ctx.store.nowS(), description: `Payout failure (${failure.code})` });
  Object.assign(po, { status: "failed", failure_code: failure.code, failure_message: failure.message, failure_balance_transaction: txn.id });
  ctx.emit(undefined, "payout.failed", po, { status: from, failure_code: null, failure_message: null });
}

/** POST /v1/payouts/:id: metadata only. */
export function updatePayout(ctx: StripeCtx, req: SandboxRequest, id: string): StripeObject {
  const po = getPayout(ctx, req, id);
  onlyParams(req, ["metadata", "expand"]);
  const previous = { metadata: po.metadata };
  po.metadata = metadataParam(req.body, po.metadata as Record<string, string>);
  ctx.store.put(po);
  ctx.emit(req, "payout.updated", po, previous);
  return po;
}

/** POST /v1/payouts/:id/cancel: only while pending; the amount goes back to the balance (payout_cancel). */
export function cancelPayout(ctx: StripeCtx, req: SandboxRequest, id: string): StripeObject {
  const po = getPayout(ctx, req, id);
  if (po.status !== "pending") throw new StripeApiError(400, "invalid_request_error", "payout_not_cancelable", `Payouts can only be canceled while they are pending. This payout has a status of ${String(po.status)}.`);
  const txn = addBalanceTransaction(ctx, { amount: po.amount as number, currency: po.currency as string, type: "payout_cancel", reportingCategory: "payout_reversal", source: po.id, account: accountOf(po), availableOn: ctx.store.nowS(), description: "Payout cancellation" });
  Object.assign(po, { status: "canceled", failure_balance_transaction: txn.id, _outcome: "canceled" });
  ctx.store.put(po);
  ctx.emit(req, "payout.canceled", po, { status: "pending" });
  return po;
}

/**
 * POST /v1/payouts/:id/reverse: a paid payout of a connected account is pulled back from the bank by a new payout
 * (original_payout) that credits the balance; the original gets reversed_by. As at Stripe: connected accounts only.
 */
export function reversePayout(ctx: StripeCtx, req: SandboxRequest, id: string): StripeObject {
  const po = getPayout(ctx, req, id);
  const account = accountOf(po);
  if (!account) throw new StripeApiError(400, "invalid_request_error", undefined, "Payout reversals are only available for payouts of connected accounts to US bank accounts.");
  if (po.status !== "paid") throw new StripeApiError(400, "invalid_request_error", undefined, po.status === "pending" ? "This payout is pending: use /v1/payouts/:id/cancel instead." : `This payout has a status of ${String(po.status)} and cannot be reversed.`);
  if (po.reversed_by || po.original_payout) throw new StripeApiError(400, "invalid_request_error", undefined, "This payout has already been reversed.");
  const reversal = newPayout(ctx, req, { account, amount: po.amount as number, currency: po.currency as string, automatic: false, metadata: metadataParam(req.body), description: `Reversal of ${po.id}`, destination: po.destination as string, originalPayout: po.id });
  reversal._outcome = "paid"; // pulling money back from the bank cannot hit the payout's failure
  po.reversed_by = reversal.id;
  ctx.store.put(po);
  ctx.emit(req, "payout.updated", po, { reversed_by: null });
  return reversal;
}

/**
 * Automatic payouts: each connected account whose schedule (settings.payouts.schedule, not manual) is due on the
 * sandbox clock is paid its available balance per currency, itemized: the balance transactions it covers answer
 * GET /v1/balance_transactions?payout=po_…. Runs when the clock is advanced and before a connected account's reads.
 */
export function runAutomaticPayouts(ctx: StripeCtx, only?: string): void {
  const now = ctx.store.nowS();
  const one = only ? ctx.store.objects.peek(only) : undefined;
  const accounts = only ? (one?.object === "account" ? [one] : []) : ctx.store.all("account");
  for (const acct of accounts) {
    const due = acct._next_auto_payout_at as number | null | undefined;
    if (typeof due !== "number" || due > now || !acct.payouts_enabled) continue;
    ctx.store.put(acct);
    acct._next_auto_payout_at = nextScheduledPayoutS(payoutSettingsOf(acct).schedule, now) ?? null;
    const txns = ctx.store.all("balance_transaction").filter((t) => accountOf(t) === acct.id && !ctx.store.paidOut.has(t.id) && refreshStatus(ctx, t).status === "available");
    const byCurrency = new Map<string, StripeObject[]>();
    for (const t of txns) {
      const items = byCurrency.get(t.currency as string);
      if (items) items.push(t);
      else byCurrency.set(t.currency as string, [t]);
    }
    for (const [currency, items] of byCurrency) {
      const amount = items.reduce((s, t) => s + (t.net as number), 0);
      if (amount <= 0) continue;
      const po = newPayout(ctx, undefined, { account: acct.id, amount, currency, automatic: true, metadata: {} });
      for (const t of [...items, ctx.store.get(po.balance_transaction as string, "balance_transaction")!]) {
        ctx.store.paidOut.add(t.id);
        t._payout = po.id;
        ctx.store.touch(t);
      }
    }
  }
}
