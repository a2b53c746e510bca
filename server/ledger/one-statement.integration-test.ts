import { count, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ledgerChains, ledgerEntries, ledgerTransactions } from "@/db/schema";
import { money } from "@/server/money";
import { getBalance } from "@/server/wallet";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { accountFor, exportStatement, LEDGER_CHAIN_STRIPES, postTransaction, statementToCsv, parseStatement, verifyLedger, verifyStatement } from "./index";
import { postInOneStatement } from "./post-transaction";
import { createMerchantWithSellers, paymentPosting, settlementPosting } from "./test-helpers";

// The one-statement posting (post-transaction.ts, postInOneStatement): what it writes is what the general path
// would have written, Postgres's v2 link equals the one `ledger:verify` recomputes in Node, and whenever it declines
// (a replay, a missing account or chain head, a debit to check against funds, two merchants) it has written nothing.

let t: TestDatabase;
let merchantId: string;
let sellerA: string;
let sellerB: string;

async function counts() {
  const [txns] = await t.db.select({ n: count() }).from(ledgerTransactions);
  const [entries] = await t.db.select({ n: count() }).from(ledgerEntries);
  const [heads] = await t.db.select({ n: sql<string>`coalesce(sum(${ledgerChains.seq}), 0)::text` }).from(ledgerChains);
  const [balances] = await t.db.execute<{ s: string }>(sql`select coalesce(sum(abs(balance)), 0)::text as s from ledger_balances`);
  return { txns: txns!.n, entries: entries!.n, heads: heads!.n, balances: balances!.s };
}

beforeAll(async () => {
  t = await createTestDatabase();
  const created = await createMerchantWithSellers(t.db);
  merchantId = created.merchantId;
  [sellerA, sellerB] = created.sellerIds as [string, string];
  // The general path creates accounts and each stripe's head on first use: post until all 16 heads exist.
  for (let i = 0; i < 2_000; i++) {
    const [{ n }] = (await t.db.select({ n: count() }).from(ledgerChains).where(eq(ledgerChains.ledger, merchantId))) as [{ n: number }];
    if (n === LEDGER_CHAIN_STRIPES) break;
    await t.db.transaction((tx) => postTransaction(tx, paymentPosting({ sourceId: `warm-${i}`, sellerId: i % 2 ? sellerB! : sellerA!, gross: 1_000n, fee: 10n })));
  }
});
afterAll(async () => t?.drop());

