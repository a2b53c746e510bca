import type Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { parseResult, parseStkCallback } from "@/server/psp/daraja/transform";
import { paymentIntentToResult } from "@/server/psp/stripe/transform";
import { maskParty, redactPspPayload, REDACT_DEPTH_MAX } from "./redact-psp-payload";

// Fixtures in the shapes Daraja and Stripe send (Daraja docs' examples, with our own test persons).
const PHONE = "254712345678";
const NATIONAL = "712345678";

const stkCallback = {
  Body: {
    stkCallback: {
      MerchantRequestID: "29115-34620561-1",
      CheckoutRequestID: "ws_CO_191220191020363925",
      ResultCode: 0,
      ResultDesc: "The service request is processed successfully.",
      CallbackMetadata: {
        Item: [
          { Name: "Amount", Value: 500 },
          { Name: "MpesaReceiptNumber", Value: "NLJ7RT61SV" },
          { Name: "Balance" },
          { Name: "TransactionDate", Value: 20191219102115 },
          { Name: "PhoneNumber", Value: Number(PHONE) },
        ],
      },
    },
  },
};

const result = (params: Record<string, unknown>) => ({
  Result: {
    ResultType: 0,
    ResultCode: 0,
    ResultDesc: "The service request is processed successfully.",
    OriginatorConversationID: "verify_pse_01",
    ConversationID: "AG_20191219_00004e48cf7e3533f581",
    TransactionID: "NLJ41HAY6Q",
    ResultParameters: { ResultParameter: Object.entries(params).map(([Key, Value]) => ({ Key, Value })) },
    ReferenceData: { ReferenceItem: { Key: "Occasion", Value: "verify" } },
  },
});
const statusResult = result({ ReceiptNo: "NLJ7RT61SV", Amount: 500, TransactionStatus: "Completed", CreditPartyName: "600000 - PayBridge Ltd", DebitPartyName: `${PHONE} - Amina Wanjiru`, FinalisedTime: 20191219102115 });
const b2cResult = result({ TransactionAmount: 10, TransactionReceipt: "NLJ41HAY6Q", ReceiverPartyPublicName: `0${NATIONAL} - Amina Wanjiru`, TransactionCompletedDateTime: "19.12.2019 11:45:50" });
const c2bConfirmation = { TransactionType: "Pay Bill", TransID: "RKTQDM7W6S", TransAmount: "10", BusinessShortCode: "600638", BillRefNumber: "invoice008", MSISDN: PHONE, FirstName: "Amina", MiddleName: "W", LastName: "Wanjiru" };

const person = { name: "Amina Wanjiru", email: "amina@example.com", phone: `+${PHONE}`, address: { city: "Nairobi", country: "KE", line1: "12 Moi Avenue", line2: null, postal_code: "00100", state: null } };
const paymentIntentEvent = {
  id: "evt_1",
  object: "event",
  type: "payment_intent.succeeded",
  created: 1680800504,
  data: {
    object: {
      id: "pi_3MtwBwLkdIwHu7ix28a3tqPa",
      object: "payment_intent",
      amount: 2500,
      currency: "usd",
      status: "succeeded",
      latest_charge: { id: "ch_3MtwBwLkdIwHu7ix2", object: "charge", billing_details: person, receipt_email: "amina@example.com", receipt_url: "https://pay.stripe.com/receipts/x" },
      receipt_email: "amina@example.com",
      shipping: { ...person, carrier: null },
      description: `Order for amina@example.com, call +${PHONE}`,
      last_payment_error: null,
      metadata: { reference: "o-1" },
    },
  },
};

const clear = [PHONE, NATIONAL, "Amina", "Wanjiru", "amina@example.com", "Moi Avenue", "00100"];
const expectNoneOf = (value: unknown) => {
  const text = JSON.stringify(value);
  for (const s of clear) expect(text).not.toContain(s);
};

describe("redactPspPayload: Daraja", () => {
  it("masks the STK callback phone and keeps everything verification reads", () => {
    const r = redactPspPayload(stkCallback);
    expectNoneOf(r);
    expect(JSON.stringify(r)).toContain('"Value":"254******678"');
    expect(parseStkCallback(r)).toEqual(parseStkCallback(stkCallback));
  });

  it("masks the payer in a transaction-status result and keeps our shortcode for the check", () => {
    const r = redactPspPayload(statusResult);
    expectNoneOf(r);
    const params = parseResult(r)!.params;
    expect(params.DebitPartyName).toBe("254******678 - A*** W***");
    expect(String(params.CreditPartyName).split(" ")[0]).toBe("600000");
    const before = parseResult(statusResult)!;
    expect({ ...parseResult(r), params: { ...params, CreditPartyName: undefined, DebitPartyName: undefined } }).toEqual({ ...before, params: { ...before.params, CreditPartyName: undefined, DebitPartyName: undefined } });
  });

  it("masks B2C receivers and C2B payers (MSISDN and names)", () => {
    expectNoneOf(redactPspPayload(b2cResult));
    const c2b = redactPspPayload(c2bConfirmation);
    expectNoneOf(c2b);
    expect(c2b).toMatchObject({ MSISDN: "254******678", FirstName: "A***", TransID: "RKTQDM7W6S", TransAmount: "10", BillRefNumber: "invoice008" });
  });

  it("is stable when applied twice and leaves the input unchanged", () => {
    const once = redactPspPayload(statusResult);
    expect(redactPspPayload(once)).toEqual(once);
    expect(JSON.stringify(statusResult)).toContain(PHONE);
  });

  it("keeps shortcodes and ids in party fields, masks phones in any form", () => {
    expect(maskParty("600000 - Safaricom")).toBe("600000 - S***");
    expect(maskParty(`+${PHONE} - Jane Doe`)).toBe("254******678 - J*** D***");
    expect(maskParty(PHONE)).toBe("254******678");
  });
});

