import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accountFor, checkLedgerInvariants, postTransaction } from "@/server/ledger";
import { createMerchantWithSellers, paymentPosting, settlementPosting } from "@/server/ledger/test-helpers";
import { money } from "@/server/money";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { captureHold, findHoldByReference, getBalance, getWallet, placeHold, releaseHold } from "./index";

let t: TestDatabase;
let seller: string;
const kes = (v: bigint) => money(v, "KES");

beforeAll(async () => {
  t = await createTestDatabase();
  seller = (await createMerchantWithSellers(t.db, 1)).sellerIds[0]!;
  await t.db.transaction(async (tx) => {
    await postTransaction(tx, paymentPosting({ sourceId: "po_w1", sellerId: seller, gross: 10_300n, fee: 300n }));
  });
  await t.db.transaction((tx) => postTransaction(tx, settlementPosting({ sourceId: "st_w1", sellerId: seller, amount: 6_000n })));
});
afterAll(async () => t?.drop());

describe("wallet balances and holds", () => {
  it("shows pending and available per seller and currency", async () => {
    expect(await getWallet(t.db, seller, "KES")).toEqual({ sellerId: seller, pending: kes(4_000n), available: kes(6_000n), onHold: kes(0n), owed: kes(0n) });
    expect(await getWallet(t.db, seller, "USD")).toMatchObject({ pending: money(0n, "USD"), available: money(0n, "USD") });
  });

  it("places a hold on available balance, idempotently on its reference", async () => {
    const hold = await t.db.transaction((tx) => placeHold(tx, { sellerId: seller, amount: kes(2_500n), reference: "po_payout_1" }));
    expect(hold.status).toBe("placed");
    const again = await t.db.transaction((tx) => placeHold(tx, { sellerId: seller, amount: kes(2_500n), reference: "po_payout_1" }));
    expect(again.id).toBe(hold.id);
    expect(await getWallet(t.db, seller, "KES")).toMatchObject({ available: kes(3_500n), onHold: kes(2_500n) });
    await expect(t.db.transaction((tx) => placeHold(tx, { sellerId: seller, amount: kes(1n), reference: "po_payout_1" }))).rejects.toMatchObject({
      code: "conflict",
      details: { reason: "idempotency_key_reused" },
    });
  });

  it("refuses a hold larger than the available balance and writes nothing", async () => {
    const before = await getWallet(t.db, seller, "KES");
    await expect(t.db.transaction((tx) => placeHold(tx, { sellerId: seller, amount: kes(3_501n), reference: "po_payout_big" }))).rejects.toMatchObject({
      code: "conflict",
      details: { reason: "insufficient_funds" },
    });
    expect(await getWallet(t.db, seller, "KES")).toEqual(before);
  });

  it("release returns the amount to available; capture moves it to payouts in transit; each only once", async () => {
    const a = await t.db.transaction((tx) => placeHold(tx, { sellerId: seller, amount: kes(1_000n), reference: "po_payout_2" }));
    const released = await t.db.transaction((tx) => releaseHold(tx, a.id));
    expect(released.status).toBe("released");
    expect((await t.db.transaction((tx) => releaseHold(tx, a.id))).settleTransactionId).toBe(released.settleTransactionId);
    await expect(t.db.transaction((tx) => captureHold(tx, a.id))).rejects.toMatchObject({ code: "conflict", details: { reason: "invalid_transition" } });

    const transitBefore = await getBalance(t.db, accountFor.platform("payouts_in_transit", "KES"));
    const first = await findHoldByReference(t.db, "po_payout_1");
    const captured = await t.db.transaction((tx) => captureHold(tx, first!.id));
    expect(captured.status).toBe("captured");
    expect(await getBalance(t.db, accountFor.platform("payouts_in_transit", "KES"))).toEqual(kes(transitBefore.amount + 2_500n));
    expect(await getWallet(t.db, seller, "KES")).toMatchObject({ available: kes(3_500n), onHold: kes(0n) });
    expect((await checkLedgerInvariants(t.db)).ok).toBe(true);
  });

  it("the database refuses an invalid hold transition and deleting a hold", async () => {
    await expect(t.sql`update wallet_holds set status = 'placed' where status <> 'placed'`).rejects.toThrow(/cannot go from/);
    await expect(t.sql`delete from wallet_holds`).rejects.toThrow(/append-only/);
  });
});
