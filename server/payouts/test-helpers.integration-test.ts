// setupPayoutSeller (server/payouts/test-helpers.ts), which the other payouts tests build on: a real connected
// account at the sandbox, a destination, and exactly the available funds asked for.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getWallet } from "@/server/wallet/get-balance";
import type { Sandbox } from "@/sandbox";
import { startTestSandbox } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { grossForNet, sandboxStripe, setupPayoutSeller } from "./test-helpers";

let t: TestDatabase;
let sandbox: Sandbox;
beforeAll(async () => {
  t = await createTestDatabase();
  sandbox = await startTestSandbox();
}, 60_000);
afterAll(async () => {
  await sandbox?.stop();
  await t?.drop();
});

describe("setupPayoutSeller", () => {
  it("grossForNet finds the order amount leaving exactly the net after the fee", () => {
    for (const net of [1n, 98n, 99n, 100n, 12_345n, 1_000_000n]) {
      const gross = grossForNet(net, 200);
      expect(gross - (gross * 200n) / 10_000n).toBe(net);
    }
  });

  it("Stripe: a real connected account at the sandbox, and exactly the available funds asked for (paid by card)", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "stripe", sandbox, available: 12_345n });
    expect(s.destination).toMatchObject({ psp: "stripe", sellerId: s.seller.id, disabledAt: null });
    const account = await sandboxStripe(sandbox).accounts.retrieve(s.destination.stripeAccountId!);
    expect(account.id).toBe(s.destination.stripeAccountId);
    expect(s.seller.payoutsHeldUntil).toBeNull();
    const w = await getWallet(t.db, s.seller.id, "KES");
    expect(w.available.amount).toBe(12_345n);
    expect(w.pending.amount).toBe(0n);
  });

  it("M-Pesa: the test phone, encrypted, and funds available", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "mpesa", available: 50_000n });
    expect(s.destination).toMatchObject({ psp: "mpesa", phoneLast3: "149", stripeAccountId: null });
    expect(s.destination.phoneEncrypted).not.toContain("254708374149");
    expect((await getWallet(t.db, s.seller.id, "KES")).available.amount).toBe(50_000n);
  });
});
