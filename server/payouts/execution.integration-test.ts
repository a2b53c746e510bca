// Payout execution (slice P4), wired as in production: real Postgres; the PSP sandbox behind the real stripe SDK and
// our Daraja connector, its signed Stripe webhooks and Daraja callbacks to a receiver calling the app's receive
// functions; the local engine runs the payment (PSP event), payout and exception functions through the real serve()
// handler, fed by the outbox dispatcher. Nothing of ours is mocked. PSP objects are counted at the sandbox (transfers
// by transfer_group, payouts by metadata.payout_key, B2C requests by OriginatorConversationID), never by our rows.
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { merchantEvents, merchants, opsExceptions, payouts, payoutTransitions } from "@/db/schema";
import { startTestApp, type TestApp } from "@/inngest/engine/testing";
import { createExceptionFunctions } from "@/inngest/functions/exceptions";
import { createPaymentFunctions } from "@/inngest/functions/payments";
import { createPayoutFunctions } from "@/inngest/functions/payouts";
import { checkLedgerInvariants, formatInvariantReport, loadTransactionBySource } from "@/server/ledger";
import { money } from "@/server/money";
import { startOutboxDispatcher, type OutboxDispatcher } from "@/server/outbox";
import { getConnector, type PspName } from "@/server/psp";
import { getWallet } from "@/server/wallet/get-balance";
import { receiveMpesaCallback } from "@/server/webhooks/receive-mpesa-callback";
import { receiveStripeWebhook } from "@/server/webhooks/receive-stripe-webhook";
import type { Sandbox } from "@/sandbox";
import { startReceiver, startTestSandbox, waitFor, type Receiver } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createUser } from "@/test/fixtures";
import { applyPayoutOutcome } from "./apply-outcome";
import { requestManualPayout } from "./build";
import { checkPayout, connectedPayoutKey, reconcileOpenPayouts, sendPayout, transferKey } from "./execution";
import { wakePayout } from "./psp-effects";
import { transitionPayout, type Payout, type PayoutStatus } from "./state-machine";
import { setupPayoutSeller, type PayoutSeller } from "./test-helpers";

const WEBHOOK_SECRET = "whsec_payout_execution";
const MPESA_PREFIX = "/api/webhooks/mpesa/";
/** The sandbox's delay before a connected account's payout is paid or failed. */
const ASYNC_SETTLE_MS = 300;
const CEILING_MS = 45_000;
/** Above the ceiling of every wait in a test (a loaded CI machine). */
const TEST_TIMEOUT_MS = 120_000;

let t: TestDatabase;
let sandbox: Sandbox;
let receiver: Receiver;
let app: TestApp;
let outbox: OutboxDispatcher;
let n = 0;
const connectorFor = (db: Db, psp: PspName) => getConnector(db, psp, { apiBase: sandbox.url, appUrl: receiver.url, timeoutMs: 1_500 });

beforeAll(async () => {
  t = await createTestDatabase();
  receiver = await startReceiver(async (path, body, headers) => {
    if (path.startsWith(MPESA_PREFIX)) return receiveMpesaCallback(t.db, path.slice(MPESA_PREFIX.length), body);
    const signature = headers["stripe-signature"];
    const reply = await receiveStripeWebhook(t.db, body, typeof signature === "string" ? signature : null, WEBHOOK_SECRET);
    return { status: reply.status, body: reply.body };
  });
  sandbox = await startTestSandbox({ webhookTargets: { stripe: [`${receiver.url}/api/webhooks/stripe`] }, stripeWebhookSecret: WEBHOOK_SECRET, asyncSettleMs: ASYNC_SETTLE_MS });
  app = await startTestApp({
    db: t.db,
    clientId: "paybridge",
    backoff: () => 300,
    functions: (client) => [
      ...createPaymentFunctions(client, { getDb: () => t.db, connectorFor, statusWaits: ["50ms"] }),
      ...createPayoutFunctions(client, { getDb: () => t.db, connectorFor, statusWaits: ["600ms", "1s"], statusChecksMax: 20 }),
      ...createExceptionFunctions(client, { getDb: () => t.db }),
    ],
  });
  outbox = startOutboxDispatcher({ db: t.db, send: (events) => app.client.send(events), pollMs: 20 });
  // The platform's Stripe balance pays the transfers; one seller's card payment leaves less than its share once
  // Stripe's fee is taken, so a float of other sales is paid in first (as a live platform has).
  await setupPayoutSeller(t.db, { psp: "stripe", sandbox, available: 5_000_000n });
}, 90_000);
afterAll(async () => {
  sandbox?.clearFaults();
  await outbox?.stop();
  await app?.stop();
  await sandbox?.stop();
  await receiver?.stop();
  await t?.drop();
});

