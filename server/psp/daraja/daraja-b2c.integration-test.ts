// Daraja B2C (seller payouts) end to end below the payout domain: our connector's `b2c` ops against the sandbox
// (BusinessPayment with its Result parameters, the failure codes by phone, dedupe by OriginatorConversationID,
// the request listing the crash test counts, lost Results and Transaction Status by OriginalConversationID,
// QueueTimeout, the utility account running dry, Account Balance), and the callbacks through our real callback route
// into psp_events, concluded by the B2C handler (mpesa-b2c-result.ts): verified by Transaction Status before an
// outcome exists, forged ones rejected.
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pspAttempts, pspEvents } from "@/db/schema";
import { money } from "@/server/money";
import { createDarajaConnector } from "@/server/psp";
import { PspError } from "@/server/psp/errors";
import { mpesaCallbackToken } from "@/server/psp/daraja/callback-tokens";
import { env } from "@/server/env.js";
import { b2cEffects } from "@/server/webhooks/psp-events/mpesa-b2c-result";
import { processPspEvent, type PspEventRow } from "@/server/webhooks/process-psp-event";
import { receiveMpesaCallback } from "@/server/webhooks/receive-mpesa-callback";
import type { Sandbox } from "@/sandbox/index";
import { type Receiver, startReceiver, startTestSandbox, waitFor } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import type { DarajaConnector } from "./connector";
import { b2cStatusOriginatorId, type DarajaResult, parseAccountBalance, parseDarajaDateTime, parseResult } from "./transform";

const MPESA_PREFIX = "/api/webhooks/mpesa/";
const B2C_PATH = "/mpesa/b2c/v3/paymentrequest";
const CEILING_MS = 25_000;

let sandbox: Sandbox;
let receiver: Receiver;
let t: TestDatabase;
let mpesa: DarajaConnector;
let n = 0;
const kes = (shillings: bigint) => money(shillings * 100n, "KES");
const payoutKey = (l: string) => `payout_pyo_${l}_${++n}_${Date.now()}`;

beforeAll(async () => {
  t = await createTestDatabase();
  receiver = await startReceiver(async (path, body) => (path.startsWith(MPESA_PREFIX) ? receiveMpesaCallback(t.db, path.slice(MPESA_PREFIX.length), body) : { status: 404, body: {} }));
  sandbox = await startTestSandbox();
  mpesa = createDarajaConnector(t.db, { apiBase: sandbox.url, appUrl: receiver.url, timeoutMs: 3_000 });
}, 60_000);
afterAll(async () => {
  await sandbox?.stop();
  await receiver?.stop();
  await t?.drop();
});

const tokenOf = (kind: Parameters<typeof mpesaCallbackToken>[1]) => mpesaCallbackToken(env.MPESA_CALLBACK_SECRET, kind);
/** Result callbacks the sandbox posted to the URL of `kind`, parsed. */
const resultsAt = (kind: Parameters<typeof mpesaCallbackToken>[1]): DarajaResult[] =>
  receiver.received.filter((x) => x.path === `${MPESA_PREFIX}${tokenOf(kind)}`).map((x) => parseResult(JSON.parse(x.body))).filter((r): r is DarajaResult => r !== undefined);
const resultFor = (kind: Parameters<typeof mpesaCallbackToken>[1], originator: string) => waitFor(() => resultsAt(kind).find((r) => r.originatorConversationId === originator), CEILING_MS);
const send = (key: string, shillings: bigint, phone = "254708374149", sandboxFault?: string) => mpesa.b2c.sendPayment({ amount: kes(shillings), phone, originatorConversationId: key, reference: key.replace(/^payout_/, ""), sandboxFault });
const statusOf = async (key: string, tag = `t${++n}`) => {
  const s = b2cStatusOriginatorId(key, tag);
  await mpesa.b2c.requestStatus({ originatorConversationId: key, idempotencyKey: s });
  return resultFor("b2c_status", s);
};
const b2cOf = (key: string) => sandbox.b2cRequests().filter((r) => r.originatorConversationId === key);