describe("postInOneStatement", () => {
  it("writes the transaction, its entries, the balances and the chain link in one statement, and the chain verifies", async () => {
    const before = await getBalance(t.db, accountFor.sellerPending(sellerA!, "KES"));
    const posted = await t.db.transaction((tx) => postInOneStatement(tx, paymentPosting({ sourceId: "one-1", sellerId: sellerA!, gross: 5_000n, fee: 150n })));
    expect(posted).not.toBeNull();
    expect(posted!).toMatchObject({ ledger: merchantId, source: "payment_order", sourceId: "one-1", replayed: false });
    expect(posted!.entries.map((e) => [e.line, e.accountKey, e.amount])).toEqual([
      [0, "psp_clearing:stripe", 5_000n],
      [1, `seller_payable_pending:${sellerA}`, -4_850n],
      [2, "platform_fees", -150n],
    ]);
    const [row] = await t.db.select().from(ledgerTransactions).where(eq(ledgerTransactions.id, posted!.id));
    expect(row).toMatchObject({ hashVersion: 2, hash: posted!.hash, ledger: merchantId });
    expect(row!.postedAt.getTime()).toBe(posted!.postedAt.getTime());
    const [head] = await t.db.select().from(ledgerChains).where(sql`${ledgerChains.ledger} = ${merchantId} and ${ledgerChains.stripe} = ${row!.chainStripe}`);
    expect(head).toMatchObject({ seq: row!.chainSeq, headHash: row!.hash });
    expect(await getBalance(t.db, accountFor.sellerPending(sellerA!, "KES"))).toEqual(money(before.amount + 4_850n, "KES"));
    // Node recomputes what Postgres linked: the database walk and the offline statement (JSON and CSV) both verify.
    expect(await verifyLedger(t.db, { ledger: merchantId })).toMatchObject({ ok: true, breaks: [] });
    const statement = await exportStatement(t.db, { ledger: merchantId });
    expect(statement.transactions.find((x) => x.id === posted!.id)?.hashVersion).toBe(2);
    expect(verifyStatement(statement).ok).toBe(true);
    expect(verifyStatement(parseStatement(statementToCsv(statement))).ok).toBe(true);
    // An entry moved to another account in the file (same amount) no longer hashes to the stored value.
    const edited = structuredClone(statement);
    const tx = edited.transactions.find((x) => x.id === posted!.id)!;
    tx.entries[1]!.accountKey = `seller_payable_pending:${sellerB}`;
    expect(verifyStatement(edited)).toMatchObject({ ok: false, breaks: [{ transactionId: posted!.id, reason: "content_altered" }] });
  });

  it("declines, writing nothing, a replay, a first posting to an account, a debit checked against funds and a posting across merchants", async () => {
    const other = await createMerchantWithSellers(t.db, 1);
    const declined = [
      paymentPosting({ sourceId: "one-1", sellerId: sellerA!, gross: 5_000n, fee: 150n }), // already posted
      paymentPosting({ sourceId: "one-new-account", sellerId: sellerA!, gross: 5_000n, fee: 150n, currency: "USD" }), // no USD accounts yet
      settlementPosting({ sourceId: "one-settle", sellerId: sellerA!, amount: 100n }), // lowers pending: funds are checked
      {
        ...paymentPosting({ sourceId: "one-two-merchants", sellerId: sellerA!, gross: 2_000n, fee: 0n }),
        lines: [
          { account: accountFor.sellerPending(other.sellerIds[0]!, "KES"), side: "debit" as const, amount: money(2_000n, "KES") },
          { account: accountFor.sellerPending(sellerA!, "KES"), side: "credit" as const, amount: money(2_000n, "KES") },
        ],
      },
    ];
    const before = await counts();
    for (const input of declined) expect(await t.db.transaction((tx) => postInOneStatement(tx, input)), input.sourceId).toBeNull();
    expect(await counts()).toEqual(before);
    // The general path (postTransaction) then does each one's right thing.
    const replay = await t.db.transaction((tx) => postTransaction(tx, declined[0]!));
    expect(replay.replayed).toBe(true);
    expect((await t.db.transaction((tx) => postTransaction(tx, declined[1]!))).replayed).toBe(false);
    expect((await t.db.transaction((tx) => postTransaction(tx, declined[2]!))).replayed).toBe(false);
    await expect(t.db.transaction((tx) => postTransaction(tx, declined[3]!))).rejects.toThrow(/spans merchants/);
    expect(await verifyLedger(t.db, { ledger: merchantId })).toMatchObject({ ok: true });
  });

  it("an entry moved in SQL to the same account key in another currency no longer verifies, in the database or in a statement", async () => {
    const { merchantId: m, sellerIds } = await createMerchantWithSellers(t.db, 1);
    const s = sellerIds[0]!;
    const kes = await t.db.transaction((tx) => postTransaction(tx, paymentPosting({ sourceId: `cur-kes-${s}`, sellerId: s, gross: 700n, fee: 0n })));
    const usd = await t.db.transaction((tx) => postTransaction(tx, paymentPosting({ sourceId: `cur-usd-${s}`, sellerId: s, gross: 700n, fee: 0n, currency: "USD" })));
    expect(await verifyLedger(t.db, { ledger: m })).toMatchObject({ ok: true });
    await t.sql.begin(async (sql) => {
      await sql`set local session_replication_role = replica`; // triggers and foreign keys off: what the chain is for
      await sql`update ledger_entries set account_id = ${usd.entries[1]!.accountId} where transaction_id = ${kes.id} and line = 1`;
    });
    // full: the incremental run above checkpointed both, and kes may sit before usd's checkpoint in one stripe.
    expect(await verifyLedger(t.db, { ledger: m, full: true })).toMatchObject({ ok: false, breaks: [{ transactionId: kes.id, reason: "content_altered" }] });
    const statement = await exportStatement(t.db, { ledger: m });
    expect(verifyStatement(statement)).toMatchObject({ ok: false, breaks: [{ transactionId: kes.id, reason: "content_altered" }] });
  });
});
