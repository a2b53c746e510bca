// The payments CSV export (GET /api/dashboard/payments/export, server/payments/export-payment-orders.ts):
// exactly the listed rows for the same filters and sort, every page; its columns and CSV escaping (formula
// injection defused); 20,000 rows streamed in batches read only as the reader pulls; the session, merchant scope,
// origin and input checks of the route. DATABASE_URL and AUTH_SECRET are set before the route is first imported.
import { eq } from "drizzle-orm";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { merchants, sellers } from "@/db/schema";
import { sessionCookie, TEST_AUTH_SECRET } from "@/server/auth/test-helpers";
import { createTestDatabase, pointRoutesAt, type TestDatabase } from "@/test/db";

const APP = "http://localhost:3000";
const BROWSER = { host: "localhost:3000", "x-forwarded-proto": "http", "sec-fetch-site": "same-origin" };

let t: TestDatabase;
let route: typeof import("@/app/api/dashboard/payments/export/route");
let exporter: typeof import("@/server/payments/export-payment-orders");
let fixtures: typeof import("@/test/fixtures");
let merchantA: { id: string };
let merchantB: { id: string };
let merchantBig: { id: string };
let viewerA: string;
let cookieA: string;
let cookieB: string;
let cookieBig: string;
let sellerA: string;
const BIG = 20_000;

beforeAll(async () => {
  t = await createTestDatabase();
  pointRoutesAt(t, { AUTH_SECRET: TEST_AUTH_SECRET });
  route = await import("@/app/api/dashboard/payments/export/route");
  exporter = await import("@/server/payments/export-payment-orders");
  fixtures = await import("@/test/fixtures");
  merchantA = await fixtures.createMerchant(t.db, "Export Shop");
  merchantB = await fixtures.createMerchant(t.db, "Other Shop");
  merchantBig = await fixtures.createMerchant(t.db, "Big Shop");
  await t.db.update(merchants).set({ timeZone: "America/New_York" }).where(eq(merchants.id, merchantA.id));
  viewerA = (await fixtures.createUser(t.db, { merchantId: merchantA.id, role: "merchant_viewer" })).id;
  const adminB = (await fixtures.createUser(t.db, { merchantId: merchantB.id, role: "merchant_admin" })).id;
  const viewerBig = (await fixtures.createUser(t.db, { merchantId: merchantBig.id, role: "merchant_viewer" })).id;
  cookieA = await sessionCookie({ userId: viewerA, signedInAtMs: Date.now(), epoch: 0 });
  cookieB = await sessionCookie({ userId: adminB, signedInAtMs: Date.now(), epoch: 0 });
  cookieBig = await sessionCookie({ userId: viewerBig, signedInAtMs: Date.now(), epoch: 0 });
  const refs = async (merchantId: string) => (await t.db.select({ r: sellers.reference }).from(sellers).where(eq(sellers.merchantId, merchantId)).orderBy(sellers.reference)).map((r) => r.r);
  const [sa, sb] = await refs(merchantA.id);
  sellerA = sa!;
  // 12 checkouts of two orders each, amounts with ties, one buyer for the odd ones.
  for (let i = 0; i < 12; i++) {
    await fixtures.createTestCheckout(t.db, { merchantId: merchantA.id, sellerRefs: [sa!, sb!], amounts: [`${(i % 4) + 1}00.50`, "75.00"], buyer: { email: i % 2 ? "odd@example.test" : `even${i}@example.test` } });
  }
  // A seller reference and an order id a spreadsheet would run as formulas, and a failure code that needs quoting.
  await t.sql`update sellers set reference = '=HYPERLINK("http://evil.example","x")' where reference = ${sb!}`;
  const [first] = await t.sql<{ id: string }[]>`select id from payment_orders where merchant_id = ${merchantA.id} order by id limit 1`;
  await t.sql`update payment_orders set payment_order_id = '-2-3', status = 'FAILED', psp = 'mpesa', failure_code = ${'a,"b"\nc'}, created_at = '2026-07-04T03:30:00.123456Z' where id = ${first!.id}`;
  const [other] = await refs(merchantB.id);
  await fixtures.createTestCheckout(t.db, { merchantId: merchantB.id, sellerRefs: [other!], buyer: { email: "odd@example.test" } });
  // 20,000 orders, set-based.
  const [bigSeller] = await refs(merchantBig.id);
  const base = await fixtures.createTestCheckout(t.db, { merchantId: merchantBig.id, sellerRefs: [bigSeller!] });
  await t.sql`
    insert into payment_orders (id, payment_order_id, merchant_id, checkout_id, seller_id, amount, currency, status, created_at, updated_at)
    select 'po_01BIG' || lpad(i::text, 21, '0'), 'big-' || i, po.merchant_id, po.checkout_id, po.seller_id,
           (i % 1000) + 1, 'KES', 'SUCCESS', timestamptz '2026-05-01 00:00:00Z' + (i / 3) * interval '1 second', now()
    from generate_series(1, ${BIG}) as i, (select * from payment_orders where checkout_id = ${base.checkout_id}) po`;
});
afterAll(async () => t?.drop());

