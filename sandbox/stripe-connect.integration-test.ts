// The sandbox's Stripe Connect money movement, driven through the real stripe SDK (issue 13): connected accounts
// with their own balance reached by the Stripe-Account header (unknown accounts 403, platform-only endpoints refuse
// it), transfers (platform balance checked, destination / transfer_group filters, update, reversals debiting the
// connected account), payouts on connected accounts (pending -> in_transit -> paid, Stripe's failing test bank
// numbers with failure_code and failure_balance_transaction, status filter, update, cancel, reverse), automatic
// payouts on a schedule itemized by ?payout= (manual payouts refused), Idempotency-Keys pruned after 24 h of
// sandbox time, nested expand (latest_charge.balance_transaction) with funds available on the sandbox clock. Every
// account, transfer, reversal, payout and balance transaction answered (and inside events) is checked against
// Stripe's OpenAPI schema (balance_type included).
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stripeSchemaProblems, type StripeSchemaName } from "@/server/psp/stripe/openapi/validate";
import type { Sandbox } from "./index";
import { startTestSandbox, waitFor } from "./testing";

const SECRET = "sk_test_sandbox_paybridge_dev";
const sdkFor = (port: number) => new Stripe(SECRET, { host: "127.0.0.1", port, protocol: "http", maxNetworkRetries: 0, timeout: 10_000 });

let sandbox: Sandbox;
let sdk: Stripe;
beforeAll(async () => {
  sandbox = await startTestSandbox();
  sdk = sdkFor(sandbox.port);
});
afterAll(async () => {
  await sandbox?.stop();
});

const wire = (o: unknown): Record<string, unknown> => JSON.parse(JSON.stringify(o)) as Record<string, unknown>;
function conforms(name: StripeSchemaName, o: unknown): void {
  expect(stripeSchemaProblems(name, wire(o)), `${name} ${(o as { id?: string }).id ?? ""}`).toEqual([]);
}
const stripeError = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Stripe.errors.StripeError);

/** Platform funds: a card payment (available at once in this sandbox). */
const fund = async (amount: number, client = sdk) => {
  const pi = await client.paymentIntents.create({ amount, currency: "usd", payment_method: "pm_card_visa", confirm: true });
  expect(pi.status).toBe("succeeded");
  return pi;
};

const bank = (accountNumber: string) => ({ object: "bank_account" as const, country: "US", currency: "usd", routing_number: "110000000", account_number: accountNumber, account_holder_name: "Seller" });

async function connected(accountNumber = "000123456789", extra: Partial<Stripe.AccountCreateParams> = {}, client = sdk): Promise<Stripe.Account> {
  const acct = await client.accounts.create({ type: "express", country: "US", external_account: bank(accountNumber) as unknown as string, ...extra });
  conforms("account", acct);
  return acct;
}

const available = async (account: string | null, client = sdk) => {
  const bal = await client.balance.retrieve({}, account ? { stripeAccount: account } : {});
  conforms("balance", bal);
  return bal.available.find((b) => b.currency === "usd")?.amount ?? 0;
};

/** A payout on `account`, followed until it leaves pending/in_transit; every version conforms. */
async function settledPayout(account: string, id: string, client = sdk): Promise<Stripe.Payout> {
  return waitFor(async () => {
    const po = await client.payouts.retrieve(id, {}, { stripeAccount: account });
    conforms("payout", po);
    return ["pending", "in_transit"].includes(po.status) ? undefined : po;
  });
}

async function txnConforms(id: unknown, account: string | null): Promise<Stripe.BalanceTransaction> {
  const t = await sdk.balanceTransactions.retrieve(id as string, {}, account ? { stripeAccount: account } : {});
  conforms("balance_transaction", t);
  expect(t.balance_type).toBe("payments");
  return t;
}

