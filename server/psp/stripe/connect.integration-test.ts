// The Stripe connector's Connect operations (server/psp/types.ts StripeConnectOps) and payout/transfer webhooks,
// against the sandbox through the real stripe SDK: a transfer to a connected account found again by its
// transfer_group, a payout on that account (Stripe-Account header) found by metadata.payout_key, a failing bank
// account's payout read back with its failure code, the transfer reversed; every call recorded in psp_attempts; the
// sandbox's signed payout / transfer events stored by our webhook route function and concluded by stripe-payout.ts
// into `payout.updated` effects naming our payout's key, the po_… id and the connected account.
import { and, eq, inArray } from "drizzle-orm";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pspAttempts, pspEvents } from "@/db/schema";
import { env } from "@/server/env.js";
import { money } from "@/server/money";
import { createStripeConnector } from "@/server/psp";
import { PspError } from "@/server/psp/errors";
import { processPspEvent } from "@/server/webhooks/process-psp-event";
import { stripePayoutEvents } from "@/server/webhooks/psp-events/stripe-payout";
import { receiveStripeWebhook } from "@/server/webhooks/receive-stripe-webhook";
import type { Sandbox } from "@/sandbox";
import { startReceiver, startTestSandbox, waitFor, type Receiver } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";

const WEBHOOK_SECRET = "whsec_connect_test";
const CEILING_MS = 20_000;

let t: TestDatabase;
let sandbox: Sandbox;
let receiver: Receiver;
let sdk: Stripe;
let n = 0;
const key = (l: string) => `connect_${l}_${++n}_${Date.now()}`;
const connector = () => createStripeConnector(t.db, { apiBase: sandbox.url, timeoutMs: 3_000 });
const kes = (minor: bigint) => money(minor, "KES");

beforeAll(async () => {
  t = await createTestDatabase();
  receiver = await startReceiver(async (_path, body, headers) => {
    const signature = headers["stripe-signature"];
    const reply = await receiveStripeWebhook(t.db, body, typeof signature === "string" ? signature : null, WEBHOOK_SECRET);
    return { status: reply.status, body: reply.body };
  });
  sandbox = await startTestSandbox({ webhookTargets: { stripe: [`${receiver.url}/api/webhooks/stripe`] }, stripeWebhookSecret: WEBHOOK_SECRET });
  const base = new URL(sandbox.url);
  sdk = new Stripe(env.STRIPE_SECRET_KEY, { host: base.hostname, port: Number(base.port), protocol: "http", maxNetworkRetries: 0, telemetry: false });
  // Platform funds to transfer from: a card charge, available at once (availableDelayS 0).
  await sdk.paymentIntents.create({ amount: 5_000_000, currency: "kes", payment_method: "pm_card_visa", confirm: true, return_url: "https://shop.example/r" });
}, 60_000);
afterAll(async () => {
  await sandbox?.stop();
  await receiver?.stop();
  await t?.drop();
});

const connectedAccount = async (accountNumber = "000123456789") =>
  (await sdk.accounts.create({ type: "custom", country: "KE", external_account: { object: "bank_account", country: "KE", currency: "kes", account_number: accountNumber } as unknown as string })).id;