function get(query: string, headers: Record<string, string> = {}) {
  return route.GET(new Request(`${APP}/api/dashboard/payments/export${query}`, { headers: { ...BROWSER, ...headers } }));
}

/** Every row of the list for these filters, page by page, as the dashboard would show them. */
async function listedIds(userId: string, filters: Record<string, string>): Promise<string[]> {
  const caller = fixtures.callerFor(t.db, userId);
  const out: string[] = [];
  let cursor: string | undefined;
  for (let n = 0; n < 100; n++) {
    const page = await caller.payments.list({ ...filters, limit: 5, cursor } as never);
    out.push(...page.items.map((o) => o.payment_order_id));
    if (!page.nextCursor) return out;
    cursor = page.nextCursor;
  }
  throw new Error("too many pages");
}

const rowsOf = (text: string): Record<string, string>[] => parse(text, { columns: true, skip_empty_lines: true });

describe("the CSV", () => {
  it.each([
    [{}],
    [{ sort: "amount", dir: "asc" }],
    [{ sort: "amount", dir: "desc", currency: "KES", amountMin: "200.5" }],
    [{ q: "odd@example.test", sort: "created", dir: "asc" }],
    [{ seller: "=HYPERLINK(\"http://evil.example\",\"x\")" }],
    [{ status: "FAILED" }],
    [{ from: "2026-07-03", to: "2026-07-03" }], // 03:30 UTC on 4 July is 23:30 on 3 July in New York
  ])("holds exactly the listed rows, in the list's order: %j", async (filters) => {
    const res = await get(`?${new URLSearchParams(filters as Record<string, string>)}`, { cookie: cookieA });
    expect(res.status).toBe(200);
    const csv = rowsOf(await res.text());
    const listed = await listedIds(viewerA, filters as Record<string, string>);
    expect(listed.length).toBeGreaterThan(0);
    expect(csv.map((r) => r.payment_order_id!.replace(/^'/, ""))).toEqual(listed);
  });

  it("has the columns, exact amounts, UTC and local times, and defuses formulas and quotes", async () => {
    const res = await get("?status=FAILED", { cookie: cookieA });
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="payments-\d{4}-\d{2}-\d{2}\.csv"$/);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const text = await res.text();
    expect(text.split("\r\n")[0]).toBe("payment_order_id,checkout_id,seller,status,amount,currency,psp,created_at,created_local,failure_code");
    const [row, ...rest] = rowsOf(text);
    expect(rest).toEqual([]);
    expect(row).toMatchObject({
      payment_order_id: "'-2-3",
      status: "FAILED",
      currency: "KES",
      psp: "mpesa",
      created_at: "2026-07-04T03:30:00.123Z",
      created_local: "2026-07-03T23:30:00-04:00",
      failure_code: 'a,"b"\nc',
    });
    expect(row!.checkout_id).toMatch(/^chk_/);
    expect(row!.amount).toMatch(/^[1-4]00\.50$|^75\.00$/);
    // Every seller cell that held the formula starts with a quote now.
    const all = rowsOf(await (await get("", { cookie: cookieA })).text());
    const formulaCells = all.filter((r) => r.seller!.includes("HYPERLINK"));
    expect(formulaCells.length).toBe(12);
    expect(formulaCells.every((r) => r.seller === `'=HYPERLINK("http://evil.example","x")`)).toBe(true);
    expect(all.find((r) => r.seller === sellerA)?.amount).toMatch(/^\d+\.50$/);
  });

  it("quotes cells per RFC 4180 and defuses every formula lead", () => {
    const { csvCell, csvLine } = exporter;
    expect(csvCell("plain")).toBe("plain");
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell("a,b")).toBe('"a,b"');
    expect(csvCell("x;=HYPERLINK(1)")).toBe('"x;=HYPERLINK(1)"');
    expect(csvCell("line\nbreak")).toBe('"line\nbreak"');
    expect(csvCell("cr\rhere")).toBe('"cr\rhere"');
    for (const lead of ["=", "+", "-", "@", "\t"]) expect(csvCell(`${lead}1+1`)).toBe(`'${lead}1+1`);
    expect(csvCell("=1,2")).toBe(`"'=1,2"`);
    expect(csvCell(null)).toBe("");
    expect(csvLine(["a", null, "b,c"])).toBe('a,,"b,c"\r\n');
  });

  it("is empty but for its header when nothing matches", async () => {
    const res = await get("?q=nobody%40example.test", { cookie: cookieA });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(`${exporter.CSV_COLUMNS.join(",")}\r\n`);
  });
});

describe("many rows", () => {
  it("streams 20,000 rows in batches, reading the next batch only when the reader pulls", async () => {
    const batches: number[] = [];
    const { body } = await exporter.exportPaymentOrders(t.db, merchantBig.id, { sort: "created", dir: "desc" }, { batchRows: 1000, onBatch: (n) => batches.push(n) });
    expect(batches).toEqual([1000]); // the first batch, read before the response starts
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let text = "";
    let chunks = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks++;
      // Never more read from Postgres than one batch ahead of what the reader has taken.
      expect(batches.length).toBeLessThanOrEqual(chunks + 1);
      text += decoder.decode(value, { stream: true });
    }
    expect(batches.every((n) => n <= 1000)).toBe(true);
    expect(batches.slice(0, 20)).toEqual(Array(20).fill(1000));
    const lines = text.split("\r\n").filter(Boolean);
    expect(lines).toHaveLength(BIG + 1 + 1); // header, the 20,000 and the base checkout's order
    const ids = lines.slice(1).map((l) => l.split(",")[0]);
    expect(new Set(ids).size).toBe(ids.length);
    // Newest first: the base checkout's order (created now), then the generated ones, 3 per second, ties by id.
    expect(ids[0]).toMatch(/^po-/);
    expect(ids.slice(1, 4)).toEqual(["big-20000", "big-19999", "big-19998"]);
  });

  it("over HTTP: the same count, streamed", async () => {
    const res = await get("?sort=amount&dir=asc&currency=KES", { cookie: cookieBig });
    expect(res.status).toBe(200);
    const lines = (await res.text()).split("\r\n").filter(Boolean);
    expect(lines).toHaveLength(BIG + 2);
  });

  it("stops reading when the download is cancelled", async () => {
    const batches: number[] = [];
    const { body } = await exporter.exportPaymentOrders(t.db, merchantBig.id, { sort: "amount", dir: "desc" }, { batchRows: 500, onBatch: (n) => batches.push(n) });
    const reader = body.getReader();
    await reader.read();
    await reader.read();
    await reader.cancel();
    expect(batches.length).toBeLessThanOrEqual(3);
  });
});