async function payoutRow(id: string): Promise<Payout> {
  const [p] = await t.db.select().from(payouts).where(eq(payouts.id, id));
  return p!;
}
const waitForStatus = (id: string, status: PayoutStatus) =>
  waitFor(async () => ((await payoutRow(id)).status === status ? payoutRow(id) : undefined), CEILING_MS, 50, async () => {
    const p = await payoutRow(id);
    const moves = await t.db.select().from(payoutTransitions).where(eq(payoutTransitions.payoutId, id));
    return { status: p.status, moves: moves.map((m) => `${m.fromStatus}->${m.toStatus} (${m.reason})`) };
  });

// What the PSP has, counted at the sandbox.
const transfersOf = (p: Payout) => sandbox.stripeObjects("transfer").filter((x) => x.transfer_group === p.pspKey);
const stripePayoutsOf = (p: Payout) => sandbox.stripeObjects("payout").filter((x) => (x.metadata as Record<string, string> | undefined)?.payout_key === p.pspKey);
const b2cOf = (p: Payout) => sandbox.b2cRequests().filter((r) => r.originatorConversationId === p.pspKey);

async function ledgerClean() {
  const report = await checkLedgerInvariants(t.db);
  expect(report.ok, formatInvariantReport(report)).toBe(true);
}
const wallet = (s: PayoutSeller) => getWallet(t.db, s.seller.id, "KES");
const eventTypes = async (p: Payout) => (await t.db.select({ type: merchantEvents.type }).from(merchantEvents).where(eq(merchantEvents.objectId, p.id))).map((e) => e.type).sort();

const request = (s: PayoutSeller, amount?: bigint) =>
  requestManualPayout(t.db, { merchantId: s.merchant.id, sellerId: s.seller.id, currency: "KES", amount, origin: "api", idempotencyKey: `exec-${++n}-${Date.now()}` });

/** A payout nobody executes yet: above the approval threshold (no payout/execute), then moved to pending by hand. */
async function unexecutedPayout(s: PayoutSeller, amount?: bigint): Promise<Payout> {
  await t.db.update(merchants).set({ payoutApprovalThreshold: 1n }).where(eq(merchants.id, s.merchant.id));
  const p = await request(s, amount);
  expect(p.status).toBe("pending_approval");
  const approver = await createUser(t.db);
  const { payout } = await t.db.transaction((tx) => transitionPayout(tx, { payoutId: p.id, to: "pending", reason: "approved", actorUserId: approver.id }));
  return payout;
}