describe("StripeConnectOps against the sandbox", () => {
  it("a transfer and a payout, each found again by our key; the attempts recorded; the account checked", async () => {
    const c = connector();
    const account = await connectedAccount();
    expect(await c.connect.getAccount({ accountId: account })).toEqual({ id: account, payoutsEnabled: true });
    const pspKey = `payout_pyo_${key("ok")}`;
    const metadata = { payout_id: pspKey.slice("payout_".length), payout_key: pspKey };
    expect(await c.connect.findTransfers({ transferGroup: pspKey })).toEqual([]);
    const tr = await c.connect.createTransfer({ amount: kes(12_345n), destination: account, transferGroup: pspKey, idempotencyKey: `${pspKey}:transfer`, metadata });
    expect(tr).toMatchObject({ amount: kes(12_345n), amountReversed: 0n, destination: account, transferGroup: pspKey });
    // The same key answers the same transfer; the look-up finds exactly it.
    expect((await c.connect.createTransfer({ amount: kes(12_345n), destination: account, transferGroup: pspKey, idempotencyKey: `${pspKey}:transfer`, metadata })).id).toBe(tr.id);
    expect((await c.connect.findTransfers({ transferGroup: pspKey })).map((x) => x.id)).toEqual([tr.id]);

    const since = new Date(Date.now() - 86_400_000);
    expect(await c.connect.findPayouts({ account, payoutKey: pspKey, createdAfter: since })).toEqual([]);
    const po = await c.connect.createPayout({ account, amount: kes(12_345n), idempotencyKey: `${pspKey}:payout`, metadata, method: "standard", description: "Seller payout" });
    expect(po).toMatchObject({ amount: kes(12_345n), payoutKey: pspKey });
    expect(["pending", "in_transit", "paid"]).toContain(po.status);
    expect((await c.connect.findPayouts({ account, payoutKey: pspKey, createdAfter: since })).map((p) => p.id)).toEqual([po.id]);
    // Another key on the same account finds nothing.
    expect(await c.connect.findPayouts({ account, payoutKey: `${pspKey}x`, createdAfter: since })).toEqual([]);
    const paid = await waitFor(async () => {
      const p = await c.connect.getPayout({ account, payoutId: po.id });
      return p.status === "paid" ? p : undefined;
    }, CEILING_MS, 50);
    expect(paid.arrivalDate).toBeInstanceOf(Date);
    // The payout lives on the connected account: the platform cannot read it without the Stripe-Account header.
    await expect(sdk.payouts.retrieve(po.id)).rejects.toMatchObject({ statusCode: 404 });

    const attempts = await t.db.select().from(pspAttempts).where(and(eq(pspAttempts.psp, "stripe"), inArray(pspAttempts.idempotencyKey, [`${pspKey}:transfer`, `${pspKey}:payout`])));
    expect(attempts.map((a) => a.operation).sort()).toEqual(["payout.create", "transfer.create", "transfer.create"]);
    expect(attempts.every((a) => a.outcome === "ok")).toBe(true);
    expect(attempts.find((a) => a.operation === "payout.create")!.request).toMatchObject({ account, amount: 12_345 });
  });

  it("a closed bank account: the payout fails with account_closed, and the transfer is reversed in full", async () => {
    const c = connector();
    const account = await connectedAccount("000111111113");
    const pspKey = `payout_pyo_${key("closed")}`;
    const metadata = { payout_id: pspKey.slice("payout_".length), payout_key: pspKey };
    const tr = await c.connect.createTransfer({ amount: kes(5_000n), destination: account, transferGroup: pspKey, idempotencyKey: `${pspKey}:transfer`, metadata });
    const po = await c.connect.createPayout({ account, amount: kes(5_000n), idempotencyKey: `${pspKey}:payout`, metadata, method: "standard" });
    const failed = await waitFor(async () => {
      const p = await c.connect.getPayout({ account, payoutId: po.id });
      return p.status === "failed" ? p : undefined;
    }, CEILING_MS, 50);
    expect(failed.failureCode).toBe("account_closed");
    expect(failed.failureMessage).toBeTruthy();
    const rev = await c.connect.reverseTransfer({ transferId: tr.id, idempotencyKey: `${pspKey}:reversal`, metadata });
    expect(rev.amount).toEqual(kes(5_000n));
    expect((await c.connect.reverseTransfer({ transferId: tr.id, idempotencyKey: `${pspKey}:reversal`, metadata })).id).toBe(rev.id);
    expect((await c.connect.findTransfers({ transferGroup: pspKey }))[0]).toMatchObject({ id: tr.id, amountReversed: 5_000n });
  });

  it("refusals are PspErrors that retrying cannot fix: an unknown account, a transfer larger than the platform's balance", async () => {
    const c = connector();
    const e1 = await c.connect.getAccount({ accountId: "acct_doesnotexist000" }).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(PspError);
    expect((e1 as PspError).retryable).toBe(false);
    const account = await connectedAccount();
    const e2 = await c.connect.createTransfer({ amount: kes(10n ** 12n), destination: account, transferGroup: `payout_${key("big")}`, idempotencyKey: key("big"), metadata: {} }).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(PspError);
    expect(e2).toMatchObject({ pspCode: "balance_insufficient" });
    expect((e2 as PspError).retryable).toBe(false);
  });
});