describe("the route's checks", () => {
  it("refuses a signed-out caller (401), bad filters (400 naming the field) and a cross-site request (403)", async () => {
    const signedOut = await get("");
    expect(signedOut.status).toBe(401);
    expect((await signedOut.json()).error.code).toBe("unauthenticated");
    const bad = await get("?currency=KES&amountMin=1.005", { cookie: cookieA });
    expect(bad.status).toBe(400);
    const body = await bad.json();
    expect(body.error.code).toBe("validation_failed");
    expect(body.error.fields).toEqual([{ path: "amountMin", message: "KES allows at most 2 decimal places" }]);
    expect((await get(`?q=${"x".repeat(300)}`, { cookie: cookieA })).status).toBe(400);
    expect((await get("?from=2026-13-01", { cookie: cookieA })).status).toBe(400);
    expect((await get("?q=%00", { cookie: cookieA })).status).toBe(400);
    const crossSite = await get("", { cookie: cookieA, "sec-fetch-site": "cross-site" });
    expect(crossSite.status).toBe(403);
    const foreign = await get("", { cookie: cookieA, origin: "https://evil.example" });
    expect(foreign.status).toBe(403);
  });

  it("exports only the caller's merchant; asking for another merchant's scope is 404", async () => {
    const theirs = rowsOf(await (await get("?q=odd%40example.test", { cookie: cookieB })).text());
    expect(theirs).toHaveLength(1);
    const mine = rowsOf(await (await get("?q=odd%40example.test", { cookie: cookieA })).text());
    expect(mine).toHaveLength(12);
    expect(mine.some((r) => r.checkout_id === theirs[0]!.checkout_id)).toBe(false);
    const scoped = await get("", { cookie: `${cookieB}; pb_merchant=${merchantA.id}` });
    expect(scoped.status).toBe(404);
    expect(await scoped.text()).not.toContain("payment_order_id");
  });

  it("limits how many exports a merchant starts per minute (429 with Retry-After), leaving other merchants alone", async () => {
    const { consumeWindow } = await import("@/server/rate-limit/window");
    const w = { bucket: `payments-export:${merchantA.id}`, limit: exporter.EXPORTS_PER_MERCHANT_PER_MIN, windowMs: 60_000 };
    await consumeWindow(t.db, w, exporter.EXPORTS_PER_MERCHANT_PER_MIN);
    const refused = await get("", { cookie: cookieA });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await refused.json()).error.code).toBe("rate_limited");
    expect((await get("", { cookie: cookieB })).status).toBe(200);
    await t.sql`delete from rate_limit_counters where bucket like ${`payments-export:${merchantA.id}%`}`;
  });
});