describe("Stripe payouts: a transfer to the connected account, then a payout on it", () => {
  it("pays once: one transfer, one connected payout, hold captured, payout.created + payout.paid", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "stripe", sandbox, available: 50_000n });
    const before = await wallet(s);
    expect(before.available.amount).toBe(50_000n);
    const p = await request(s);
    expect(p).toMatchObject({ status: "pending", amount: 50_000n, pspKey: `payout_${p.id}` });
    const paid = await waitForStatus(p.id, "paid");
    expect(paid.pspTransferId).toMatch(/^tr_/);
    expect(paid.pspPayoutId).toMatch(/^po_/);
    expect(paid.paidAt).toBeInstanceOf(Date);
    expect(transfersOf(p)).toHaveLength(1);
    expect(transfersOf(p)[0]).toMatchObject({ id: paid.pspTransferId, amount: 50_000, destination: s.destination.stripeAccountId, metadata: { payout_id: p.id, payout_key: p.pspKey } });
    expect(stripePayoutsOf(p)).toHaveLength(1);
    expect(stripePayoutsOf(p)[0]).toMatchObject({ id: paid.pspPayoutId, amount: 50_000, status: "paid" });
    const after = await wallet(s);
    expect(after.available.amount).toBe(0n);
    expect(after.onHold.amount).toBe(0n);
    const posted = await loadTransactionBySource(t.db, "payout.paid", p.id);
    expect(posted?.id).toBe(paid.paidTransactionId);
    expect(await eventTypes(p)).toEqual(["payout.created", "payout.paid"]);
    await ledgerClean();
  }, TEST_TIMEOUT_MS);

  it("a bank failure (account_closed): the transfer is reversed at Stripe and the available balance is restored exactly", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "stripe", sandbox, available: 12_345n, accountNumber: "000111111113" });
    const before = await wallet(s);
    const p = await request(s, 10_000n);
    expect((await wallet(s)).available.amount).toBe(before.available.amount - 10_000n);
    const failed = await waitForStatus(p.id, "failed");
    expect(failed.failureCode).toBe("account_closed");
    expect(failed.failureMessage).toBeTruthy();
    expect(failed.pspTransferReversalId).toMatch(/^trr_/);
    expect(transfersOf(p)).toHaveLength(1);
    expect(transfersOf(p)[0]).toMatchObject({ amount_reversed: 10_000, reversed: true });
    expect(stripePayoutsOf(p)).toHaveLength(1);
    expect(stripePayoutsOf(p)[0]).toMatchObject({ status: "failed", failure_code: "account_closed" });
    const after = await wallet(s);
    expect(after.available.amount).toBe(before.available.amount);
    expect(after.onHold.amount).toBe(0n);
    expect(after.pending.amount).toBe(before.pending.amount);
    expect(await eventTypes(p)).toEqual(["payout.created", "payout.failed"]);
    const [event] = await t.db.select().from(merchantEvents).where(and(eq(merchantEvents.objectId, p.id), eq(merchantEvents.type, "payout.failed")));
    expect(event!.payload).toMatchObject({ object: "payout", id: p.id, status: "failed", failure_code: "account_closed", amount: "100.00" });
    await ledgerClean();
  }, TEST_TIMEOUT_MS);

  it("after the sandbox clock passes the 24 h key expiry, a retried send finds the transfer and payout and pays nothing twice", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "stripe", sandbox, available: 30_000n });
    const p = await unexecutedPayout(s);
    // A first run that called Stripe and died before recording anything (the after_psp_call crash).
    const connect = connectorFor(t.db, "stripe").connect!;
    const metadata = { payout_id: p.id, payout_key: p.pspKey };
    const tr = await connect.createTransfer({ amount: money(p.amount, "KES"), destination: s.destination.stripeAccountId!, transferGroup: p.pspKey, idempotencyKey: transferKey(p), metadata });
    const po = await connect.createPayout({ account: s.destination.stripeAccountId!, amount: money(p.amount, "KES"), idempotencyKey: connectedPayoutKey(p), metadata, method: "standard" });
    // The control: the sandbox forgets idempotency keys after 24 h, so a key alone would pay again.
    const probeKey = `probe-${p.id}`;
    const probe = () => connect.createTransfer({ amount: money(100n, "KES"), destination: s.destination.stripeAccountId!, transferGroup: `probe_${p.id}`, idempotencyKey: probeKey, metadata: {} });
    const first = await probe();
    sandbox.advanceClock(25 * 3600);
    expect((await probe()).id).not.toBe(first.id);

    const result = await sendPayout(t.db, connectorFor, p.id);
    expect(result.status === "in_transit" || result.status === "paid").toBe(true);
    const row = await payoutRow(p.id);
    expect(row.pspTransferId).toBe(tr.id);
    expect(row.pspPayoutId).toBe(po.id);
    await waitFor(async () => (await checkPayout(t.db, connectorFor, p.id, { timedOut: true, checkNo: 0 })).status === "paid" || undefined, CEILING_MS, 200);
    expect(transfersOf(p)).toHaveLength(1);
    expect(stripePayoutsOf(p)).toHaveLength(1);
    await ledgerClean();
  }, TEST_TIMEOUT_MS);

  it("a transfer whose answer was lost (done at Stripe): unknown; the janitor finds it, the execution pays it once", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "stripe", sandbox, available: 20_000n });
    const p = await unexecutedPayout(s);
    sandbox.addFault({ fault: "hang=after_commit", method: "POST", pathPrefix: "/v1/transfers", count: 1 });
    await expect(sendPayout(t.db, connectorFor, p.id)).rejects.toMatchObject({ name: "PspError" });
    expect((await payoutRow(p.id)).status).toBe("unknown");
    expect(transfersOf(p)).toHaveLength(1); // Stripe did it; we do not know
    const swept = await reconcileOpenPayouts(t.db, connectorFor);
    expect(swept.checked).toBeGreaterThanOrEqual(1);
    const row = await payoutRow(p.id);
    expect(row.pspTransferId).toBe(transfersOf(p)[0]!.id);
    expect(row.status).not.toBe("unknown");
    await waitForStatus(p.id, "paid");
    expect(transfersOf(p)).toHaveLength(1);
    expect(stripePayoutsOf(p)).toHaveLength(1);
    const moves = await t.db.select().from(payoutTransitions).where(eq(payoutTransitions.payoutId, p.id));
    expect(moves.map((m) => m.toStatus)).toEqual(expect.arrayContaining(["unknown", "pending", "in_transit", "paid"]));
    await ledgerClean();
  }, TEST_TIMEOUT_MS);

  it("a transfer that never reached Stripe: unknown; the janitor finds nothing, re-executes, one transfer is made", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "stripe", sandbox, available: 20_000n });
    const p = await unexecutedPayout(s);
    sandbox.addFault({ fault: "hang", method: "POST", pathPrefix: "/v1/transfers", count: 1 });
    await expect(sendPayout(t.db, connectorFor, p.id)).rejects.toMatchObject({ name: "PspError" });
    expect((await payoutRow(p.id)).status).toBe("unknown");
    expect(transfersOf(p)).toHaveLength(0);
    const swept = await reconcileOpenPayouts(t.db, connectorFor);
    expect(swept.resent).toBeGreaterThanOrEqual(1);
    await waitForStatus(p.id, "paid");
    expect(transfersOf(p)).toHaveLength(1);
    expect(stripePayoutsOf(p)).toHaveLength(1);
    await ledgerClean();
  }, TEST_TIMEOUT_MS);

  it("a 503 on the connected payout inside the execution: retried after a look-up, one payout", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "stripe", sandbox, available: 15_000n });
    sandbox.addFault({ fault: "status=503", method: "POST", pathPrefix: "/v1/payouts", count: 1 });
    const p = await request(s);
    await waitForStatus(p.id, "paid");
    expect(transfersOf(p)).toHaveLength(1);
    expect(stripePayoutsOf(p)).toHaveLength(1);
    await ledgerClean();
  }, TEST_TIMEOUT_MS);

  it("a stale or repeated outcome changes nothing; a PSP 'paid' for a failed payout is an ops exception, not money", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "stripe", sandbox, available: 9_000n, accountNumber: "000111111116" });
    const p = await request(s);
    const failed = await waitForStatus(p.id, "failed");
    expect(failed.failureCode).toBe("no_account");
    const before = await wallet(s);
    const again = await t.db.transaction((tx) => applyPayoutOutcome(tx, p.id, { status: "failed", failureCode: "other" }, "test_replay"));
    expect(again.changed).toBe(false);
    expect(again.payout.failureCode).toBe("no_account");
    const late = await t.db.transaction((tx) => applyPayoutOutcome(tx, p.id, { status: "paid" }, "test_late_paid"));
    expect(late.changed).toBe(false);
    expect((await wallet(s)).available.amount).toBe(before.available.amount);
    const [exc] = await t.db.select().from(opsExceptions).where(and(eq(opsExceptions.subjectType, "payout"), eq(opsExceptions.subjectId, p.id)));
    expect(exc).toMatchObject({ kind: "payout", reason: "amount_mismatch", merchantId: s.merchant.id });
    await ledgerClean();
  }, TEST_TIMEOUT_MS);
});

