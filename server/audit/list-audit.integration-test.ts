import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog } from "@/db/schema";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { callerFor, createMerchant, createUser, trpcErrorCode as code } from "@/test/fixtures";
import { recordAudit } from "./record-audit";

// ops.auditLog: ops only; filters by actor email, action, merchant, target id and UTC day; keyset pages that
// neither skip nor repeat a row, rows sharing one timestamp included.

let t: TestDatabase;
let ops: string;
let admin: string;
let adminEmail: string;
let merchantA: string;
let merchantB: string;

beforeAll(async () => {
  t = await createTestDatabase();
  ops = (await createUser(t.db, { ops: true })).id;
  merchantA = (await createMerchant(t.db)).id;
  merchantB = (await createMerchant(t.db)).id;
  const a = await createUser(t.db, { merchantId: merchantA, role: "merchant_admin" });
  admin = a.id;
  adminEmail = a.email;
  // Seven rows in ONE transaction: they share created_at (now() is the transaction's start), so only the id orders them.
  await t.db.transaction(async (tx) => {
    for (let i = 0; i < 5; i++) {
      await recordAudit(tx, { actor: admin, merchantId: merchantA, action: "merchant.updated", target: { type: "merchant", id: merchantA }, before: { name: `n${i}` }, after: { name: `n${i + 1}` } });
    }
    await recordAudit(tx, { actor: ops, merchantId: merchantB, action: "risk_review.approved", target: { type: "checkout", id: "chk_audit_list_1" }, data: { note: "looks fine" } });
    await recordAudit(tx, { actor: null, action: "encryption.reencrypted", target: { type: "encryption_key", id: "k2" }, data: { rows: 3 } });
  });
  // Two older rows on fixed days (the append-only log accepts an explicit created_at on insert).
  await t.db.insert(auditLog).values([
    { actorUserId: ops, merchantId: merchantB, action: "api_key.revoked", targetType: "api_key", targetId: "key_old_1", data: {}, createdAt: new Date("2026-03-10T23:59:59.999Z") },
    { actorUserId: ops, merchantId: merchantB, action: "api_key.revoked", targetType: "api_key", targetId: "key_old_2", data: {}, createdAt: new Date("2026-03-11T00:00:00.000Z") },
  ]);
});
afterAll(async () => {
  await t?.drop();
});

describe("ops.auditLog", () => {
  it("is for ops only: a merchant admin is FORBIDDEN, signed out is UNAUTHORIZED", async () => {
    expect(await code(callerFor(t.db, admin).ops.auditLog({}))).toBe("FORBIDDEN");
    expect(await code(callerFor(t.db, admin, merchantA).ops.auditLog({ merchantId: merchantA }))).toBe("FORBIDDEN");
    expect(await code(callerFor(t.db, null).ops.auditLog({}))).toBe("UNAUTHORIZED");
  });

  it("lists newest first with the actor's email, the merchant's name and the data", async () => {
    const page = await callerFor(t.db, ops).ops.auditLog({});
    expect(page.items).toHaveLength(9);
    expect(page.items.at(-1)!.targetId).toBe("key_old_1");
    const review = page.items.find((r) => r.action === "risk_review.approved")!;
    expect(review).toMatchObject({ merchantId: merchantB, targetType: "checkout", targetId: "chk_audit_list_1", data: { note: "looks fine" } });
    expect(review.merchantName).toMatch(/^Merchant /);
    expect(page.items.find((r) => r.action === "encryption.reencrypted")).toMatchObject({ actorUserId: null, actorEmail: null, merchantId: null });
    expect(page.items.find((r) => r.action === "merchant.updated")!.actorEmail).toBe(adminEmail);
    expect(page).toMatchObject({ nextCursor: null, prevCursor: null });
  });

  it("filters by actor (part of the email, any case), action, merchant, target id and UTC days", async () => {
    const list = callerFor(t.db, ops).ops.auditLog;
    const ids = async (input: Parameters<typeof list>[0]) => (await list(input)).items.map((r) => r.targetId);
    expect(await ids({ actor: adminEmail.slice(2, 12).toUpperCase() })).toEqual(Array(5).fill(merchantA));
    expect(await ids({ action: "risk_review.approved" })).toEqual(["chk_audit_list_1"]);
    expect((await ids({ merchantId: merchantB })).sort()).toEqual(["chk_audit_list_1", "key_old_1", "key_old_2"]);
    expect(await ids({ targetId: "key_old_2" })).toEqual(["key_old_2"]);
    expect(await ids({ from: "2026-03-11", to: "2026-03-11" })).toEqual(["key_old_2"]);
    expect(await ids({ from: "2026-03-10", to: "2026-03-10" })).toEqual(["key_old_1"]);
    expect(await ids({ to: "2026-03-11" })).toEqual(["key_old_2", "key_old_1"]);
    expect(await ids({ actor: "%" })).toEqual([]);
    expect(await ids({ merchantId: merchantA, action: "api_key.revoked" })).toEqual([]);
  });

  it("pages both ways without gaps or repeats, rows sharing a timestamp included", async () => {
    const list = callerFor(t.db, ops).ops.auditLog;
    const all = (await list({ limit: 200 })).items.map((r) => r.id);
    const seen: string[] = [];
    const pages: { cursor: string | null; ids: string[] }[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof list>> = await list({ limit: 2, ...(cursor ? { cursor } : {}) });
      pages.push({ cursor, ids: page.items.map((r) => r.id) });
      seen.push(...page.items.map((r) => r.id));
      expect(page.prevCursor === null).toBe(cursor === null);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all);
    expect(pages).toHaveLength(5);
    // Back from the last page: each "prev" page is the page before it.
    const last = await list({ limit: 2, cursor: pages[4]!.cursor! });
    const back = await list({ limit: 2, cursor: last.prevCursor!, direction: "prev" });
    expect(back.items.map((r) => r.id)).toEqual(pages[3]!.ids);
    // Back by one row from the fourth: the two rows just before it.
    expect((await list({ limit: 2, cursor: pages[1]!.ids[1]!, direction: "prev" })).items.map((r) => r.id)).toEqual([pages[0]!.ids[1], pages[1]!.ids[0]]);
    // A "prev" that reaches the start (one newer row only) is the full first page.
    const first = await list({ limit: 2, cursor: pages[0]!.ids[1]!, direction: "prev" });
    expect(first.items.map((r) => r.id)).toEqual(pages[0]!.ids);
    expect(first.prevCursor).toBeNull();
  });

  it("refuses bad input with a 400", async () => {
    const list = callerFor(t.db, ops).ops.auditLog;
    expect(await code(list({ cursor: "aud_not_a_row" }))).toBe("BAD_REQUEST");
    expect(await code(list({ from: "2026-03-12", to: "2026-03-11" }))).toBe("BAD_REQUEST");
    expect(await code(list({ from: "2026-02-30" }))).toBe("BAD_REQUEST");
    expect(await code(list({ from: "11/03/2026" }))).toBe("BAD_REQUEST");
    expect(await code(list({ action: "nope" as "merchant.updated" }))).toBe("BAD_REQUEST");
    expect(await code(list({ actor: "x".repeat(255) }))).toBe("BAD_REQUEST");
    expect(await code(list({ targetId: "a\u0000b" }))).toBe("BAD_REQUEST");
  });
});