describe("redactPspPayload: Stripe", () => {
  it("masks billing_details, shipping, receipt_email and free text; keeps what the verdict reads", () => {
    const r = redactPspPayload(paymentIntentEvent);
    expectNoneOf(r);
    const pi = (r.data as { object: Record<string, unknown> }).object;
    expect(pi.receipt_email).toBe("a***@example.com");
    expect((pi.latest_charge as { billing_details: unknown }).billing_details).toEqual({ name: "A*** W***", email: "a***@example.com", phone: "254******678", address: { city: "[redacted]", country: "KE", line1: "[redacted]", line2: null, postal_code: "[redacted]", state: null } });
    expect(paymentIntentToResult(pi as unknown as Stripe.PaymentIntent)).toEqual(paymentIntentToResult(paymentIntentEvent.data.object as unknown as Stripe.PaymentIntent));
    expect(r).toMatchObject({ id: "evt_1", type: "payment_intent.succeeded", created: 1680800504 });
  });
});

describe("redactPspPayload: Stripe dispute evidence", () => {
  it("replaces every evidence value (free text about the buyer), keeps nulls, file ids and what sync reads", () => {
    const event = {
      id: "evt_dp",
      type: "charge.dispute.updated",
      data: {
        object: {
          id: "dp_1",
          object: "dispute",
          amount: 5000,
          currency: "usd",
          charge: "ch_1",
          payment_intent: "pi_1",
          reason: "fraudulent",
          status: "under_review",
          evidence: {
            customer_name: "Amina Otieno",
            customer_email_address: "amina@example.com",
            customer_purchase_ip: "203.0.113.7",
            billing_address: "12 Moi Avenue, Nairobi",
            uncategorized_text: "Shipped to Amina Otieno, Westlands, 14 Riverside Drive; signed for on delivery",
            product_description: "Order 881 for Amina, delivered to her office at Riverside Drive",
            service_date: null,
            uncategorized_file: "file_1PqRsT",
            enhanced_evidence: { visa_compelling_evidence_3: { disputed_transaction: { customer_account_id: "acct-amina-1", customer_device_fingerprint: "fp-9a8b" } } },
          },
          evidence_details: { due_by: 1700000000, has_evidence: true, past_due: false, submission_count: 1 },
        },
      },
    };
    const r = redactPspPayload(event) as typeof event;
    const text = JSON.stringify(r);
    for (const secret of ["Amina", "amina", "203.0.113.7", "Moi Avenue", "Riverside", "Westlands", "acct-amina-1", "fp-9a8b"]) expect(text).not.toContain(secret);
    const ev = r.data.object.evidence;
    expect(ev.uncategorized_text).toBe("[redacted]");
    expect(ev.customer_purchase_ip).toBe("[redacted]");
    expect(ev.service_date).toBeNull();
    expect(ev.uncategorized_file).toBe("file_1PqRsT");
    expect(r.data.object).toMatchObject({ id: "dp_1", amount: 5000, currency: "usd", charge: "ch_1", payment_intent: "pi_1", reason: "fraudulent", status: "under_review" });
    expect(r.data.object.evidence_details).toEqual(event.data.object.evidence_details);
  });
});

describe("redactPspPayload: what it never rewrites", () => {
  it("leaves ids and amounts verbatim even when their digits look like a phone", () => {
    const looksLikePhone = { CheckoutRequestID: `ws_CO_${PHONE}`, ConversationID: `0${NATIONAL}`, amount: Number(PHONE), TransAmount: PHONE, note: `0${NATIONAL}` };
    expect(redactPspPayload(looksLikePhone)).toEqual({ ...looksLikePhone, note: "071****678" });
  });
});

describe("redactPspPayload: limits", () => {
  it("drops what is nested deeper than REDACT_DEPTH_MAX instead of storing it unchecked", () => {
    let deep: Record<string, unknown> = { FirstName: "Amina" };
    for (let i = 0; i < REDACT_DEPTH_MAX + 2; i++) deep = { next: deep };
    const text = JSON.stringify(redactPspPayload(deep));
    expect(text).not.toContain("FirstName");
    expect(text).toContain('"next":"[redacted]"');
  });
});
