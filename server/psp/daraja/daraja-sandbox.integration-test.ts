// Our Daraja client/connector against the sandbox: OAuth + token caching, STK push for each result code
// (pending then final by STK query), EAT timestamps, B2C dedupe by OriginatorConversationID, reversal,
// faults, and the callbacks the sandbox sends.
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pspAttempts } from "@/db/schema";
import { money } from "@/server/money";
import type { Sandbox } from "@/sandbox/index";
import { type Receiver, startReceiver, startTestSandbox, waitFor } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createDarajaConnector } from "@/server/psp";
import { PspError } from "@/server/psp/errors";
import type { DarajaConnector } from "./connector";
import { parseResult, parseStkCallback, stkPassword } from "./transform";

let sandbox: Sandbox;
let receiver: Receiver;
let t: TestDatabase;
let mpesa: DarajaConnector;
let n = 0;
const kes = (shillings: bigint) => money(shillings * 100n, "KES");
const key = (l: string) => `test_${l}_${++n}_${Date.now()}`;

beforeAll(async () => {
  [sandbox, t, receiver] = await Promise.all([startTestSandbox(), createTestDatabase(), startReceiver(async () => ({ status: 200, body: { ResultCode: 0, ResultDesc: "Accepted" } }))]);
  mpesa = createDarajaConnector(t.db, { apiBase: sandbox.url, appUrl: receiver.url, timeoutMs: 1_500 });
});
afterAll(async () => {
  await sandbox?.stop();
  await receiver?.stop();
  await t?.drop();
});

const push = (phone: string, k = key("stk")) => mpesa.createPayment({ amount: kes(150n), idempotencyKey: k, reference: `po_${k}`, paymentMethod: { type: "mpesa_phone", phone } });
const finalStatus = (ref: string) => waitFor(async () => {
  const s = await mpesa.getPaymentStatus({ pspReference: ref });
  return s.status === "pending" ? undefined : s;
});

describe("STK push per result code", () => {
  it("succeeds for an ordinary phone; the callback carries amount and receipt", async () => {
    const r = await push("0712345678");
    expect(r).toMatchObject({ status: "pending", pspReference: expect.stringMatching(/^ws_CO_/) });
    expect((await mpesa.getPaymentStatus({ pspReference: r.pspReference })).status).toBe("pending");
    expect(await finalStatus(r.pspReference)).toMatchObject({ status: "succeeded" });
    const cb = await waitFor(() => receiver.received.map((x) => parseStkCallback(JSON.parse(x.body))).find((c) => c?.checkoutRequestId === r.pspReference));
    expect(cb).toMatchObject({ resultCode: 0, amount: kes(150n), receipt: expect.stringMatching(/^[A-Z0-9]{10}$/) });
  });

  it.each([
    ["254700001032", "canceled", "1032", true],
    ["254700001037", "failed", "1037", false],
    ["254700002001", "failed", "2001", true],
    ["254700000001", "failed", "1", true],
  ])("%s -> %s (ResultCode %s), callback sent: %s", async (phone, status, code, callback) => {
    const r = await push(phone);
    expect(await finalStatus(r.pspReference)).toMatchObject({ status, failure: { code } });
    await sandbox.webhooksIdle();
    const cbs = receiver.received.map((x) => parseStkCallback(JSON.parse(x.body))).filter((c) => c?.checkoutRequestId === r.pspReference);
    expect(cbs.length).toBe(callback ? 1 : 0);
    if (callback) expect(cbs[0]).toMatchObject({ resultCode: Number(code), amount: undefined, receipt: undefined });
  });

  it("an STK push retried with the same key is not sent twice (Daraja has no idempotency key)", async () => {
    const k = key("dup");
    const a = await push("0712345678", k);
    const b = await push("0712345678", k);
    expect(b.pspReference).toBe(a.pspReference);
    expect(sandbox.stkTransactions().filter((s) => s.checkoutRequestId === a.pspReference)).toHaveLength(1);
  });

  it("refuses amounts that are not whole shillings, and non-KES", async () => {
    await expect(mpesa.createPayment({ amount: money(15050n, "KES"), idempotencyKey: key("c"), reference: "x", paymentMethod: { type: "mpesa_phone", phone: "0712345678" } })).rejects.toBeInstanceOf(PspError);
    await expect(mpesa.createPayment({ amount: money(100n, "USD"), idempotencyKey: key("c"), reference: "x", paymentMethod: { type: "mpesa_phone", phone: "0712345678" } })).rejects.toMatchObject({ kind: "invalid_request" });
  });
});

