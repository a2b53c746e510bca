// Fixture tests of the Daraja transforms, with payloads shaped as Daraja documents them.
import { describe, expect, it } from "vitest";
import { money } from "@/server/money";
import { mpesaCallbackKind, mpesaCallbackToken, mpesaCallbackUrl } from "./callback-tokens";
import { parseMpesaStatement } from "./connector";
import { PspError } from "../errors";
import { b2cStatusOriginatorId, eatTimestamp, fromDarajaAmount, maskPhone, MPESA_MAX_TRANSACTION_KES, normalizePhone, parseAccountBalance, parseDarajaDateTime, parseMpesaWebhook, parseResult, parseReversalStatusOriginatorId, parseStkCallback, partyPhone, pushedAmount, reversalStatusOriginatorId, stkPassword, stkStatusOf, toDarajaAmount } from "./transform";

const SUCCESS_CALLBACK = {
  Body: {
    stkCallback: {
      MerchantRequestID: "29115-34620561-1",
      CheckoutRequestID: "ws_CO_191220191020363925",
      ResultCode: 0,
      ResultDesc: "The service request is processed successfully.",
      CallbackMetadata: { Item: [{ Name: "Amount", Value: 1.0 }, { Name: "MpesaReceiptNumber", Value: "NLJ7RT61SV" }, { Name: "Balance" }, { Name: "TransactionDate", Value: 20191219102115 }, { Name: "PhoneNumber", Value: 254708374149 }] },
    },
  },
};
const CANCELLED_CALLBACK = { Body: { stkCallback: { MerchantRequestID: "m", CheckoutRequestID: "ws_CO_2", ResultCode: 1032, ResultDesc: "Request cancelled by user" } } };
const B2C_RESULT = {
  Result: {
    ResultType: 0, ResultCode: 0, ResultDesc: "The service request is processed successfully.", OriginatorConversationID: "po_1_attempt_0", ConversationID: "AG_20191219_00005797af5d7d75f652", TransactionID: "NLJ41HAY6Q",
    ResultParameters: { ResultParameter: [{ Key: "TransactionAmount", Value: 10 }, { Key: "TransactionReceipt", Value: "NLJ41HAY6Q" }, { Key: "ReceiverPartyPublicName", Value: "254708374149 - John Doe" }] },
    ReferenceData: { ReferenceItem: { Key: "QueueTimeoutURL", Value: "https://internalsandbox.safaricom.co.ke/mpesa/b2cresults/v1/submit" } },
  },
};

describe("timestamps and password", () => {
  it("uses Nairobi time (UTC+3), across the date boundary", () => {
    expect(eatTimestamp(new Date("2026-11-29T22:30:05Z"))).toBe("20261130013005");
  });
  it("Password = base64(shortcode + passkey + timestamp)", () => {
    expect(stkPassword("174379", "pk", "20261130013005")).toBe(Buffer.from("174379pk20261130013005").toString("base64"));
  });
});

