import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decryptField } from "@/server/crypto/field";
import { parseStkCallback } from "@/server/psp/daraja/transform";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { redactStoredPspEvents } from "./redact-stored-psp-events";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

const callback = (n: number) => ({
  Body: { stkCallback: { MerchantRequestID: `m-${n}`, CheckoutRequestID: `ws_CO_legacy_${n}`, ResultCode: 0, ResultDesc: "ok", CallbackMetadata: { Item: [{ Name: "Amount", Value: 500 }, { Name: "MpesaReceiptNumber", Value: "NLJ7RT61SV" }, { Name: "PhoneNumber", Value: 254712345678 }] } } },
});

describe("redactStoredPspEvents (backfill of rows stored before redaction)", () => {
  it("masks the payload and encrypts the raw body of legacy rows, batch by batch, then reports 0", async () => {
    const raws = [1, 2, 3].map((n) => JSON.stringify(callback(n)));
    for (const [i, raw] of raws.entries()) {
      // Planted as the old storePspEvent wrote them: raw body and payload in clear.
      await t.sql`insert into psp_events (id, psp, event_id, event_type, object_id, raw_body, payload) values (${`pse_legacy_${i}`}, 'mpesa', ${`stk:legacy:${i}`}, 'stk.callback', ${`ws_CO_legacy_${i + 1}`}, ${raw}, ${t.sql.json(JSON.parse(raw) as never)})`;
    }
    const before = await t.sql`select t::text as row from psp_events t`;
    expect(before.map((r) => String(r.row)).join()).toContain("712345678");

    expect(await redactStoredPspEvents(t.db, 2)).toBe(2);
    expect(await redactStoredPspEvents(t.db, 2)).toBe(1);
    expect(await redactStoredPspEvents(t.db, 2)).toBe(0);

    const rows = await t.sql<{ id: string; raw_body: string; payload: Record<string, unknown>; text: string }[]>`select id, raw_body, payload, t::text as text from psp_events t order by id`;
    for (const [i, row] of rows.entries()) {
      expect(row.text).not.toContain("712345678");
      expect(decryptField(row.raw_body)).toBe(raws[i]);
      expect(parseStkCallback(row.payload)).toEqual(parseStkCallback(callback(i + 1)));
    }
  });
});
