// The merchant's payments list (payments.list): every filter, search by buyer email through the keyed lookup
// hash, dates read in the merchant's time zone, amounts converted exactly per currency, keyset pages under every
// sort (forwards and back) with no gap or repeat, bad input refused, and never another merchant's rows.
import { TRPCError } from "@trpc/server";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { merchants, sellers } from "@/db/schema";
import { encodeCursor } from "@/server/payments/list-payment-orders";
import type { TListPaymentOrdersInput } from "@/server/payments/list-payment-orders.schema";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { callerFor, createMerchant, createTestCheckout, createUser } from "@/test/fixtures";

let t: TestDatabase;
let merchantA: { id: string };
let merchantB: { id: string };
let merchantC: { id: string };
let viewerA: string;
let adminB: string;
let viewerC: string;
let sellersA: [string, string];
let sellersB: [string, string];
const chk: Record<"c1" | "c2" | "c3" | "c4" | "b1", string> = {} as never;

async function sellerRefs(merchantId: string): Promise<[string, string]> {
  const rows = await t.db.select({ r: sellers.reference }).from(sellers).where(eq(sellers.merchantId, merchantId)).orderBy(sellers.reference);
  return [rows[0]!.r, rows[1]!.r];
}

/** Place a checkout's orders at an instant (UTC) and give them a status and PSP, as the payment flow would. */
async function place(checkoutId: string, at: string, status: string, psp: string | null, failureCode: string | null = null) {
  await t.sql`update payment_orders set created_at = ${at}::timestamptz, status = ${status}::payment_order_status, psp = ${psp}, failure_code = ${failureCode} where checkout_id = ${checkoutId}`;
}

beforeAll(async () => {
  t = await createTestDatabase();
  merchantA = await createMerchant(t.db, "List Shop");
  merchantB = await createMerchant(t.db, "Other Shop");
  merchantC = await createMerchant(t.db, "Paging Shop");
  // UTC+3 all year: a local day starts at 21:00 UTC the day before.
  await t.db.update(merchants).set({ timeZone: "Africa/Nairobi" }).where(eq(merchants.id, merchantA.id));
  viewerA = (await createUser(t.db, { merchantId: merchantA.id, role: "merchant_viewer" })).id;
  adminB = (await createUser(t.db, { merchantId: merchantB.id, role: "merchant_admin" })).id;
  viewerC = (await createUser(t.db, { merchantId: merchantC.id, role: "merchant_viewer" })).id;
  sellersA = await sellerRefs(merchantA.id);
  sellersB = await sellerRefs(merchantB.id);
  const [sa, sb] = sellersA;
  const mk = async (opts: Parameters<typeof createTestCheckout>[1]) => (await createTestCheckout(t.db, opts)).checkout_id;
  chk.c1 = await mk({ merchantId: merchantA.id, sellerRefs: [sa, sb], amounts: ["100.00", "250.50"], buyer: { email: "alice@example.test" } });
  chk.c2 = await mk({ merchantId: merchantA.id, sellerRefs: [sa], amounts: ["1000.00"], buyer: { email: "bob@example.test" } });
  chk.c3 = await mk({ merchantId: merchantA.id, sellerRefs: [sb], amounts: ["10.00"], currency: "USD", buyer: { email: "Alice@Example.test" } });
  chk.c4 = await mk({ merchantId: merchantA.id, sellerRefs: [sa], amounts: ["5000.00"], buyer: { email: "bob@example.test" } });
  chk.b1 = await mk({ merchantId: merchantB.id, sellerRefs: [sellersB[0]], amounts: ["100.00"], buyer: { email: "alice@example.test" } });
  await place(chk.c1, "2026-03-01T20:30:00Z", "NOT_STARTED", null); // 1 Mar 23:30 in Nairobi
  await place(chk.c2, "2026-03-01T21:30:00Z", "SUCCESS", "stripe"); // 2 Mar 00:30 in Nairobi (still 1 Mar in UTC)
  await place(chk.c3, "2026-03-02T20:59:59.999999Z", "EXECUTING", "stripe"); // 2 Mar 23:59:59.999999 in Nairobi
  await place(chk.c4, "2026-03-02T21:00:00Z", "FAILED", "mpesa", "insufficient_funds"); // 3 Mar 00:00 in Nairobi
  await place(chk.b1, "2026-03-02T10:00:00Z", "SUCCESS", "stripe");

  // Merchant C: 60 orders with many ties in both sort keys (the id breaks them) and microsecond-apart times.
  const base = await createTestCheckout(t.db, { merchantId: merchantC.id, sellerRefs: [(await sellerRefs(merchantC.id))[0]] });
  await t.sql`
    insert into payment_orders (id, payment_order_id, merchant_id, checkout_id, seller_id, amount, currency, status, created_at, updated_at)
    select 'po_01GEN' || lpad(i::text, 21, '0'), 'gen-' || i, po.merchant_id, po.checkout_id, po.seller_id,
           ((i % 7) + 1) * 100, 'KES', 'NOT_STARTED',
           timestamptz '2026-04-01 12:00:00Z' + (i % 5) * interval '1 second' + (i % 3) * interval '1 microsecond', now()
    from generate_series(1, 60) as i, (select * from payment_orders where checkout_id = ${base.checkout_id}) po`;
});
afterAll(async () => t?.drop());