describe("connected accounts and the Stripe-Account header", () => {
  it("an account with a bank account; retrieve, GET /v1/account as it, update the schedule; its own (empty) balance", async () => {
    const acct = await connected("000123456789", { email: "seller@example.com", metadata: { seller: "s1" } });
    expect(acct).toMatchObject({ object: "account", payouts_enabled: true, charges_enabled: true, default_currency: "usd", metadata: { seller: "s1" }, settings: { payouts: { schedule: { interval: "manual" } } } });
    const ba = acct.external_accounts!.data[0] as Stripe.BankAccount;
    expect(ba).toMatchObject({ object: "bank_account", last4: "6789", account: acct.id, currency: "usd", default_for_currency: true });
    expect(JSON.stringify(acct)).not.toContain("000123456789");
    conforms("account", await sdk.accounts.retrieve(acct.id));
    const self = await sdk.accounts.retrieveCurrent({}, { stripeAccount: acct.id });
    expect(self.id).toBe(acct.id);
    const updated = await sdk.accounts.update(acct.id, { settings: { payouts: { schedule: { interval: "weekly", weekly_anchor: "friday" } } } });
    conforms("account", updated);
    expect(updated.settings!.payouts!.schedule).toMatchObject({ interval: "weekly", weekly_anchor: "friday" });
    expect(await available(acct.id)).toBe(0);
  });

  it("an unknown Stripe-Account is 403 account_invalid; platform-only endpoints refuse the header", async () => {
    const unknown = await stripeError(sdk.balance.retrieve({}, { stripeAccount: "acct_doesnotexist" }));
    expect(unknown).toMatchObject({ statusCode: 403, code: "account_invalid" });
    const acct = await connected();
    const transfer = await stripeError(sdk.transfers.create({ amount: 100, currency: "usd", destination: acct.id }, { stripeAccount: acct.id }));
    expect(transfer).toMatchObject({ statusCode: 400, type: "StripeInvalidRequestError" });
    expect(transfer!.message).toContain("only available to the platform");
    const create = await stripeError(sdk.accounts.create({ type: "express" }, { stripeAccount: acct.id }));
    expect(create).toMatchObject({ statusCode: 400 });
  });
});