describe("M-Pesa payouts: one B2C, never resent unless Daraja says it has none", () => {
  it("pays once: one B2C request, the Result's receipt kept, hold captured", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "mpesa", available: 100_000n });
    const p = await request(s, 50_000n);
    const paid = await waitForStatus(p.id, "paid");
    expect(paid.pspReceipt).toBeTruthy();
    expect(paid.pspPayoutId).toBeTruthy();
    expect(b2cOf(p)).toHaveLength(1);
    expect(b2cOf(p)[0]).toMatchObject({ amount: 500, status: "completed", duplicates: 0 });
    const w = await wallet(s);
    expect(w.available.amount).toBe(50_000n);
    expect(w.onHold.amount).toBe(0n);
    expect(await eventTypes(p)).toEqual(["payout.created", "payout.paid"]);
    await ledgerClean();
  }, TEST_TIMEOUT_MS);

  it("a failed B2C (insufficient utility funds): failed with Daraja's code, the available balance restored exactly", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "mpesa", available: 30_000n });
    const before = await wallet(s);
    sandbox.addFault({ fault: "mpesa_b2c=insufficient", pathPrefix: "/mpesa/b2c", count: 1 });
    const p = await request(s, 20_000n);
    const failed = await waitForStatus(p.id, "failed");
    expect(failed.failureCode).toBe("1");
    expect(b2cOf(p)).toHaveLength(1);
    expect((await wallet(s)).available.amount).toBe(before.available.amount);
    expect((await wallet(s)).onHold.amount).toBe(0n);
    expect(await eventTypes(p)).toEqual(["payout.created", "payout.failed"]);
    await ledgerClean();
  }, TEST_TIMEOUT_MS);

  it("a lost Result (paid at Daraja): Transaction Status tells it; paid, never resent", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "mpesa", available: 40_000n });
    sandbox.addFault({ fault: "mpesa_b2c=no_result", pathPrefix: "/mpesa/b2c", count: 1 });
    const p = await request(s, 40_000n);
    const paid = await waitForStatus(p.id, "paid");
    expect(paid.pspReceipt).toBe(b2cOf(p)[0]!.receipt);
    expect(b2cOf(p)).toHaveLength(1);
    expect(b2cOf(p)[0]!.duplicates).toBe(0);
    await ledgerClean();
  }, TEST_TIMEOUT_MS);

  it("a B2C Daraja lost before paying: Transaction Status says it does not exist; sent again under the same id, paid once", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "mpesa", available: 25_000n });
    sandbox.addFault({ fault: "mpesa_b2c=no_result_not_done", pathPrefix: "/mpesa/b2c", count: 1 });
    const p = await request(s, 25_000n);
    await waitForStatus(p.id, "paid");
    // Two requests reached Daraja under the one OriginatorConversationID: the lost one (never processed), and the paid one.
    expect(b2cOf(p).map((r) => r.status).sort()).toEqual(["completed", "not_processed"]);
    expect(b2cOf(p).filter((r) => r.status === "completed")).toHaveLength(1);
    const moves = await t.db.select().from(payoutTransitions).where(eq(payoutTransitions.payoutId, p.id));
    expect(moves.map((m) => m.toStatus)).toEqual(expect.arrayContaining(["unknown", "pending"]));
    await ledgerClean();
  }, TEST_TIMEOUT_MS);

  it("a late 'no such payment' answering a query sent before the B2C left does not clear it (no second B2C)", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "mpesa", available: 12_000n });
    const p = await unexecutedPayout(s, 12_000n);
    const askedBefore = new Date(Date.now() - 60_000).toISOString();
    sandbox.addFault({ fault: "mpesa_b2c=no_result_not_done", pathPrefix: "/mpesa/b2c", count: 1 });
    expect((await sendPayout(t.db, connectorFor, p.id)).status).toBe("in_transit");
    const notFound = (askedAt: string, id: string) =>
      t.db.transaction((tx) =>
        wakePayout(tx, { type: "payout.updated", psp: "mpesa", payoutKey: p.pspKey, outcome: { status: "unknown_transaction", code: "404", message: "does not exist", askedAt } }, { storedEventId: `stale-${p.id}-${id}` }),
      );
    // An answer to a query asked a minute before the B2C (a janitor's, an earlier check's) arrives late: nothing moves.
    await notFound(askedBefore, "a");
    expect((await payoutRow(p.id)).status).toBe("in_transit");
    // An answer to a query asked after it: Daraja lost it, the payout may be sent again.
    await notFound(new Date(Date.now() + 1_000).toISOString(), "b");
    expect((await payoutRow(p.id)).status).toBe("pending");
    expect(b2cOf(p)).toHaveLength(1);
  }, TEST_TIMEOUT_MS);

  it("a B2C whose answer timed out is never sent again: unknown, Transaction Status, paid with one request", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "mpesa", available: 15_000n });
    const p = await unexecutedPayout(s, 15_000n);
    sandbox.addFault({ fault: "hang=after_commit", method: "POST", pathPrefix: "/mpesa/b2c", count: 1 });
    await expect(sendPayout(t.db, connectorFor, p.id)).rejects.toMatchObject({ name: "PspError" });
    expect((await payoutRow(p.id)).status).toBe("unknown");
    // Sending again only asks Daraja.
    const again = await sendPayout(t.db, connectorFor, p.id);
    expect(again.status === "unknown" || again.status === "paid").toBe(true);
    await waitForStatus(p.id, "paid");
    expect(b2cOf(p)).toHaveLength(1);
    expect(b2cOf(p)[0]!.duplicates).toBe(0);
    await ledgerClean();
  }, TEST_TIMEOUT_MS);
});
