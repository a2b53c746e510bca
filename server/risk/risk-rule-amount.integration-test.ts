// Issue 11 bug: a bad risk-rule amount printed its error twice (the field's check and the object's both reported it)
// and suggested a negative example ("-3.05") for a limit. Through the real tRPC route, as the dashboard's form sees
// it: one message per bad amount, examples a limit can take, limits of zero or less refused, nothing written.
// DATABASE_URL and AUTH_SECRET are set before the first import of server/env.js (which reads them once).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessionCookie, TEST_AUTH_SECRET } from "@/server/auth/test-helpers";
import { createTestDatabase, pointRoutesAt, type TestDatabase } from "@/test/db";
import { ZAmountLimitParams, ZAmountLimitParamsInput } from "./rules";

const APP = "http://localhost:3000";
const HEADERS = { host: "localhost:3000", "x-forwarded-proto": "http", origin: APP, "sec-fetch-site": "same-origin", "content-type": "application/json" };

let t: TestDatabase;
let route: typeof import("@/app/api/trpc/[trpc]/route");
let merchantId: string;
let adminId: string;

beforeAll(async () => {
  t = await createTestDatabase();
  pointRoutesAt(t, { AUTH_SECRET: TEST_AUTH_SECRET });
  route = await import("@/app/api/trpc/[trpc]/route");
  const fixtures = await import("@/test/fixtures");
  merchantId = (await fixtures.createMerchant(t.db, "Risk Amounts")).id;
  adminId = (await fixtures.createUser(t.db, { merchantId, role: "merchant_admin" })).id;
}, 120_000);
afterAll(async () => t?.drop());

interface TrpcError {
  message: string;
  data: { httpStatus: number; appCode: string; zodError: { fieldErrors: Record<string, string[] | undefined> } | null };
}

async function createRule(maxAmount: unknown, currency = "KES") {
  const cookie = await sessionCookie({ userId: adminId, signedInAtMs: Date.now(), epoch: 0 });
  const body = JSON.stringify({ json: { kind: "amount_limit", action: "review", params: { currency, max_amount: maxAmount } } });
  const res = await route.POST(new Request(`${APP}/api/trpc/risk.createRule`, { method: "POST", headers: { ...HEADERS, cookie }, body }));
  const json = (await res.json()) as { error?: { json: TrpcError } };
  return { status: res.status, error: json.error?.json };
}

async function written(): Promise<{ rules: number; audits: number }> {
  const [r] = await t.sql`select (select count(*)::int from risk_rules where merchant_id = ${merchantId}) as rules,
    (select count(*)::int from audit_log where merchant_id = ${merchantId} and action = 'risk_rule.created') as audits`;
  return { rules: Number(r!.rules), audits: Number(r!.audits) };
}

/** How many times `needle` occurs in `text`. */
const occurrences = (text: string, needle: string) => text.split(needle).length - 1;

describe("a bad amount on an amount-limit rule", () => {
  const cases: Array<[unknown, string]> = [
    ["abc", `Maximum amount "abc" is not an amount: write digits with an optional "." (no sign, spaces or thousands separators), for example "100000.00"`],
    ["1,000", `Maximum amount "1,000" is not an amount: write digits with an optional "." (no sign, spaces or thousands separators), for example "100000.00"`],
    ["", `Enter a maximum amount, for example "100000.00"`],
    ["10.005", `KES allows at most 2 decimal places; for example "100000.00"`],
    ["-5.00", `Maximum amount must be greater than zero, for example "100000.00"`],
    ["0", `Maximum amount must be greater than zero, for example "100000.00"`],
  ];
  for (const [amount, message] of cases) {
    it(`${JSON.stringify(amount)}: a 400 with one message, a positive example, nothing written`, async () => {
      const before = await written();
      const { status, error } = await createRule(amount);
      expect(status).toBe(400);
      expect(error!.data.appCode).toBe("validation_failed");
      // The form shows fieldErrors: exactly one message for the params, the amount's.
      expect(error!.data.zodError!.fieldErrors.params).toEqual([message]);
      // And under the nested field's own path, for a form that shows it on that field.
      expect(error!.data.zodError!.fieldErrors["params.max_amount"]).toEqual([message]);
      expect(occurrences(error!.message, message)).toBe(1);
      expect(error!.message).toBe(`Invalid input: params.max_amount: ${message}`);
      expect(error!.message).not.toMatch(/"-\d/);
      expect(await written()).toEqual(before);
    });
  }

  it("gives the example in the currency's own decimals", async () => {
    const { error } = await createRule("1.5", "JPY");
    expect(error!.data.zodError!.fieldErrors.params).toEqual([`JPY allows no decimal places; for example "100000"`]);
  });

  it("a good amount is accepted and audited", async () => {
    const before = await written();
    const { status } = await createRule("100000.00");
    expect(status).toBe(200);
    expect(await written()).toEqual({ rules: before.rules + 1, audits: before.audits + 1 });
  });

  it("a stored limit of zero or less still reads (evaluation keeps matching it) though no new rule may say it", () => {
    expect(ZAmountLimitParams.safeParse({ currency: "KES", max_amount: "-5.00" }).success).toBe(true);
    expect(ZAmountLimitParamsInput.safeParse({ currency: "KES", max_amount: "-5.00" }).success).toBe(false);
  });
});
