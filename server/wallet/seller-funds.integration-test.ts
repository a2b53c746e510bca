import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accountFor, checkLedgerInvariants, postTransaction, reverseTransaction } from "@/server/ledger";
import { createMerchantWithSellers, paymentPosting } from "@/server/ledger/test-helpers";
import { money } from "@/server/money";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { getWallet, lockSellerFunds, netSellerDebt, releaseToAvailable, sellerDebitLines } from "./index";

// Taking money back from a seller: available first, then pending, then a debt; netting the debt from available.

let t: TestDatabase;
let sellers: string[];
const kes = (v: bigint) => money(v, "KES");

/** A refund-like posting: the seller's lines from sellerDebitLines, the PSP clearing credited. */
async function takeBack(sellerId: string, amount: bigint, sourceId: string, allowDebt = true) {
  return t.db.transaction(async (tx) => {
    await lockSellerFunds(tx, [sellerId], "KES");
    const debit = await sellerDebitLines(tx, { sellerId, amount: kes(amount), allowDebt });
    const posted = await postTransaction(tx, { source: "test_refund", sourceId, description: "test", lines: [...debit.lines, { account: accountFor.pspClearing("stripe", "KES"), side: "credit", amount: kes(amount) }] });
    return { debit, posted };
  });
}

beforeAll(async () => {
  t = await createTestDatabase();
  sellers = (await createMerchantWithSellers(t.db, 2)).sellerIds;
  for (const [i, s] of sellers.entries()) await t.db.transaction((tx) => postTransaction(tx, paymentPosting({ sourceId: `po_sf${i}`, sellerId: s, gross: 10_000n, fee: 0n })));
  await t.db.transaction((tx) => releaseToAvailable(tx, { sellerId: sellers[0]!, amount: kes(6_000n), reference: "settle_1" }));
});
afterAll(async () => t?.drop());

describe("seller funds", () => {
  it("releases pending to available, idempotently per reference", async () => {
    await t.db.transaction((tx) => releaseToAvailable(tx, { sellerId: sellers[0]!, amount: kes(6_000n), reference: "settle_1" }));
    expect(await getWallet(t.db, sellers[0]!, "KES")).toMatchObject({ pending: kes(4_000n), available: kes(6_000n), owed: kes(0n) });
  });

  it("takes from available first, then pending, then books the rest as a debt", async () => {
    const { debit } = await takeBack(sellers[0]!, 12_500n, "rf_1");
    expect(debit).toMatchObject({ fromAvailable: 6_000n, fromPending: 4_000n, asDebt: 2_500n });
    expect(await getWallet(t.db, sellers[0]!, "KES")).toMatchObject({ pending: kes(0n), available: kes(0n), owed: kes(2_500n) });
  });

  it("refuses a debt when the merchant does not allow one, and writes nothing", async () => {
    await expect(takeBack(sellers[1]!, 10_001n, "rf_2", false)).rejects.toMatchObject({ code: "seller_balance_insufficient", details: { balance: "10000" } });
    expect(await getWallet(t.db, sellers[1]!, "KES")).toMatchObject({ pending: kes(10_000n), owed: kes(0n) });
  });

  it("nets a debt from available in the next payout, and nothing twice", async () => {
    await t.db.transaction((tx) => postTransaction(tx, paymentPosting({ sourceId: "po_sf_next", sellerId: sellers[0]!, gross: 4_000n, fee: 0n })));
    await t.db.transaction((tx) => releaseToAvailable(tx, { sellerId: sellers[0]!, amount: kes(4_000n), reference: "settle_2" }));
    const netted = await t.db.transaction((tx) => netSellerDebt(tx, { sellerId: sellers[0]!, currency: "KES", reference: "payout_1" }));
    expect(netted?.replayed).toBe(false);
    expect(await getWallet(t.db, sellers[0]!, "KES")).toMatchObject({ available: kes(1_500n), owed: kes(0n) });
    expect(await t.db.transaction((tx) => netSellerDebt(tx, { sellerId: sellers[0]!, currency: "KES", reference: "payout_2" }))).toBeNull();
  });

  it("moves a negative debt (a refund that failed after its debt was netted) back to available", async () => {
    const { posted } = await takeBack(sellers[1]!, 12_000n, "rf_3");
    expect(await getWallet(t.db, sellers[1]!, "KES")).toMatchObject({ pending: kes(0n), owed: kes(2_000n) });
    await t.db.transaction((tx) => postTransaction(tx, paymentPosting({ sourceId: "po_sf_b", sellerId: sellers[1]!, gross: 3_000n, fee: 0n })));
    await t.db.transaction((tx) => releaseToAvailable(tx, { sellerId: sellers[1]!, amount: kes(3_000n), reference: "settle_b" }));
    await t.db.transaction((tx) => netSellerDebt(tx, { sellerId: sellers[1]!, currency: "KES", reference: "payout_b" }));
    expect(await getWallet(t.db, sellers[1]!, "KES")).toMatchObject({ available: kes(1_000n), owed: kes(0n) });
    // The refund fails: its exact reversal credits the buckets it debited, the debt going below zero.
    await t.db.transaction((tx) => reverseTransaction(tx, { transactionId: posted.id, source: "test_refund.reversal", sourceId: "rf_3", description: "failed" }));
    expect(await getWallet(t.db, sellers[1]!, "KES")).toMatchObject({ pending: kes(10_000n), available: kes(1_000n), owed: kes(-2_000n) });
    await t.db.transaction((tx) => netSellerDebt(tx, { sellerId: sellers[1]!, currency: "KES", reference: "payout_c" }));
    expect(await getWallet(t.db, sellers[1]!, "KES")).toMatchObject({ pending: kes(10_000n), available: kes(3_000n), owed: kes(0n) });
    const inv = await checkLedgerInvariants(t.db);
    expect(inv.ok, JSON.stringify(inv, (_k, v) => (typeof v === "bigint" ? v.toString() : v))).toBe(true);
  });
});
