import { TRPCError } from "@trpc/server";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog, merchants } from "@/db/schema";
import { callerFor, createMerchant, createUser } from "@/test/fixtures";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { appRouter } from "./root";

let t: TestDatabase;
let merchantA: { id: string; name: string };
let merchantB: { id: string; name: string };
let adminA: string;
let viewerA: string;
let adminB: string;
let opsUser: string;

beforeAll(async () => {
  t = await createTestDatabase();
  merchantA = await createMerchant(t.db, "Alpha Traders");
  merchantB = await createMerchant(t.db, "Beta Goods");
  adminA = (await createUser(t.db, { merchantId: merchantA.id, role: "merchant_admin" })).id;
  viewerA = (await createUser(t.db, { merchantId: merchantA.id, role: "merchant_viewer" })).id;
  adminB = (await createUser(t.db, { merchantId: merchantB.id, role: "merchant_admin" })).id;
  opsUser = (await createUser(t.db, { ops: true })).id;
});
afterAll(async () => t?.drop());

async function auditCount(merchantId: string) {
  const [row] = await t.db.select({ n: count() }).from(auditLog).where(eq(auditLog.merchantId, merchantId));
  return row!.n;
}
async function merchantName(id: string) {
  const [row] = await t.db.select({ name: merchants.name }).from(merchants).where(eq(merchants.id, id));
  return row!.name;
}
async function trpcCode(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TRPCError);
  return (err as TRPCError).code;
}

describe("role checks", () => {
  it("refuses a merchant_viewer calling a merchant_admin procedure, and writes nothing", async () => {
    const before = await auditCount(merchantA.id);
    expect(await trpcCode(callerFor(t.db, viewerA).merchant.update({ name: "Hijacked" }))).toBe("FORBIDDEN");
    expect(await merchantName(merchantA.id)).toBe("Alpha Traders");
    expect(await auditCount(merchantA.id)).toBe(before);
  });

  it("lets a merchant_viewer read and a merchant_admin write (with an audit row in the same tx)", async () => {
    const me = await callerFor(t.db, viewerA).merchant.me();
    expect(me.merchant.id).toBe(merchantA.id);
    expect(me.role).toBe("merchant_viewer");
    const before = await auditCount(merchantA.id);
    const updated = await callerFor(t.db, adminA).merchant.update({ name: "Alpha Traders Ltd" });
    expect(updated.name).toBe("Alpha Traders Ltd");
    expect(await auditCount(merchantA.id)).toBe(before + 1);
  });

  it("rejects bad input with field errors and writes nothing", async () => {
    const before = await auditCount(merchantA.id);
    expect(await trpcCode(callerFor(t.db, adminA).merchant.update({ name: "   " }))).toBe("BAD_REQUEST");
    expect(await auditCount(merchantA.id)).toBe(before);
  });

  it("refuses ops procedures to merchant users and allows them to ops", async () => {
    expect(await trpcCode(callerFor(t.db, adminA).ops.overview())).toBe("FORBIDDEN");
    const overview = await callerFor(t.db, opsUser).ops.overview();
    expect(overview.merchants.map((m) => m.id)).toEqual(expect.arrayContaining([merchantA.id, merchantB.id]));
  });

  it("reads the role from the database on every call, so a revoked membership takes effect at once", async () => {
    const temp = await createUser(t.db, { merchantId: merchantB.id, role: "merchant_admin" });
    await callerFor(t.db, temp.id).merchant.me();
    await t.sql`delete from memberships where user_id = ${temp.id}`;
    expect(await trpcCode(callerFor(t.db, temp.id).merchant.me())).toBe("NOT_FOUND");
  });
});

describe("merchant scope", () => {
  it("never lets a merchant read another merchant's data", async () => {
    // Asking for B's scope as A's admin: not found (we do not even confirm B exists).
    expect(await trpcCode(callerFor(t.db, adminA, merchantB.id).merchant.me())).toBe("NOT_FOUND");
    expect(await trpcCode(callerFor(t.db, adminA, merchantB.id).merchant.update({ name: "Owned" }))).toBe("NOT_FOUND");
    expect(await merchantName(merchantB.id)).toBe("Beta Goods");
    // Default scope is the caller's own merchant, with only its own sellers.
    const mine = await callerFor(t.db, adminB).merchant.me();
    expect(mine.merchant.id).toBe(merchantB.id);
    expect(mine.sellers.every((s) => s.name.startsWith("Beta Goods"))).toBe(true);
  });

  it("refuses a user with no membership at all", async () => {
    expect(await trpcCode(callerFor(t.db, opsUser).merchant.me())).toBe("NOT_FOUND");
  });
});

describe("every procedure is public on purpose or guarded", () => {
  // Add a path here only for a deliberately public procedure. The checkout page's procedures are public:
  // the checkout id is the buyer's capability (server/payments/checkout-router.ts).
  const PUBLIC_PROCEDURES: string[] = ["checkout.get", "checkout.prepareCard", "checkout.submitCard", "checkout.startMpesa"];

  const paths = Object.keys(appRouter._def.procedures);
  it.each(paths)("%s refuses a signed-out caller", async (path) => {
    if (PUBLIC_PROCEDURES.includes(path)) return;
    // Nested routers too (ops.exceptions.list): walk the caller along the path.
    const procedure = path.split(".").reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], callerFor(t.db, null)) as (i?: unknown) => Promise<unknown>;
    expect(await trpcCode(procedure(undefined))).toBe("UNAUTHORIZED");
  });
});

describe("append-only audit log", () => {
  it("is enforced by the database", async () => {
    await expect(t.sql`update audit_log set action = 'x'`).rejects.toThrow(/append-only/);
    await expect(t.sql`delete from audit_log`).rejects.toThrow(/append-only/);
  });
});
