// create-due-payouts behind the real serve() handler on the local engine: payouts/schedule.requested (what ops and
// the cron run) creates the due payouts; fired twice at once, each payout is still created once.
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { payouts } from "@/db/schema";
import { pollUntil, startTestApp, type TestApp } from "@/inngest/engine/testing";
import { setupPayoutSeller } from "@/server/payouts/test-helpers";
import { getWallet } from "@/server/wallet/get-balance";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createPayoutScheduleFunctions } from "./payout-schedule";

let t: TestDatabase;
let app: TestApp;

beforeAll(async () => {
  t = await createTestDatabase();
  // A cron that never fires during the test: only the events run it.
  app = await startTestApp({ db: t.db, clientId: "paybridge", functions: (client) => createPayoutScheduleFunctions(client, { getDb: () => t.db, cron: "0 0 31 2 *" }) });
}, 60_000);
afterAll(async () => {
  await app?.stop();
  await t?.drop();
});

it("payouts/schedule.requested creates the due payouts, once however often it is sent", async () => {
  const sellers = await Promise.all([setupPayoutSeller(t.db, { psp: "stripe", available: 7_000n }), setupPayoutSeller(t.db, { psp: "mpesa", available: 12_300n })]);
  await app.client.send([
    { name: "payouts/schedule.requested", data: { requestedBy: null } },
    { name: "payouts/schedule.requested", data: { requestedBy: "ops-test" } },
  ]);
  for (const [s, amount] of [
    [sellers[0], 7_000n],
    [sellers[1], 12_300n],
  ] as const) {
    const rows = await pollUntil(async () => {
      const r = await t.db.select().from(payouts).where(eq(payouts.sellerId, s.seller.id));
      return r.length > 0 ? r : undefined;
    }, { ceilingMs: 30_000 });
    expect(rows.map((p) => [p.amount, p.status, p.origin])).toEqual([[amount, "pending", "scheduled"]]);
  }
  await app.client.send({ name: "payouts/schedule.requested", data: { requestedBy: null } });
  await new Promise((r) => setTimeout(r, 500));
  for (const s of sellers) {
    expect(await t.db.select().from(payouts).where(eq(payouts.sellerId, s.seller.id))).toHaveLength(1);
    expect((await getWallet(t.db, s.seller.id, "KES")).available.amount).toBe(0n);
  }
}, 60_000);