describe("Stripe payout and transfer events (stripe-payout.ts)", () => {
  it("are stored and concluded into payout.updated effects: our key, the po_ id, the connected account", async () => {
    const c = connector();
    const account = await connectedAccount();
    const pspKey = `payout_pyo_${key("events")}`;
    const metadata = { payout_id: pspKey.slice("payout_".length), payout_key: pspKey };
    const tr = await c.connect.createTransfer({ amount: kes(2_000n), destination: account, transferGroup: pspKey, idempotencyKey: `${pspKey}:transfer`, metadata });
    const po = await c.connect.createPayout({ account, amount: kes(2_000n), idempotencyKey: `${pspKey}:payout`, metadata, method: "standard" });
    const stored = await waitFor(async () => {
      const rows = await t.db.select().from(pspEvents).where(and(eq(pspEvents.psp, "stripe"), inArray(pspEvents.objectId, [tr.id, po.id])));
      const types = new Set(rows.map((r) => r.eventType));
      return types.has("transfer.created") && types.has("payout.paid") ? rows : undefined;
    }, CEILING_MS, 50);
    let concluded = 0;
    for (const row of stored) {
      const done = await processPspEvent(t.db, row.id);
      if (!stripePayoutEvents.eventTypes.includes(row.eventType)) continue;
      concluded++;
      expect(done.status).toBe("processed");
      const effects = await stripePayoutEvents.effects(t.db, done);
      if (row.objectId === tr.id) expect(effects).toEqual([{ type: "payout.updated", psp: "stripe", payoutKey: pspKey }]);
      else expect(effects).toEqual([{ type: "payout.updated", psp: "stripe", payoutKey: pspKey, pspPayoutId: po.id, account }]);
    }
    expect(concluded).toBeGreaterThanOrEqual(2);
  });

  it("an event naming nothing of ours (no key, no payout id) has no effect; a body's status is not trusted", async () => {
    const base = { id: "evt_x", object: "event", api_version: "2023-08-16", created: 1, livemode: false, pending_webhooks: 0, request: { id: null, idempotency_key: null } };
    const row = (type: string, object: Record<string, unknown>, account?: string) =>
      ({ id: "pse_x", psp: "stripe", eventType: type, status: "received", payload: { ...base, type, ...(account ? { account } : {}), data: { object } }, verdict: {} }) as never;
    const transfer = await stripePayoutEvents.conclude(t.db, row("transfer.created", { id: "tr_1", object: "transfer", transfer_group: null, metadata: {} }), { daraja: () => { throw new Error("unused"); } });
    expect(await stripePayoutEvents.effects(t.db, { status: "processed", verdict: transfer.verdict } as never)).toEqual([]);
    const payout = await stripePayoutEvents.conclude(t.db, row("payout.paid", { id: "po_1", object: "payout", status: "paid", metadata: { payout_key: "payout_pyo_1" } }, "acct_1"), { daraja: () => { throw new Error("unused"); } });
    const effects = await stripePayoutEvents.effects(t.db, { status: "processed", verdict: payout.verdict } as never);
    expect(effects).toEqual([{ type: "payout.updated", psp: "stripe", payoutKey: "payout_pyo_1", pspPayoutId: "po_1", account: "acct_1" }]);
    expect(effects[0]).not.toHaveProperty("outcome");
  });
});