const listA = (input: Partial<TListPaymentOrdersInput> = {}) => callerFor(t.db, viewerA).payments.list({ limit: 100, ...input } as TListPaymentOrdersInput);
const ids = async (input: Partial<TListPaymentOrdersInput> = {}) => (await listA(input)).items.map((o) => o.checkout_id + "/" + o.amount);

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(TRPCError);
  // In process (no HTTP error formatter) the cause is the ZodError itself: name each issue as the formatter does.
  const cause = (e as TRPCError).cause;
  const message = cause instanceof ZodError ? cause.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") : (e as TRPCError).message;
  return { code: (e as TRPCError).code, message };
}

describe("filters", () => {
  it("lists the merchant's orders newest first by default, with the fields the table shows", async () => {
    const page = await listA();
    expect(page.items.map((o) => o.checkout_id)).toEqual([chk.c4, chk.c3, chk.c2, chk.c1, chk.c1]);
    // Ties on created_at (one checkout's orders) are broken by id, descending too.
    expect(page.items[3]!.id > page.items[4]!.id).toBe(true);
    const failed = page.items[0]!;
    expect(failed).toMatchObject({ amount: "5000.00", amount_minor: "500000", currency: "KES", status: "FAILED", psp: "mpesa", seller_account: sellersA[0], failure: { code: "insufficient_funds" } });
    expect(page.nextCursor).toBeNull();
    expect(page.prevCursor).toBeNull();
  });

  it("filters by status, seller, currency and PSP", async () => {
    expect(await ids({ status: "SUCCESS" })).toEqual([`${chk.c2}/1000.00`]);
    expect(await ids({ seller: sellersA[1] })).toEqual([`${chk.c3}/10.00`, `${chk.c1}/250.50`]);
    expect((await ids({ status: "NOT_STARTED" })).sort()).toEqual([`${chk.c1}/100.00`, `${chk.c1}/250.50`]);
    expect(await ids({ currency: "USD" })).toEqual([`${chk.c3}/10.00`]);
    expect(await ids({ psp: "stripe" })).toEqual([`${chk.c3}/10.00`, `${chk.c2}/1000.00`]);
    expect(await ids({ psp: "mpesa", status: "FAILED", currency: "KES", seller: sellersA[0] })).toEqual([`${chk.c4}/5000.00`]);
    expect(await ids({ seller: sellersB[0] })).toEqual([]); // another merchant's seller names none of ours
  });

  it("searches by exact payment order id and checkout id", async () => {
    const [order] = (await listA({ currency: "USD" })).items;
    expect(await ids({ q: order!.payment_order_id })).toEqual([`${chk.c3}/10.00`]);
    expect((await ids({ q: ` ${chk.c1} ` })).sort()).toEqual([`${chk.c1}/100.00`, `${chk.c1}/250.50`]);
    expect(await ids({ q: order!.payment_order_id.slice(0, -1) })).toEqual([]); // exact, not a prefix
    expect(await ids({ q: chk.b1 })).toEqual([]); // another merchant's checkout
  });

  it("searches by buyer email through the lookup hash: that buyer's orders only, any case, never another merchant's", async () => {
    expect((await ids({ q: "alice@example.test" })).sort()).toEqual([`${chk.c1}/100.00`, `${chk.c1}/250.50`, `${chk.c3}/10.00`].sort());
    expect(await ids({ q: "  ALICE@example.TEST " })).toHaveLength(3);
    expect(await ids({ q: "bob@example.test" })).toEqual([`${chk.c4}/5000.00`, `${chk.c2}/1000.00`]);
    expect(await ids({ q: "carol@example.test" })).toEqual([]);
    expect((await callerFor(t.db, adminB).payments.list({ q: "alice@example.test" } as TListPaymentOrdersInput)).items.map((o) => o.checkout_id)).toEqual([chk.b1]);
    // The checkout stores no email in clear, so only the hash can have matched.
    const [row] = await t.sql<{ info: string; hash: string }[]>`select buyer_info_encrypted as info, buyer_email_hash as hash from checkouts where id = ${chk.c1}`;
    expect(row!.info).not.toContain("alice");
    expect(row!.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("reads dates in the merchant's time zone: a date-only 'to' includes its whole local day", async () => {
    expect((await ids({ from: "2026-03-01", to: "2026-03-01" })).sort()).toEqual([`${chk.c1}/100.00`, `${chk.c1}/250.50`]);
    // 2 Mar in Nairobi: c2 (1 Mar 21:30 UTC) and c3 (its last microsecond), not c4 (3 Mar 00:00 local).
    expect(await ids({ from: "2026-03-02", to: "2026-03-02" })).toEqual([`${chk.c3}/10.00`, `${chk.c2}/1000.00`]);
    expect(await ids({ from: "2026-03-03" })).toEqual([`${chk.c4}/5000.00`]);
    expect((await ids({ to: "2026-03-01" })).map((s) => s.split("/")[0])).toEqual([chk.c1, chk.c1]);
    // Local times: from is inclusive to the minute.
    expect(await ids({ from: "2026-03-02T00:30" })).toEqual([`${chk.c4}/5000.00`, `${chk.c3}/10.00`, `${chk.c2}/1000.00`]);
    // A "to" second includes its whole second: c3 (23:59:59.999999 local) is shown as 23:59:59.
    expect(await ids({ from: "2026-03-02T00:31", to: "2026-03-02T23:59:59" })).toEqual([`${chk.c3}/10.00`]);
    expect(await ids({ from: "2026-03-02T00:31", to: "2026-03-02T23:59:58" })).toEqual([]);
    expect((await ids({ to: "2026-03-02T00:30" })).map((s) => s.split("/")[0])).toEqual([chk.c2, chk.c1, chk.c1]);
    // A "to" minute includes the whole minute (the table shows seconds): c3 sits in 2 Mar's last minute.
    expect((await ids({ from: "2026-03-02T23:59", to: "2026-03-02T23:59" })).map((s) => s.split("/")[0])).toEqual([chk.c3]);
  });

  it("converts an amount range in major units exactly, per the currency's exponent", async () => {
    expect(await ids({ currency: "KES", amountMin: "250.5" })).toEqual([`${chk.c4}/5000.00`, `${chk.c2}/1000.00`, `${chk.c1}/250.50`]);
    expect(await ids({ currency: "KES", amountMin: "250.50" })).toEqual(await ids({ currency: "KES", amountMin: "250.5" }));
    expect(await ids({ currency: "KES", amountMin: "250.51" })).toEqual([`${chk.c4}/5000.00`, `${chk.c2}/1000.00`]);
    expect((await ids({ currency: "KES", amountMax: "1000" })).map((s) => s.split("/")[1]).sort()).toEqual(["100.00", "1000.00", "250.50"]);
    expect(await ids({ currency: "KES", amountMax: "1000", sort: "amount", dir: "asc" })).toEqual([`${chk.c1}/100.00`, `${chk.c1}/250.50`, `${chk.c2}/1000.00`]);
    expect(await ids({ currency: "KES", amountMin: "100", amountMax: "100.00" })).toEqual([`${chk.c1}/100.00`]);
    expect(await ids({ currency: "USD", amountMin: "10.00", amountMax: "10" })).toEqual([`${chk.c3}/10.00`]);
  });
});

describe("bad input is a clear 400", () => {
  it.each([
    [{ currency: "KES", amountMin: "250.505" }, /amountMin: KES allows at most 2 decimal places/],
    [{ currency: "JPY", amountMax: "10.5" }, /amountMax: JPY allows no decimal places/],
    [{ amountMin: "10" }, /amountMin: Choose a currency to filter by amount/],
    [{ currency: "KES", amountMin: "1,000" }, /amountMin: .*thousands separators/],
    [{ currency: "KES", amountMin: "-5" }, /amountMin: Enter an amount of zero or more/],
    [{ currency: "KES", amountMin: "500", amountMax: "100" }, /amountMax: The maximum amount is below the minimum/],
    [{ from: "2026-02-30" }, /from: Enter a date/],
    [{ from: "2026-03-02", to: "2026-03-01" }, /to: The end is before the start/],
    [{ to: "yesterday" }, /to: Enter a date/],
    [{ q: "x".repeat(255) }, /q: At most 254 characters/],
    [{ status: "PAID" }, /status/],
    [{ psp: "paypal" }, /psp/],
    [{ currency: "usd" }, /currency/],
    [{ sort: "seller" }, /sort/],
    [{ limit: 101 }, /limit/],
    [{ cursor: "not a cursor!" }, /cursor/],
    [{ cursor: Buffer.from("[1,2]").toString("base64url") }, /cursor: not a page cursor/],
  ])("%j", async (input, message) => {
    const r = await refusal(listA(input as Partial<TListPaymentOrdersInput>));
    expect(r.code).toBe("BAD_REQUEST");
    expect(r.message).toMatch(message);
  });

  it("refuses a cursor made for another sort, and a forged one names no other merchant's rows", async () => {
    const page = await callerFor(t.db, viewerC).payments.list({ limit: 5 } as TListPaymentOrdersInput);
    const r = await refusal(callerFor(t.db, viewerC).payments.list({ limit: 5, sort: "amount", cursor: page.nextCursor! } as TListPaymentOrdersInput));
    expect(r.code).toBe("BAD_REQUEST");
    // A well-formed cursor at merchant C's position, used by merchant A: still only A's rows.
    const forged = encodeCursor({ sort: "created", dir: "desc", kind: "after", value: "2099-01-01T00:00:00.000000Z", id: "po_ZZZZZZZZZZZZZZZZZZZZZZZZZZ" });
    expect((await listA({ cursor: forged })).items.map((o) => o.checkout_id).sort()).toEqual([chk.c1, chk.c1, chk.c2, chk.c3, chk.c4].sort());
  });
});

describe("keyset pages", () => {
  const orders = [
    ["created", "desc"],
    ["created", "asc"],
    ["amount", "desc"],
    ["amount", "asc"],
  ] as const;

  it.each(orders)("sort %s %s: pages forwards and back cover every row once, in the sort's order", async (sort, dir) => {
    const column = sort === "amount" ? "amount" : "created_at";
    const expected = (await t.sql.unsafe<{ id: string }[]>(`select id from payment_orders where merchant_id = $1 order by ${column} ${dir}, id ${dir}`, [merchantC.id])).map((r) => r.id);
    expect(expected).toHaveLength(61);
    const list = (cursor?: string) => callerFor(t.db, viewerC).payments.list({ limit: 7, sort, dir, cursor } as TListPaymentOrdersInput);
    const seen: string[] = [];
    const cursors: (string | undefined)[] = [];
    let cursor: string | undefined;
    let page = await list();
    expect(page.prevCursor).toBeNull();
    for (let n = 0; ; n++) {
      expect(n).toBeLessThan(20);
      expect(page.items.length).toBeLessThanOrEqual(7);
      seen.push(...page.items.map((o) => o.id));
      cursors.push(cursor);
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
      page = await list(cursor);
      expect(page.prevCursor).not.toBeNull();
    }
    expect(seen).toEqual(expected);
    // Back from the last page to the first through prevCursor: the same pages in reverse.
    const back: string[][] = [page.items.map((o) => o.id)];
    while (page.prevCursor) {
      page = await list(page.prevCursor);
      back.unshift(page.items.map((o) => o.id));
      expect(back.length).toBeLessThan(20);
    }
    expect(back.flat()).toEqual(expected);
    expect(back[0]).toEqual(expected.slice(0, 7));
  });

  it("a page cursor points between rows, so a later insert never repeats a row on the next page", async () => {
    const first = await callerFor(t.db, viewerC).payments.list({ limit: 10 } as TListPaymentOrdersInput);
    await createTestCheckout(t.db, { merchantId: merchantC.id, sellerRefs: [(await sellerRefs(merchantC.id))[1]] });
    const second = await callerFor(t.db, viewerC).payments.list({ limit: 10, cursor: first.nextCursor! } as TListPaymentOrdersInput);
    const firstIds = new Set(first.items.map((o) => o.id));
    expect(second.items.some((o) => firstIds.has(o.id))).toBe(false);
  });
});

describe("isolation", () => {
  it("lists only the caller's merchant; another merchant's scope is not found", async () => {
    expect((await callerFor(t.db, adminB).payments.list({} as TListPaymentOrdersInput)).items.map((o) => o.checkout_id)).toEqual([chk.b1]);
    expect((await refusal(callerFor(t.db, adminB, merchantA.id).payments.list({} as TListPaymentOrdersInput))).code).toBe("NOT_FOUND");
    expect((await refusal(callerFor(t.db, null).payments.list({} as TListPaymentOrdersInput))).code).toBe("UNAUTHORIZED");
  });
});