describe("amounts and phones", () => {
  it("KES minor units <-> whole shillings", () => {
    expect(toDarajaAmount(money(15000n, "KES"))).toBe(150);
    expect(() => toDarajaAmount(money(15050n, "KES"))).toThrow();
    expect(() => toDarajaAmount(money(100n, "USD"))).toThrow();
    expect(fromDarajaAmount(1)).toEqual(money(100n, "KES"));
    expect(fromDarajaAmount("1.50")).toEqual(money(150n, "KES"));
    expect(fromDarajaAmount(undefined)).toBeUndefined();
  });
  it(`refuses more than MPESA_MAX_TRANSACTION_KES (${MPESA_MAX_TRANSACTION_KES}) shillings, as an invalid request`, () => {
    expect(toDarajaAmount(money(BigInt(MPESA_MAX_TRANSACTION_KES) * 100n, "KES"))).toBe(250_000);
    const over = () => toDarajaAmount(money(25_000_100n, "KES"));
    expect(over).toThrow(PspError);
    expect(over).toThrow(/at most 250000 KES per transaction \(got 250001 KES\)/);
    try {
      over();
    } catch (err) {
      expect((err as PspError).kind).toBe("invalid_request");
    }
  });
  it("never rounds an amount past JS safe integers (the issue's repro: 1 KES less on the wire)", () => {
    const huge = money((2n ** 53n + 1n) * 100n, "KES");
    expect(Number(huge.amount / 100n)).toBe(2 ** 53); // what the old conversion sent
    expect(() => toDarajaAmount(huge)).toThrow(PspError);
    expect(() => toDarajaAmount(money(9_223_372_036_854_775_800n, "KES"))).toThrow(PspError);
  });
  it("reads no amount from a callback number JSON.parse already rounded", () => {
    expect(fromDarajaAmount(Number.MAX_SAFE_INTEGER)).toEqual(money(BigInt(Number.MAX_SAFE_INTEGER) * 100n, "KES"));
    expect(fromDarajaAmount(JSON.parse("9007199254740993"))).toBeUndefined();
    expect(fromDarajaAmount(1e21)).toBeUndefined();
    expect(fromDarajaAmount("9007199254740993")).toEqual(money(900719925474099300n, "KES")); // a string is exact
  });
  it("the pushed amount comes from our record of the push: the exact wire Amount, never a guess", () => {
    expect(pushedAmount({ amount_minor: "15000", amount_sent_kes: 150, currency: "KES" })).toEqual(money(15000n, "KES"));
    // The wire amount wins over what we meant to send: a success moved what was sent.
    expect(pushedAmount({ amount_minor: "15000", amount_sent_kes: 149, currency: "KES" })).toEqual(money(14900n, "KES"));
    expect(pushedAmount({ amount_minor: "15000", amount_sent_kes: 2 ** 53, currency: "KES" })).toBeUndefined();
    expect(pushedAmount({ amount_minor: "15000", amount_sent_kes: "150", currency: "KES" })).toBeUndefined();
    // Records from before amount_sent_kes: Number(amount_minor / 100) was exact below 2^53 shillings only.
    expect(pushedAmount({ amount_minor: "15000", currency: "KES" })).toEqual(money(15000n, "KES"));
    expect(pushedAmount({ amount_minor: String((2n ** 53n + 1n) * 100n), currency: "KES" })).toBeUndefined();
    expect(pushedAmount({ amount_minor: "15050", currency: "KES" })).toBeUndefined();
    expect(pushedAmount({})).toBeUndefined();
    expect(pushedAmount(undefined)).toBeUndefined();
  });
  it("reads the phone of a Daraja party field, masked or not", () => {
    expect(partyPhone("254708374149 - John Doe")).toBe("254708374149");
    expect(partyPhone("254******149 - J*** D***")).toBe("254******149");
    expect(partyPhone("600000 - PayBridge Sandbox")).toBeUndefined();
    expect(partyPhone(undefined)).toBeUndefined();
  });
  it("normalizes and masks phones", () => {
    expect(normalizePhone("0712 345 678")).toBe("254712345678");
    expect(normalizePhone("+254112345678")).toBe("254112345678");
    expect(() => normalizePhone("12345")).toThrow();
    expect(maskPhone("254712345678")).toBe("254******678");
  });
});

describe("callbacks", () => {
  it("reads callback items by name (Balance without Value is fine)", () => {
    expect(parseStkCallback(SUCCESS_CALLBACK)).toEqual({ merchantRequestId: "29115-34620561-1", checkoutRequestId: "ws_CO_191220191020363925", resultCode: 0, resultDesc: "The service request is processed successfully.", amount: money(100n, "KES"), receipt: "NLJ7RT61SV", transactionDate: "20191219102115" });
  });
  it("reads items regardless of their order", () => {
    const shuffled = structuredClone(SUCCESS_CALLBACK);
    shuffled.Body.stkCallback.CallbackMetadata.Item.reverse();
    expect(parseStkCallback(shuffled)?.receipt).toBe("NLJ7RT61SV");
  });
  it("a failure has no metadata", () => {
    expect(parseStkCallback(CANCELLED_CALLBACK)).toMatchObject({ resultCode: 1032, amount: undefined, receipt: undefined });
    expect(stkStatusOf(1032)).toBe("canceled");
    expect(stkStatusOf(1037)).toBe("failed");
    expect(stkStatusOf(0)).toBe("succeeded");
  });
  it("refuses shapes that are not callbacks", () => {
    expect(parseStkCallback({})).toBeUndefined();
    expect(parseMpesaWebhook("stk", "not json")).toBeUndefined();
    expect(parseMpesaWebhook("b2c_result", JSON.stringify(SUCCESS_CALLBACK))).toBeUndefined();
  });
  it("parses B2C results into params", () => {
    expect(parseResult(B2C_RESULT)).toMatchObject({ originatorConversationId: "po_1_attempt_0", conversationId: "AG_20191219_00005797af5d7d75f652", resultCode: 0, params: { TransactionAmount: 10, TransactionReceipt: "NLJ41HAY6Q" } });
  });
  it("keeps Daraja's lettered reversal codes as sent (R000002), numbers as strings too", () => {
    const failed = { Result: { ResultType: 0, ResultCode: "R000002", ResultDesc: "The OriginalTransactionID is invalid.", OriginatorConversationID: "refund:rfd_1", ConversationID: "AG_20191219_0000", TransactionID: "NLJ0000000" } };
    expect(parseResult(failed)).toMatchObject({ code: "R000002", resultDesc: "The OriginalTransactionID is invalid.", originatorConversationId: "refund:rfd_1" });
    expect(Number.isNaN(parseResult(failed)!.resultCode)).toBe(true);
    expect(parseResult(B2C_RESULT)!.code).toBe("0");
  });
  it("names a reversal status query by its refund and tag, and reads it back", () => {
    const id = reversalStatusOriginatorId("rfd_01ABC", "t3");
    expect(id).toBe("revstatus:rfd_01ABC:t3");
    expect(parseReversalStatusOriginatorId(id)).toEqual({ refundId: "rfd_01ABC", tag: "t3" });
    expect(parseReversalStatusOriginatorId("verify_pev_1")).toBeUndefined();
    expect(parseReversalStatusOriginatorId("revstatus:rfd_1")).toBeUndefined();
  });
  it("derives event ids: same bytes dedupe, different bodies do not collide", () => {
    const raw = JSON.stringify(SUCCESS_CALLBACK);
    const a = parseMpesaWebhook("stk", raw)!;
    expect(a).toMatchObject({ psp: "mpesa", type: "stk.callback", objectId: "ws_CO_191220191020363925" });
    expect(parseMpesaWebhook("stk", raw)!.eventId).toBe(a.eventId);
    expect(parseMpesaWebhook("stk", raw.replace("NLJ7RT61SV", "FAKE000000"))!.eventId).not.toBe(a.eventId);
    expect(parseMpesaWebhook("b2c_result", JSON.stringify(B2C_RESULT))).toMatchObject({ type: "b2c.result", objectId: "po_1_attempt_0" });
  });
});