describe("transfers", () => {
  it("draw on the platform's available balance, credit the destination's own balance (payment), are listed by destination and transfer_group, and updated", async () => {
    const [a, b] = [await connected(), await connected()];
    await fund(10_000);
    const platformBefore = await available(null);
    const big = await stripeError(sdk.transfers.create({ amount: platformBefore + 1, currency: "usd", destination: a.id }));
    expect(big).toMatchObject({ code: "balance_insufficient", statusCode: 400 });
    const group = `payout_grp_${Date.now()}`;
    const tr = await sdk.transfers.create({ amount: 3000, currency: "usd", destination: a.id, transfer_group: group, metadata: { payout_key: group } }, { idempotencyKey: `${group}:transfer` });
    conforms("transfer", tr);
    expect(tr).toMatchObject({ amount: 3000, amount_reversed: 0, reversed: false, destination: a.id, transfer_group: group, livemode: false, metadata: { payout_key: group } });
    await sdk.transfers.create({ amount: 500, currency: "usd", destination: b.id });
    expect(await available(null)).toBe(platformBefore - 3500);
    expect(await available(a.id)).toBe(3000);
    expect(await available(b.id)).toBe(500);

    const onPlatform = await txnConforms(tr.balance_transaction, null);
    expect([onPlatform.type, onPlatform.amount, onPlatform.source]).toEqual(["transfer", -3000, tr.id]);
    const theirs = await sdk.balanceTransactions.list({}, { stripeAccount: a.id });
    expect(theirs.data.map((t) => [t.type, t.amount, t.reporting_category, t.source])).toEqual([["payment", 3000, "transfer", tr.destination_payment]]);
    for (const t of theirs.data) conforms("balance_transaction", t);
    // The platform's list does not show the connected account's transactions, nor the other way round.
    expect((await sdk.balanceTransactions.list({ limit: 100 })).data.some((t) => t.source === tr.destination_payment)).toBe(false);
    await expect(sdk.balanceTransactions.retrieve(theirs.data[0]!.id)).rejects.toMatchObject({ statusCode: 404 });

    expect((await sdk.transfers.list({ transfer_group: group })).data.map((t) => t.id)).toEqual([tr.id]);
    expect((await sdk.transfers.list({ destination: b.id })).data.map((t) => t.amount)).toEqual([500]);
    expect((await sdk.transfers.list({ transfer_group: "nothing_like_it" })).data).toEqual([]);
    const upd = await sdk.transfers.update(tr.id, { metadata: { note: "x" }, description: "Seller payout" });
    conforms("transfer", upd);
    expect(upd).toMatchObject({ metadata: { payout_key: group, note: "x" }, description: "Seller payout" });
    await expect(sdk.transfers.update(tr.id, { amount: 1 } as Stripe.TransferUpdateParams)).rejects.toMatchObject({ code: "parameter_unknown" });
    // The same key replays; the transfer is not made twice.
    const again = await sdk.transfers.create({ amount: 3000, currency: "usd", destination: a.id, transfer_group: group, metadata: { payout_key: group } }, { idempotencyKey: `${group}:transfer` });
    expect(again.id).toBe(tr.id);
    expect((await sdk.transfers.list({ transfer_group: group })).data).toHaveLength(1);
  });

  it("reversals debit the connected account and credit the platform; listed and retrieved; never more than is left or than the account has", async () => {
    const acct = await connected();
    await fund(5000);
    const tr = await sdk.transfers.create({ amount: 2000, currency: "usd", destination: acct.id });
    const platform = await available(null);
    const r1 = await sdk.transfers.createReversal(tr.id, { amount: 500, metadata: { why: "test" } });
    conforms("transfer_reversal", r1);
    expect(r1).toMatchObject({ object: "transfer_reversal", amount: 500, transfer: tr.id, currency: "usd", metadata: { why: "test" } });
    const t1 = await txnConforms(r1.balance_transaction, null);
    expect([t1.amount, t1.type, t1.reporting_category]).toEqual([500, "transfer_refund", "transfer_reversal"]);
    expect(await available(acct.id)).toBe(1500);
    expect(await available(null)).toBe(platform + 500);
    const r2 = await sdk.transfers.createReversal(tr.id, {}, { idempotencyKey: `rev-${tr.id}` });
    expect(r2.amount).toBe(1500);
    const after = await sdk.transfers.retrieve(tr.id);
    conforms("transfer", after);
    expect(after).toMatchObject({ amount_reversed: 2000, reversed: true });
    expect(after.reversals.data.map((r) => r.id)).toEqual([r2.id, r1.id]);
    expect((await sdk.transfers.listReversals(tr.id)).data.map((r) => r.id)).toEqual([r2.id, r1.id]);
    conforms("transfer_reversal", await sdk.transfers.retrieveReversal(tr.id, r1.id));
    await expect(sdk.transfers.createReversal(tr.id, { amount: 1 })).rejects.toMatchObject({ statusCode: 400 });
    expect(await available(acct.id)).toBe(0);

    // The connected account must still have the money (it was paid out).
    const tr2 = await sdk.transfers.create({ amount: 1000, currency: "usd", destination: acct.id });
    const po = await sdk.payouts.create({ amount: 1000, currency: "usd" }, { stripeAccount: acct.id });
    await expect(sdk.transfers.createReversal(tr2.id, { amount: 100 })).rejects.toMatchObject({ code: "balance_insufficient" });
    await settledPayout(acct.id, po.id);
  });
});

