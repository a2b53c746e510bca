// Fixture tests of the Daraja transforms, with payloads shaped as Daraja documents them.
import { describe, expect, it } from "vitest";
import { money } from "@/server/money";
import { mpesaCallbackKind, mpesaCallbackToken, mpesaCallbackUrl } from "./callback-tokens";
import { parseMpesaStatement } from "./connector";
import { eatTimestamp, fromDarajaAmount, maskPhone, normalizePhone, parseMpesaWebhook, parseResult, parseStkCallback, stkPassword, stkStatusOf, toDarajaAmount } from "./transform";

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