describe("OAuth, timestamps, faults", () => {
  it("caches the token: one oauth call for many requests; an expired token is refreshed once", async () => {
    const fresh = createDarajaConnector(t.db, { apiBase: sandbox.url, appUrl: receiver.url });
    const countOauth = async () => (await t.db.select().from(pspAttempts).where(and(eq(pspAttempts.operation, "oauth.token"), eq(pspAttempts.outcome, "ok")))).length;
    const before = await countOauth();
    const r = await fresh.createPayment({ amount: kes(10n), idempotencyKey: key("tok"), reference: "r", paymentMethod: { type: "mpesa_phone", phone: "0712345678" } });
    await fresh.getPaymentStatus({ pspReference: r.pspReference });
    await fresh.getPaymentStatus({ pspReference: r.pspReference });
    expect((await countOauth()) - before).toBe(1);
    sandbox.expireDarajaTokens();
    await fresh.getPaymentStatus({ pspReference: r.pspReference });
    expect((await countOauth()) - before).toBe(2);
  });

  it("the sandbox rejects a UTC timestamp (must be Nairobi time)", async () => {
    const tokenRes = await fetch(`${sandbox.url}/oauth/v1/generate?grant_type=client_credentials`, { headers: { authorization: `Basic ${Buffer.from("sandbox_consumer_key:sandbox_consumer_secret").toString("base64")}` } });
    const { access_token, expires_in } = (await tokenRes.json()) as { access_token: string; expires_in: string };
    expect(typeof expires_in).toBe("string");
    const utc = new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);
    const passkey = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919";
    const res = await fetch(`${sandbox.url}/mpesa/stkpush/v1/processrequest`, {
      method: "POST",
      headers: { authorization: `Bearer ${access_token}`, "content-type": "application/json" },
      body: JSON.stringify({ BusinessShortCode: "174379", Password: stkPassword("174379", passkey, utc), Timestamp: utc, TransactionType: "CustomerPayBillOnline", Amount: 1, PartyA: "254712345678", PartyB: "174379", PhoneNumber: "254712345678", CallBackURL: "http://127.0.0.1:9/cb", AccountReference: "x", TransactionDesc: "x" }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ errorCode: "400.002.02", errorMessage: expect.stringContaining("Timestamp") });
  });

  it.each([
    ["status=503", "unavailable"],
    ["rate_limit=2", "rate_limited"],
    ["hang", "timeout"],
    ["reset", "network"],
  ])("fault %s -> PspError %s and an attempt row", async (fault, kind) => {
    const k = key("fault");
    const before = sandbox.stkTransactions().length;
    const err = await mpesa.createPayment({ amount: kes(5n), idempotencyKey: k, reference: "f", paymentMethod: { type: "mpesa_phone", phone: "0712345678" }, sandboxFault: fault }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind });
    expect(sandbox.stkTransactions().length).toBe(before);
    const rows = await t.db.select().from(pspAttempts).where(eq(pspAttempts.idempotencyKey, k));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.outcome).not.toBe("ok");
  });

  it("callback before the synchronous reply still reaches the callback URL", async () => {
    const r = await mpesa.createPayment({ amount: kes(7n), idempotencyKey: key("first"), reference: "f", paymentMethod: { type: "mpesa_phone", phone: "0712345678" }, sandboxFault: "callback_first" });
    await sandbox.webhooksIdle();
    expect(receiver.received.some((x) => x.body.includes(r.pspReference))).toBe(true);
  });
});

describe("B2C, reversal, statement", () => {
  it("B2C: accepted, result posted; the same OriginatorConversationID is deduplicated", async () => {
    const k = key("b2c");
    const a = await mpesa.createPayout({ amount: kes(300n), idempotencyKey: k, destination: "0712345678", reference: "payout_1" });
    const b = await mpesa.createPayout({ amount: kes(300n), idempotencyKey: k, destination: "0712345678", reference: "payout_1" });
    expect(a.status).toBe("pending");
    expect(b.pspPayoutId).toBe(a.pspPayoutId);
    const results = await waitFor(() => {
      const rs = receiver.received.map((x) => parseResult(JSON.parse(x.body))).filter((r) => r?.originatorConversationId === k);
      return rs.length ? rs : undefined;
    });
    await sandbox.webhooksIdle();
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ resultCode: 0, params: { TransactionAmount: 300 } });
  });

  it("B2C to a wrong-PIN phone posts a failed result", async () => {
    const k = key("b2cfail");
    await mpesa.createPayout({ amount: kes(10n), idempotencyKey: k, destination: "254700002001", reference: "p" });
    const r = await waitFor(() => receiver.received.map((x) => parseResult(JSON.parse(x.body))).find((x) => x?.originatorConversationId === k));
    expect(r.resultCode).toBe(2001);
  });

  it("reversal of a completed payment, and the statement CSV lists the receipt", async () => {
    const p = await push("0712345678");
    await finalStatus(p.pspReference);
    const receipt = sandbox.stkTransactions().find((s) => s.checkoutRequestId === p.pspReference)!.receipt!;
    const k = key("rev");
    const rev = await mpesa.refundPayment({ pspReference: p.pspReference, receipt, amount: kes(150n), idempotencyKey: k });
    expect(rev.status).toBe("pending");
    const r = await waitFor(() => receiver.received.map((x) => parseResult(JSON.parse(x.body))).find((x) => x?.originatorConversationId === k));
    expect(r).toMatchObject({ resultCode: 0, params: { OriginalTransactionID: receipt } });
    const page = await mpesa.listSettlement({});
    // The receipt's Completed line, then its Reversed line.
    expect(page.rows.filter((row) => row.pspTransactionId === receipt).map((row) => [row.type, row.gross])).toEqual([["charge", kes(150n)], ["refund", kes(150n)]]);
  });
});
