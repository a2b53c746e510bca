// The composition CSV (GET /api/dashboard/payouts/{payoutId}/items, server/payouts/export-items.ts): the items in
// order, summing exactly to the payout's amount, text cells a spreadsheet would run as formulas defused, quoting;
// session auth, merchant scope (another merchant's payout: 404) and the origin check. Real Postgres.
// DATABASE_URL and AUTH_SECRET are set before the route (and everything reading server/env.js) is first imported.
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, pointRoutesAt, type TestDatabase } from "@/test/db";

const APP = "http://localhost:3000";
const BROWSER = { host: "localhost:3000", "x-forwarded-proto": "http", "sec-fetch-site": "same-origin" };

let t: TestDatabase;
let csvRoute: typeof import("@/app/api/dashboard/payouts/[payoutId]/items/route");
let auth: typeof import("@/server/auth/test-helpers");
let payout: { id: string; amount: bigint; paymentOrderId: string };
let viewerId: string;
let strangerAdminId: string;

beforeAll(async () => {
  t = await createTestDatabase();
  auth = await import("@/server/auth/test-helpers");
  pointRoutesAt(t, { AUTH_SECRET: auth.TEST_AUTH_SECRET });
  csvRoute = await import("@/app/api/dashboard/payouts/[payoutId]/items/route");
  const { insertPayouts } = await import("./state-machine");
  const { payOrders, setupPayoutSeller } = await import("./test-helpers");
  const { createUser } = await import("@/test/fixtures");
  const { payoutItems } = await import("@/db/schema");
  const shop = await setupPayoutSeller(t.db, { psp: "mpesa" });
  const other = await setupPayoutSeller(t.db, { psp: "mpesa" });
  viewerId = (await createUser(t.db, { merchantId: shop.merchant.id, role: "merchant_viewer" })).id;
  strangerAdminId = (await createUser(t.db, { merchantId: other.merchant.id, role: "merchant_admin" })).id;
  const [order] = await payOrders(t.db, shop, [10_000n], { psp: "mpesa" });
  // A payout as the builder leaves it: insertPayouts (the one insert into payouts) and its composition.
  const amount = 10_000n - 200n - 500n;
  const id = await t.db.transaction(async (tx) => {
    const [p] = await insertPayouts(
      tx,
      [{ merchantId: shop.merchant.id, sellerId: shop.seller.id, destinationId: shop.destination.id, psp: "mpesa", amount, currency: "KES", status: "pending", origin: "manual", idempotencyKey: "csv-test", pspKey: "payout_csv_test" }],
      "test_fixture",
    );
    const at = new Date("2026-03-01T15:04:05Z");
    const base = { payoutId: p!.id, sellerId: shop.seller.id, currency: "KES", occurredAt: at };
    await tx.insert(payoutItems).values([
      { ...base, kind: "payment", amount: 10_000n, position: 1, paymentOrderId: order!.id, sourceType: "payment_order", sourceId: order!.id, description: "Payment" },
      { ...base, kind: "fee", amount: -200n, position: 2, paymentOrderId: order!.id, sourceType: "payment_order", sourceId: order!.id, description: '=HYPERLINK("http://evil.example","fee")' },
      { ...base, kind: "refund", amount: -500n, position: 3, sourceType: "refund", sourceId: "rfd_TEST", description: 'Refund, partial; "quoted"' },
    ]);
    return p!.id;
  });
  payout = { id, amount, paymentOrderId: order!.paymentOrderId };
}, 60_000);
afterAll(async () => t?.drop());

const getCsv = (payoutId: string, headers: Record<string, string>) => csvRoute.GET(new Request(`${APP}/api/dashboard/payouts/${payoutId}/items`, { headers: { ...BROWSER, ...headers } }));

describe("CSV of a payout's composition", () => {
  it("downloads the items in order, summing to the amount, formulas defused, quoted where needed", async () => {
    const cookie = await auth.sessionCookie({ userId: viewerId, signedInAtMs: Date.now(), epoch: 0 });
    const res = await getCsv(payout.id, { cookie });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="payout-${payout.id}-items.csv"`);
    const text = await res.text();
    const rows = parse(text, { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.kind)).toEqual(["payment", "fee", "refund"]);
    expect(rows.map((r) => r.amount)).toEqual(["100.00", "-2.00", "-5.00"]);
    expect(rows.reduce((a, r) => a + BigInt(r.amount!.replace(".", "")), 0n)).toBe(payout.amount);
    expect(rows[1]!.description).toBe(`'=HYPERLINK("http://evil.example","fee")`);
    expect(rows[2]!.description).toBe('Refund, partial; "quoted"');
    expect(rows[0]!.payment_order_id).toBe(payout.paymentOrderId);
    expect(rows[0]!.occurred_at).toBe("2026-03-01T15:04:05.000Z");
    expect(rows[0]!.occurred_local).toBe("2026-03-01T15:04:05+00:00");
  });

  it("is the merchant's only: another merchant's member gets 404, no session 401, a cross-site request 403, a bad id 404", async () => {
    const cookie = await auth.sessionCookie({ userId: viewerId, signedInAtMs: Date.now(), epoch: 0 });
    const stranger = await auth.sessionCookie({ userId: strangerAdminId, signedInAtMs: Date.now(), epoch: 0 });
    expect((await getCsv(payout.id, { cookie: stranger })).status).toBe(404);
    expect((await getCsv(payout.id, {})).status).toBe(401);
    expect((await getCsv("pyo_bad", { cookie })).status).toBe(404);
    expect((await getCsv("pyo_%E0%A4%A", { cookie })).status).toBe(404);
    expect((await getCsv(payout.id, { cookie, "sec-fetch-site": "cross-site" })).status).toBe(403);
  });
});