describe("payouts on a connected account", () => {
  it("pending -> in_transit -> paid, with Connect events naming the account; listed by status; updated; another account's payout is 404", async () => {
    const acct = await connected();
    await fund(5000);
    await sdk.transfers.create({ amount: 2500, currency: "usd", destination: acct.id });
    const tooMuch = await stripeError(sdk.payouts.create({ amount: 2501, currency: "usd" }, { stripeAccount: acct.id }));
    expect(tooMuch).toMatchObject({ code: "balance_insufficient" });
    const po = await sdk.payouts.create({ amount: 2000, currency: "usd", metadata: { payout_id: "pyo_1", payout_key: "payout_pyo_1" }, statement_descriptor: "PAYBRIDGE" }, { stripeAccount: acct.id, idempotencyKey: "payout_pyo_1:payout" });
    conforms("payout", po);
    expect(po).toMatchObject({ status: "pending", automatic: false, livemode: false, source_type: "card", reconciliation_status: "not_applicable", type: "bank_account", method: "standard", failure_code: null, failure_balance_transaction: null, statement_descriptor: "PAYBRIDGE" });
    expect(po.destination).toBe((acct.external_accounts!.data[0] as Stripe.BankAccount).id);
    expect(await available(acct.id)).toBe(500);
    const t = await txnConforms(po.balance_transaction, acct.id);
    expect([t.type, t.amount]).toEqual(["payout", -2000]);

    const paid = await settledPayout(acct.id, po.id);
    expect(paid.status).toBe("paid");
    // Not on the platform.
    await expect(sdk.payouts.retrieve(po.id)).rejects.toMatchObject({ statusCode: 404 });
    const other = await connected();
    await expect(sdk.payouts.retrieve(po.id, {}, { stripeAccount: other.id })).rejects.toMatchObject({ statusCode: 404 });

    const events = (await sdk.events.list({ limit: 100 }, { stripeAccount: acct.id })).data.filter((e) => (e.data.object as { id: string }).id === po.id).reverse();
    expect(events.map((e) => e.type)).toEqual(["payout.created", "payout.updated", "payout.paid"]);
    for (const e of events) {
      expect(e.account).toBe(acct.id);
      conforms("payout", e.data.object);
    }
    expect((await sdk.events.list({ limit: 100 })).data.some((e) => (e.data.object as { id: string }).id === po.id)).toBe(false);
    expect(sandbox.stripeAccountObjects(acct.id, "payout").map((p) => p.id)).toEqual([po.id]);

    const held = await sdk.payouts.create({ amount: 100, currency: "usd", metadata: { sandbox_payout: "pending" } }, { stripeAccount: acct.id });
    expect((await sdk.payouts.list({ status: "paid" }, { stripeAccount: acct.id })).data.map((p) => p.id)).toEqual([po.id]);
    expect((await sdk.payouts.list({ status: "pending" }, { stripeAccount: acct.id })).data.map((p) => p.id)).toEqual([held.id]);
    expect((await sdk.payouts.list({}, { stripeAccount: acct.id })).data.map((p) => p.id)).toEqual([held.id, po.id]);
    const upd = await sdk.payouts.update(held.id, { metadata: { k: "v" } }, { stripeAccount: acct.id });
    conforms("payout", upd);
    expect(upd.metadata).toMatchObject({ k: "v", sandbox_payout: "pending" });
  });

  it.each([
    ["000111111116", "no_account"],
    ["000111111113", "account_closed"],
    ["000222222227", "insufficient_funds"],
  ])("bank account %s: the payout fails with %s, a failure balance transaction, and the balance back to the cent", async (number, code) => {
    const acct = await connected(number);
    await fund(3000);
    await sdk.transfers.create({ amount: 1234, currency: "usd", destination: acct.id });
    const po = await sdk.payouts.create({ amount: 1234, currency: "usd" }, { stripeAccount: acct.id });
    expect(await available(acct.id)).toBe(0);
    const failed = await settledPayout(acct.id, po.id);
    expect(failed).toMatchObject({ status: "failed", failure_code: code });
    expect(failed.failure_message).toMatch(/\w/);
    const ft = await txnConforms(failed.failure_balance_transaction, acct.id);
    expect([ft.type, ft.amount, ft.source]).toEqual(["payout_failure", 1234, po.id]);
    expect(await available(acct.id)).toBe(1234);
    const ev = (await sdk.events.list({ type: "payout.failed" }, { stripeAccount: acct.id })).data[0]!;
    expect(ev).toMatchObject({ account: acct.id, data: { object: { id: po.id, failure_code: code } } });
    conforms("payout", ev.data.object);
  });

  it("cancel: only while pending, money back (payout_cancel); reverse: a paid payout pulled back by a new payout", async () => {
    const acct = await connected();
    await fund(5000);
    await sdk.transfers.create({ amount: 3000, currency: "usd", destination: acct.id });
    const held = await sdk.payouts.create({ amount: 1000, currency: "usd", metadata: { sandbox_payout: "pending" } }, { stripeAccount: acct.id });
    const canceled = await sdk.payouts.cancel(held.id, {}, { stripeAccount: acct.id });
    conforms("payout", canceled);
    expect(canceled.status).toBe("canceled");
    expect((await txnConforms(canceled.failure_balance_transaction, acct.id)).type).toBe("payout_cancel");
    expect(await available(acct.id)).toBe(3000);
    expect((await sdk.events.list({ type: "payout.canceled" }, { stripeAccount: acct.id })).data[0]!.data.object).toMatchObject({ id: held.id });

    const po = await sdk.payouts.create({ amount: 2000, currency: "usd" }, { stripeAccount: acct.id });
    await expect(sdk.payouts.reverse(po.id, {}, { stripeAccount: acct.id })).rejects.toMatchObject({ statusCode: 400 });
    expect((await settledPayout(acct.id, po.id)).status).toBe("paid");
    await expect(sdk.payouts.cancel(po.id, {}, { stripeAccount: acct.id })).rejects.toMatchObject({ statusCode: 400 });
    const rev = await sdk.payouts.reverse(po.id, { metadata: { why: "wrong seller" } }, { stripeAccount: acct.id });
    conforms("payout", rev);
    expect(rev).toMatchObject({ original_payout: po.id, amount: 2000 });
    expect((await sdk.payouts.retrieve(po.id, {}, { stripeAccount: acct.id })).reversed_by).toBe(rev.id);
    expect(await available(acct.id)).toBe(3000);
    expect((await settledPayout(acct.id, rev.id)).status).toBe("paid");
    await expect(sdk.payouts.reverse(po.id, {}, { stripeAccount: acct.id })).rejects.toMatchObject({ statusCode: 400 });
  });

  it("a platform payout still works (metadata[sandbox_payout]=fail fails it), and manual payouts are not itemized", async () => {
    await fund(2000);
    const po = await sdk.payouts.create({ amount: 100, currency: "usd", metadata: { sandbox_payout: "fail" } });
    conforms("payout", po);
    const failed = await waitFor(async () => {
      const p = await sdk.payouts.retrieve(po.id);
      return p.status === "failed" ? p : undefined;
    });
    expect(failed.failure_code).toBe("account_closed");
    const refused = await stripeError(sdk.balanceTransactions.list({ payout: po.id }));
    expect(refused).toMatchObject({ statusCode: 400 });
    expect(refused!.message).toContain("only be filtered on automatic");
  });
});