describe("callback path tokens", () => {
  it("one token per kind; the token names its kind; others are unknown", () => {
    const stk = mpesaCallbackToken("s".repeat(20), "stk");
    expect(stk).not.toBe(mpesaCallbackToken("s".repeat(20), "b2c_result"));
    expect(mpesaCallbackKind("s".repeat(20), stk)).toBe("stk");
    expect(mpesaCallbackKind("t".repeat(20), stk)).toBeUndefined();
    expect(mpesaCallbackUrl("https://pay.example.com", "s".repeat(20), "stk")).toBe(`https://pay.example.com/api/webhooks/mpesa/${stk}`);
  });
});

describe("statement CSV", () => {
  it("parses EAT completion times and shillings", () => {
    const csv = "Receipt No.,Completion Time,Details,Transaction Status,Paid In,Withdrawn,Other Party Info,Linked Transaction ID\nNLJ7RT61SV,2026-11-30 01:30:05,Pay Bill Online,Completed,150.00,,x,ws_CO_1\n";
    expect(parseMpesaStatement(csv)).toEqual([{ pspTransactionId: "NLJ7RT61SV", type: "charge", gross: money(15000n, "KES"), fee: money(0n, "KES"), net: money(15000n, "KES"), sourceId: "ws_CO_1", createdAt: new Date("2026-11-29T22:30:05Z") }]);
  });
});

describe("B2C", () => {
  it("reads TransactionCompletedDateTime (DD.MM.YYYY) and FinalisedTime (YYYYMMDDHHmmss) as Nairobi time; refuses non-dates", () => {
    expect(parseDarajaDateTime("19.12.2019 11:45:50")).toEqual(new Date("2019-12-19T08:45:50Z"));
    expect(parseDarajaDateTime(20191219114550)).toEqual(new Date("2019-12-19T08:45:50Z"));
    expect(parseDarajaDateTime("01.01.2020 01:00:00")).toEqual(new Date("2019-12-31T22:00:00Z"));
    for (const bad of ["31.02.2020 10:00:00", "2019-12-19 11:45:50", "", undefined, "20191319114550", "19.12.2019 25:00:00"]) expect(parseDarajaDateTime(bad)).toBeUndefined();
  });
  it("parses an Account Balance result into accounts in minor units (negative charges too)", () => {
    const text = "Working Account|KES|700000.00|700000.00|0.00|0.00&Float Account|KES|0.00|0.00|0.00|0.00&Utility Account|KES|228037.50|228037.50|0.00|0.00&Charges Paid Account|KES|-1540.00|-1540.00|0.00|0.00&Bad|USD|1.00";
    expect(parseAccountBalance(text)).toEqual([
      { account: "Working Account", currency: "KES", available: money(70000000n, "KES") },
      { account: "Float Account", currency: "KES", available: money(0n, "KES") },
      { account: "Utility Account", currency: "KES", available: money(22803750n, "KES") },
      { account: "Charges Paid Account", currency: "KES", available: money(-154000n, "KES") },
    ]);
    expect(parseAccountBalance(undefined)).toEqual([]);
  });
  it("B2C callbacks of each kind are stored with their own event type, keyed by OriginatorConversationID", () => {
    const body = JSON.stringify({ Result: { ResultType: 0, ResultCode: 0, ResultDesc: "ok", OriginatorConversationID: b2cStatusOriginatorId("payout_pyo_1", "t1"), ConversationID: "AG_1", TransactionID: "S1" } });
    expect(parseMpesaWebhook("b2c_status", body)).toMatchObject({ type: "b2c.status", objectId: "b2cstatus:payout_pyo_1:t1" });
    expect(parseMpesaWebhook("b2c_balance", body)).toMatchObject({ type: "b2c.balance" });
    expect(parseMpesaWebhook("b2c_timeout", body)).toMatchObject({ type: "b2c.timeout" });
  });
});