/** The stored events of `type` about `objectId` (the OriginatorConversationID), oldest first. */
async function storedEvents(type: string, objectId: string): Promise<PspEventRow[]> {
  return t.db.select().from(pspEvents).where(and(eq(pspEvents.psp, "mpesa"), eq(pspEvents.eventType, type), eq(pspEvents.objectId, objectId))).orderBy(pspEvents.receivedAt);
}
const stored = (type: string, objectId: string) => waitFor(async () => (await storedEvents(type, objectId))[0], CEILING_MS);
const processEvent = (id: string) => processPspEvent(t.db, id, { daraja: () => mpesa });

describe("the sandbox's B2C through our connector", () => {
  it("pays: Result with Daraja's parameters; the utility account goes down; listed once; a repeat is deduplicated", async () => {
    const key = payoutKey("ok");
    const before = sandbox.b2cBalances().utility;
    const a = await send(key, 300n);
    const b = await send(key, 300n);
    expect(b.conversationId).toBe(a.conversationId);
    const r = await resultFor("b2c_result", key);
    expect(r).toMatchObject({ code: "0", conversationId: a.conversationId, transactionId: expect.stringMatching(/^[A-Z0-9]{10}$/) });
    expect(Object.keys(r.params).sort()).toEqual(["B2CChargesPaidAccountAvailableFunds", "B2CRecipientIsRegisteredCustomer", "B2CUtilityAccountAvailableFunds", "B2CWorkingAccountAvailableFunds", "ReceiverPartyPublicName", "TransactionAmount", "TransactionCompletedDateTime", "TransactionReceipt"]);
    expect(r.params).toMatchObject({ TransactionAmount: 300, TransactionReceipt: r.transactionId, B2CRecipientIsRegisteredCustomer: "Y", B2CUtilityAccountAvailableFunds: (before - 30_000) / 100 });
    const completed = parseDarajaDateTime(r.params.TransactionCompletedDateTime);
    expect(Math.abs(completed!.getTime() - Date.now())).toBeLessThan(60_000);
    expect(sandbox.b2cBalances().utility).toBe(before - 30_000);
    await sandbox.webhooksIdle();
    expect(resultsAt("b2c_result").filter((x) => x.originatorConversationId === key)).toHaveLength(1);
    expect(b2cOf(key)).toEqual([expect.objectContaining({ conversationId: a.conversationId, amount: 300, partyB: "254708374149", occasion: key.replace(/^payout_/, ""), status: "completed", receipt: r.transactionId, duplicates: 1, resultPosted: true })]);
    // The admin listing the crash test reads, filtered by OriginatorConversationID and by Occasion.
    const listed = (await (await fetch(`${sandbox.url}/_sandbox/daraja/b2c?originator_conversation_id=${key}`)).json()) as { data: unknown[] };
    expect(listed.data).toHaveLength(1);
    const byOccasion = (await (await fetch(`${sandbox.url}/_sandbox/daraja/b2c?occasion=${key.replace(/^payout_/, "")}`)).json()) as { data: unknown[] };
    expect(byOccasion.data).toHaveLength(1);
    // Our record of the send: one ok b2c.payment_request with the OriginatorConversationID as its key.
    const attempts = await t.db.select().from(pspAttempts).where(and(eq(pspAttempts.operation, "b2c.payment_request"), eq(pspAttempts.idempotencyKey, key)));
    expect(attempts.map((x) => [x.outcome, x.pspObjectId])).toEqual([["ok", a.conversationId], ["ok", a.conversationId]]);
    // Transaction Status by OriginalConversationID: Completed with the receipt and amount.
    expect(await statusOf(key)).toMatchObject({ code: "0", params: { TransactionStatus: "Completed", ReceiptNo: r.transactionId, Amount: 300, ConversationID: a.conversationId } });
  });

  it.each([
    ["254700002001", 2001, "The initiator information is invalid."],
    ["254700002040", 2040, "Credit Party customer type (Unregistered or Registered Customer) can't be supported by the service."],
    ["254700000001", 1, "The balance is insufficient for the transaction."],
    ["254700000008", 8, "The receiver's account would exceed its maximum balance."],
    ["254700000017", 17, "Internal failure: the payment was not made."],
  ])("PartyB %s fails with ResultCode %s; nothing leaves the utility account; Transaction Status says Failed", async (phone, code, desc) => {
    const key = payoutKey("fail");
    const before = sandbox.b2cBalances().utility;
    await send(key, 50n, phone);
    expect(await resultFor("b2c_result", key)).toMatchObject({ resultCode: code, resultDesc: desc, params: {} });
    expect(sandbox.b2cBalances().utility).toBe(before);
    expect(b2cOf(key)).toEqual([expect.objectContaining({ status: "failed", resultCode: code })]);
    expect(await statusOf(key)).toMatchObject({ code: "0", params: { TransactionStatus: "Failed", Amount: 50 } });
  });

  it("refuses what Daraja refuses: under 10 KES, not whole shillings, not a phone", async () => {
    await expect(send(payoutKey("small"), 9n)).rejects.toMatchObject({ kind: "invalid_request" });
    await expect(mpesa.b2c.sendPayment({ amount: money(1050n, "KES"), phone: "254708374149", originatorConversationId: payoutKey("cents"), reference: "x" })).rejects.toBeInstanceOf(PspError);
    await expect(send(payoutKey("phone"), 50n, "12345")).rejects.toMatchObject({ kind: "invalid_request" });
  });

  it("a lost Result after paying (no_result): no callback, Transaction Status tells Completed; a resend pays nothing more", async () => {
    const key = payoutKey("lost");
    const before = sandbox.b2cBalances().utility;
    const a = await send(key, 120n, undefined, "mpesa_b2c=no_result");
    await waitFor(() => b2cOf(key).find((r) => r.status === "completed"), CEILING_MS);
    expect(await statusOf(key)).toMatchObject({ code: "0", params: { TransactionStatus: "Completed", Amount: 120 } });
    expect((await send(key, 120n)).conversationId).toBe(a.conversationId);
    await sandbox.webhooksIdle();
    expect(resultsAt("b2c_result").filter((x) => x.originatorConversationId === key)).toHaveLength(0);
    expect(b2cOf(key)).toEqual([expect.objectContaining({ status: "completed", resultPosted: false, duplicates: 1 })]);
    expect(sandbox.b2cBalances().utility).toBe(before - 12_000);
  });

  it("lost before processing (no_result_not_done): status says it does not exist (404); sent again it is paid once", async () => {
    const key = payoutKey("notdone");
    const before = sandbox.b2cBalances().utility;
    const a = await send(key, 70n, undefined, "mpesa_b2c=no_result_not_done");
    await waitFor(() => b2cOf(key).find((r) => r.status === "not_processed"), CEILING_MS);
    expect(await statusOf(key)).toMatchObject({ code: "404" });
    expect(sandbox.b2cBalances().utility).toBe(before);
    const b = await send(key, 70n);
    expect(b.conversationId).not.toBe(a.conversationId);
    expect(await resultFor("b2c_result", key)).toMatchObject({ code: "0", conversationId: b.conversationId });
    expect(b2cOf(key).map((r) => r.status)).toEqual(["not_processed", "completed"]);
    expect(sandbox.b2cBalances().utility).toBe(before - 7_000);
  });

  it("queue_timeout posts to the QueueTimeOutURL and pays nothing; a utility account run dry fails with ResultCode 1", async () => {
    const key = payoutKey("qto");
    await send(key, 40n, undefined, "mpesa_b2c=queue_timeout");
    expect(await resultFor("b2c_timeout", key)).toMatchObject({ resultCode: 1037 });
    expect(b2cOf(key)).toEqual([expect.objectContaining({ status: "not_processed", resultPosted: true })]);
    const saved = sandbox.b2cBalances();
    sandbox.setB2cBalances({ utility: 1_000 }); // 10 KES
    try {
      const dry = payoutKey("dry");
      await send(dry, 11n);
      expect(await resultFor("b2c_result", dry)).toMatchObject({ resultCode: 1, resultDesc: "The balance is insufficient for the transaction." });
      expect(sandbox.b2cBalances().utility).toBe(1_000);
      const forced = payoutKey("forced");
      sandbox.setB2cBalances(saved);
      await send(forced, 11n, undefined, "mpesa_b2c=insufficient");
      expect(await resultFor("b2c_result", forced)).toMatchObject({ resultCode: 1 });
    } finally {
      sandbox.setB2cBalances(saved);
    }
  });

  it("Account Balance: the Result carries the working and utility accounts as Daraja formats them", async () => {
    const key = `balance_${++n}_${Date.now()}`;
    await mpesa.b2c.requestBalance!({ idempotencyKey: key });
    const r = await resultFor("b2c_balance", key);
    expect(String(r.params.AccountBalance)).toMatch(/^Working Account\|KES\|[\d.]+\|[\d.]+\|0\.00\|0\.00&Float Account\|KES\|.*&Utility Account\|KES\|[\d.]+\|/);
    const utility = parseAccountBalance(r.params.AccountBalance).find((a) => a.account === "Utility Account");
    expect(utility?.available.amount).toBe(BigInt(sandbox.b2cBalances().utility));
  });
});