describe("payouts after the fact and across a restart", () => {
  it("metadata[sandbox_payout]=paid_then_fail: paid, then returned by the bank (failed, account_closed, money back)", async () => {
    const acct = await connected();
    await fund(3000);
    await sdk.transfers.create({ amount: 900, currency: "usd", destination: acct.id });
    const po = await sdk.payouts.create({ amount: 900, currency: "usd", metadata: { sandbox_payout: "paid_then_fail" } }, { stripeAccount: acct.id });
    // Paid first (the events say so; a poll may miss it at test speed), then failed.
    const failed = await waitFor(async () => {
      const p = await sdk.payouts.retrieve(po.id, {}, { stripeAccount: acct.id });
      return p.status === "failed" ? p : undefined;
    });
    conforms("payout", failed);
    expect(failed.failure_code).toBe("account_closed");
    expect(await available(acct.id)).toBe(900);
    const types = (await sdk.events.list({ limit: 100 }, { stripeAccount: acct.id })).data.filter((e) => (e.data.object as { id: string }).id === po.id).map((e) => e.type).reverse();
    expect(types).toEqual(["payout.created", "payout.updated", "payout.paid", "payout.failed"]);
  });

  it("a persisted sandbox stopped with a payout in flight: after the restart the payout still settles (on read), the connected balance and the idempotent answers are kept", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "pb-connect-"));
    const stateFile = path.join(dir, "state.jsonl");
    try {
      let s = await startTestSandbox({ stateFile, asyncSettleMs: 60_000 });
      let c = sdkFor(s.port);
      await fund(5000, c);
      const acct = await connected("000111111116", {}, c);
      const tr = await c.transfers.create({ amount: 2000, currency: "usd", destination: acct.id, transfer_group: "payout_restart" }, { idempotencyKey: "payout_restart:transfer" });
      const po = await c.payouts.create({ amount: 1500, currency: "usd", metadata: { payout_key: "payout_restart" } }, { stripeAccount: acct.id, idempotencyKey: "payout_restart:payout" });
      await s.stop();
      s = await startTestSandbox({ stateFile, asyncSettleMs: 0 });
      c = sdkFor(s.port);
      try {
        expect((await c.transfers.create({ amount: 2000, currency: "usd", destination: acct.id, transfer_group: "payout_restart" }, { idempotencyKey: "payout_restart:transfer" })).id).toBe(tr.id);
        expect((await c.payouts.list({}, { stripeAccount: acct.id })).data.map((p) => p.id)).toEqual([po.id]);
        // The stored timings of the payout are what they were (a minute): it settles when they have passed.
        expect((await c.payouts.retrieve(po.id, {}, { stripeAccount: acct.id })).status).toBe("pending");
        const stored = s.stripeAccountObjects(acct.id, "payout")[0]!;
        stored._in_transit_at = 0;
        stored._done_at = 0;
        const failed = await c.payouts.retrieve(po.id, {}, { stripeAccount: acct.id });
        expect([failed.status, failed.failure_code]).toEqual(["failed", "no_account"]);
        expect(await available(acct.id, c)).toBe(2000);
      } finally {
        await s.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("automatic payouts", () => {
  it("a daily schedule pays the available balance when the sandbox clock passes midnight; ?payout= lists what it covered; reconciliation completes", async () => {
    const acct = await connected("000123456789", { settings: { payouts: { schedule: { interval: "daily" } } } });
    await fund(8000);
    const t1 = await sdk.transfers.create({ amount: 1500, currency: "usd", destination: acct.id });
    const t2 = await sdk.transfers.create({ amount: 2500, currency: "usd", destination: acct.id });
    expect((await sdk.payouts.list({}, { stripeAccount: acct.id })).data).toEqual([]);
    sandbox.advanceClock(86_400);
    const [po] = (await sdk.payouts.list({}, { stripeAccount: acct.id })).data;
    expect(po).toMatchObject({ automatic: true, amount: 4000, reconciliation_status: "in_progress" });
    conforms("payout", po);
    expect(await available(acct.id)).toBe(0);
    const items = await sdk.balanceTransactions.list({ payout: po!.id }, { stripeAccount: acct.id });
    expect(items.data.map((t) => t.source).sort()).toEqual([t1.destination_payment, t2.destination_payment, po!.id].sort());
    expect(items.data.reduce((s, t) => s + t.net, 0)).toBe(0);
    for (const t of items.data) conforms("balance_transaction", t);
    const done = await waitFor(async () => {
      const p = await sdk.payouts.retrieve(po!.id, {}, { stripeAccount: acct.id });
      return p.reconciliation_status === "completed" ? p : undefined;
    });
    expect(done.status).toBe("paid");
    conforms("payout", done);
    const types = (await sdk.events.list({ limit: 100 }, { stripeAccount: acct.id })).data.filter((e) => (e.data.object as { id: string }).id === po!.id).map((e) => e.type);
    expect(types).toContain("payout.reconciliation_completed");
    // The next day with nothing new: no payout.
    sandbox.advanceClock(86_400);
    expect((await sdk.payouts.list({}, { stripeAccount: acct.id })).data).toHaveLength(1);
  });
});

describe("idempotency keys and expand", () => {
  it("an Idempotency-Key replays for 24 h of sandbox time, then is forgotten: the same key makes a new transfer", async () => {
    const acct = await connected();
    await fund(5000);
    const key = `payout_expiry_${Date.now()}:transfer`;
    const params = { amount: 700, currency: "usd", destination: acct.id, transfer_group: key };
    const first = await sdk.transfers.create(params, { idempotencyKey: key });
    sandbox.advanceClock(23 * 3600);
    expect((await sdk.transfers.create(params, { idempotencyKey: key })).id).toBe(first.id);
    sandbox.advanceClock(2 * 3600);
    const second = await sdk.transfers.create(params, { idempotencyKey: key });
    expect(second.id).not.toBe(first.id);
    expect((await sdk.transfers.list({ transfer_group: key })).data).toHaveLength(2);
    // Keys are per account: the same key on a connected account is another request.
    await sdk.transfers.create({ amount: 1, currency: "usd", destination: acct.id }, { idempotencyKey: "shared-key" });
    const po = await sdk.payouts.create({ amount: 1, currency: "usd" }, { stripeAccount: acct.id, idempotencyKey: "shared-key" });
    expect(po.object).toBe("payout");
  });

  it("expand[]=latest_charge.balance_transaction (and on lists, data.…); funds available on the sandbox clock", async () => {
    const slow = await startTestSandbox({ availableDelayS: 2 * 86_400 });
    try {
      const c = sdkFor(slow.port);
      const pi = await fund(4000, c);
      const got = await c.paymentIntents.retrieve(pi.id, { expand: ["latest_charge.balance_transaction"] });
      const charge = got.latest_charge as Stripe.Charge;
      expect(charge.object).toBe("charge");
      const bt = charge.balance_transaction as Stripe.BalanceTransaction;
      conforms("balance_transaction", bt);
      expect(bt.status).toBe("pending");
      expect(bt.available_on).toBeGreaterThan(bt.created);
      // A transfer out of pending funds is refused; tied to the charge (source_transaction) it waits with it.
      const acct = await connected("000123456789", {}, c);
      await expect(c.transfers.create({ amount: 100, currency: "usd", destination: acct.id })).rejects.toMatchObject({ code: "balance_insufficient" });
      await c.transfers.create({ amount: 1000, currency: "usd", destination: acct.id, source_transaction: charge.id });
      expect(await available(acct.id, c)).toBe(0);
      slow.advanceClock(2 * 86_400 + 1);
      const later = await c.paymentIntents.retrieve(pi.id, { expand: ["latest_charge.balance_transaction"] });
      expect(((later.latest_charge as Stripe.Charge).balance_transaction as Stripe.BalanceTransaction).status).toBe("available");
      expect((await c.balanceTransactions.retrieve(bt.id)).status).toBe("available");
      expect(await available(acct.id, c)).toBe(1000);
      const listed = await c.charges.list({ payment_intent: pi.id, expand: ["data.balance_transaction"] });
      expect((listed.data[0]!.balance_transaction as Stripe.BalanceTransaction).object).toBe("balance_transaction");
      // The stored charge is not changed by expanding it.
      expect(typeof (await c.charges.retrieve(charge.id)).balance_transaction).toBe("string");
    } finally {
      await slow.stop();
    }
  });
});

describe("events", () => {
  it("every transfer and payout inside the sandbox's events conforms", async () => {
    let n = 0;
    for await (const ev of sdk.events.list({ limit: 100 })) {
      const obj = ev.data.object as { object: string };
      if (obj.object === "transfer" || obj.object === "payout") {
        conforms(obj.object, obj);
        n++;
      }
    }
    expect(n).toBeGreaterThan(5);
  });
});