describe("B2C callbacks through our route, concluded by the B2C handler", () => {
  it("a Result is verified by Transaction Status: paid with receipt, amount (minor units) and completion time", async () => {
    const key = payoutKey("hpaid");
    const { conversationId } = await send(key, 250n);
    const result = await stored("b2c.result", key);
    const waiting = await processEvent(result.id);
    expect(waiting).toMatchObject({ status: "received", verdict: { stage: "awaiting_b2c_status", payoutKey: key, resultCode: "0" } });
    const statusEvent = await waitFor(async () => (await t.db.select().from(pspEvents).where(and(eq(pspEvents.eventType, "b2c.status"), eq(pspEvents.objectId, b2cStatusOriginatorId(key, `cb${result.id}`)))))[0], CEILING_MS);
    const done = await processEvent(statusEvent.id);
    const receipt = b2cOf(key)[0]!.receipt!;
    expect(done).toMatchObject({ status: "processed", verdict: { kind: "b2c_outcome", payoutKey: key, pspPayoutId: conversationId, outcome: { status: "paid", receipt, amount: "25000" } } });
    expect(b2cEffects(done)).toEqual([{ type: "payout.updated", psp: "mpesa", payoutKey: key, pspPayoutId: conversationId, outcome: expect.objectContaining({ status: "paid", receipt, amount: "25000", completedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) }) }]);
    // The callback that asked is concluded with the same outcome.
    expect((await storedEvents("b2c.result", key))[0]).toMatchObject({ status: "processed", verdict: { outcome: { status: "paid" }, confirmedBy: "transaction_status" } });
  });

  it("a failed Result is confirmed as failed with Daraja's ResultCode and text", async () => {
    const key = payoutKey("hfail");
    await send(key, 60n, "254700002040");
    const result = await stored("b2c.result", key);
    await processEvent(result.id);
    const statusEvent = await stored("b2c.status", b2cStatusOriginatorId(key, `cb${result.id}`));
    const done = await processEvent(statusEvent.id);
    expect(b2cEffects(done)).toEqual([expect.objectContaining({ payoutKey: key, outcome: expect.objectContaining({ status: "failed", code: "2040", message: expect.stringContaining("Credit Party customer type") }) })]);
  });

  it("the execution's own status query after a lost Result: Completed -> paid; not done -> unknown_transaction", async () => {
    const paid = payoutKey("hlost");
    await send(paid, 90n, undefined, "mpesa_b2c=no_result");
    await waitFor(() => b2cOf(paid).find((r) => r.status === "completed"), CEILING_MS);
    const s1 = b2cStatusOriginatorId(paid, "t1");
    await mpesa.b2c.requestStatus({ originatorConversationId: paid, idempotencyKey: s1 });
    const e1 = await processEvent((await stored("b2c.status", s1)).id);
    expect(b2cEffects(e1)).toEqual([expect.objectContaining({ payoutKey: paid, outcome: expect.objectContaining({ status: "paid", amount: "9000" }) })]);

    const lost = payoutKey("hnotdone");
    await send(lost, 90n, undefined, "mpesa_b2c=no_result_not_done");
    await waitFor(() => b2cOf(lost).find((r) => r.status === "not_processed"), CEILING_MS);
    const s2 = b2cStatusOriginatorId(lost, "t1");
    await mpesa.b2c.requestStatus({ originatorConversationId: lost, idempotencyKey: s2 });
    const e2 = await processEvent((await stored("b2c.status", s2)).id);
    expect(b2cEffects(e2)).toEqual([expect.objectContaining({ payoutKey: lost, outcome: expect.objectContaining({ status: "unknown_transaction", code: "404", askedAt: expect.any(String) }) })]);
  });

  it("a QueueTimeout is a hint without an outcome", async () => {
    const key = payoutKey("htimeout");
    const { conversationId } = await send(key, 30n, undefined, "mpesa_b2c=queue_timeout");
    const e = await processEvent((await stored("b2c.timeout", key)).id);
    expect(e.status).toBe("processed");
    expect(b2cEffects(e)).toEqual([{ type: "payout.updated", psp: "mpesa", payoutKey: key, pspPayoutId: conversationId }]);
  });

  it("forged callbacks change nothing: an unknown originator, a ConversationID we were not given, an unasked status", async () => {
    const key = payoutKey("hforge");
    await send(key, 30n, undefined, "mpesa_b2c=no_result");
    await waitFor(() => b2cOf(key).find((r) => r.status === "completed"), CEILING_MS);
    const forge = async (kind: "b2c_result" | "b2c_status" | "b2c_timeout", result: Record<string, unknown>) => {
      const reply = await receiveMpesaCallback(t.db, tokenOf(kind), JSON.stringify({ Result: { ResultType: 0, ResultCode: 0, ResultDesc: "ok", TransactionID: "SFORGED001", ...result } }));
      expect(reply.status).toBe(200);
    };
    const nobody = payoutKey("nobody");
    await forge("b2c_result", { OriginatorConversationID: nobody, ConversationID: "AG_forged_1" });
    await forge("b2c_result", { OriginatorConversationID: key, ConversationID: "AG_forged_2" });
    await forge("b2c_status", { OriginatorConversationID: b2cStatusOriginatorId(key, "forged"), ConversationID: "AG_forged_3", ResultParameters: { ResultParameter: [{ Key: "TransactionStatus", Value: "Completed" }, { Key: "Amount", Value: 30 }, { Key: "ReceiptNo", Value: "SFORGED001" }] } });
    await forge("b2c_timeout", { OriginatorConversationID: key, ConversationID: "AG_forged_4" });
    const rows = [...(await storedEvents("b2c.result", nobody)), ...(await storedEvents("b2c.result", key)), ...(await storedEvents("b2c.status", b2cStatusOriginatorId(key, "forged"))), ...(await storedEvents("b2c.timeout", key))];
    expect(rows).toHaveLength(4);
    const statusQueries = async () => (await t.db.select().from(pspAttempts).where(eq(pspAttempts.operation, "b2c.transaction_status"))).length;
    const before = await statusQueries();
    for (const row of rows) {
      const done = await processEvent(row.id);
      expect(done.status).toBe("rejected");
      expect(b2cEffects(done)).toEqual([]);
    }
    // A forged Result is refused before Daraja is asked anything.
    expect(await statusQueries()).toBe(before);
    expect(sandbox.requests.filter((r) => r.path === B2C_PATH).length).toBeGreaterThan(0);
  });
});
