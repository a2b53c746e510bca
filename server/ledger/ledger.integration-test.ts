import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ledgerEntries, ledgerTransactions } from "@/db/schema";
import { AppError } from "@/server/errors";
import { money } from "@/server/money";
import { getBalance, getWallet } from "@/server/wallet";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import {
  accountFor,
  checkLedgerInvariants,
  exportStatement,
  getTransaction,
  parseStatement,
  postTransaction,
  postTransactions,
  reverseTransaction,
  statementToCsv,
  verifyLedger,
  verifyStatement,
} from "./index";
import { createMerchantWithSellers, paymentPosting, settlementPosting } from "./test-helpers";

let t: TestDatabase;
let merchantId: string;
let sellerA: string;
let sellerB: string;

beforeAll(async () => {
  t = await createTestDatabase();
  const created = await createMerchantWithSellers(t.db);
  merchantId = created.merchantId;
  [sellerA, sellerB] = created.sellerIds as [string, string];
});
afterAll(async () => t?.drop());

async function rowCounts() {
  const [txns] = await t.db.select({ n: count() }).from(ledgerTransactions);
  const [entries] = await t.db.select({ n: count() }).from(ledgerEntries);
  return { txns: txns!.n, entries: entries!.n };
}

describe("postTransaction", () => {
  it("posts a balanced payment into the merchant's ledger and updates balances in the same transaction", async () => {
    const posted = await t.db.transaction((tx) => postTransaction(tx, paymentPosting({ sourceId: "po_1", sellerId: sellerA!, gross: 10_000n, fee: 300n })));
    expect(posted.replayed).toBe(false);
    expect(posted.ledger).toBe(merchantId);
    expect(posted.entries.map((e) => e.amount)).toEqual([10_000n, -9_700n, -300n]);
    expect(await getBalance(t.db, accountFor.sellerPending(sellerA!, "KES"))).toEqual(money(9_700n, "KES"));
    expect(await getBalance(t.db, accountFor.pspClearing("stripe", "KES"))).toEqual(money(10_000n, "KES"));
    expect(await getBalance(t.db, accountFor.platform("platform_fees", "KES"))).toEqual(money(300n, "KES"));
  });

  it("is idempotent on (source, sourceId): a replay returns the first transaction and writes nothing", async () => {
    const before = await rowCounts();
    const again = await t.db.transaction((tx) => postTransaction(tx, paymentPosting({ sourceId: "po_1", sellerId: sellerA!, gross: 10_000n, fee: 300n })));
    expect(again.replayed).toBe(true);
    expect(await rowCounts()).toEqual(before);
    expect(await getBalance(t.db, accountFor.sellerPending(sellerA!, "KES"))).toEqual(money(9_700n, "KES"));
    // Same key, different movement: a caller bug, refused.
    await expect(
      t.db.transaction((tx) => postTransaction(tx, paymentPosting({ sourceId: "po_1", sellerId: sellerA!, gross: 99n, fee: 1n }))),
    ).rejects.toMatchObject({ code: "conflict", details: { reason: "idempotency_key_reused" } });
  });

  it("refuses unbalanced, empty and cross-merchant postings and writes nothing", async () => {
    const before = await rowCounts();
    const unbalanced = paymentPosting({ sourceId: "po_bad", sellerId: sellerA!, gross: 100n, fee: 1n });
    const lines = [...unbalanced.lines];
    lines[2] = { ...lines[2]!, amount: money(2n, "KES") };
    await expect(t.db.transaction((tx) => postTransaction(tx, { ...unbalanced, lines }))).rejects.toMatchObject({ code: "validation_failed" });
    await expect(t.db.transaction((tx) => postTransaction(tx, { ...unbalanced, lines: lines.slice(0, 1) }))).rejects.toMatchObject({ code: "validation_failed" });
    const other = await createMerchantWithSellers(t.db, 1);
    await expect(
      t.db.transaction((tx) =>
        postTransaction(tx, {
          source: "test",
          sourceId: "cross",
          description: "spans two merchants",
          lines: [
            { account: accountFor.sellerPending(sellerA!, "KES"), side: "debit", amount: money(1n, "KES") },
            { account: accountFor.sellerPending(other.sellerIds[0]!, "KES"), side: "credit", amount: money(1n, "KES") },
          ],
        }),
      ),
    ).rejects.toThrow(/spans merchants/);
    expect(await rowCounts()).toEqual(before);
  });

  it("refuses to take a no-negative account below zero (insufficient funds) and writes nothing", async () => {
    const before = await rowCounts();
    const err = await t.db
      .transaction((tx) => postTransaction(tx, settlementPosting({ sourceId: "st_too_much", sellerId: sellerA!, amount: 9_701n })))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).details?.reason).toBe("insufficient_funds");
    expect(await rowCounts()).toEqual(before);
  });

  it("corrections are new transactions that reference the one they correct", async () => {
    const wrong = await t.db.transaction((tx) => postTransaction(tx, paymentPosting({ sourceId: "po_wrong", sellerId: sellerB!, gross: 5_000n, fee: 100n })));
    const fix = await t.db.transaction((tx) =>
      reverseTransaction(tx, { transactionId: wrong.id, source: "correction", sourceId: `rev:${wrong.id}`, description: "posted to the wrong seller" }),
    );
    expect(fix.correctsTransactionId).toBe(wrong.id);
    expect(fix.entries.map((e) => e.amount)).toEqual([-5_000n, 4_900n, 100n]);
    expect(await getBalance(t.db, accountFor.sellerPending(sellerB!, "KES"))).toEqual(money(0n, "KES"));
    expect((await getTransaction(t.db, wrong.id)).entries).toHaveLength(3); // the original is untouched
  });

  it("the database refuses a transaction whose entries do not sum to zero, whatever the code does", async () => {
    const posted = await getTransaction(t.db, (await t.db.select().from(ledgerTransactions).limit(1))[0]!.id);
    await expect(
      t.sql.begin(async (sql) => {
        await sql`insert into ledger_transactions (id, ledger, chain_stripe, chain_seq, source, source_id, description, posted_at, prev_hash, hash)
                  values ('ltx_raw', 'platform', 0, 999, 'raw', 'raw', 'raw', now(), ${"0".repeat(64)}, ${"0".repeat(64)})`;
        await sql`insert into ledger_entries (transaction_id, line, account_id, currency, amount) values
                  ('ltx_raw', 0, ${posted.entries[0]!.accountId}, 'KES', 5), ('ltx_raw', 1, ${posted.entries[1]!.accountId}, 'KES', -4)`;
      }),
    ).rejects.toThrow(/does not balance/);
  });
});

describe("append-only and tamper evidence", () => {
  it("the database refuses UPDATE and DELETE on entries and transactions", async () => {
    await expect(t.sql`update ledger_entries set amount = amount + 1`).rejects.toThrow(/append-only/);
    await expect(t.sql`delete from ledger_entries`).rejects.toThrow(/append-only/);
    await expect(t.sql`truncate ledger_entries cascade`).rejects.toThrow(/append-only/);
    await expect(t.sql`update ledger_transactions set description = 'x'`).rejects.toThrow(/append-only/);
    await expect(t.sql`delete from ledger_transactions`).rejects.toThrow(/append-only/);
    await expect(t.sql`update ledger_accounts set allow_negative = true`).rejects.toThrow(/append-only/);
  });

  it("a merchant statement (JSON and CSV) verifies offline, and an edited amount in it is named", async () => {
    const statement = await exportStatement(t.db, { ledger: merchantId });
    expect(statement.transactions.length).toBeGreaterThanOrEqual(3);
    expect(verifyStatement(statement)).toMatchObject({ ok: true, transactionsChecked: statement.transactions.length });
    const viaJson = parseStatement(JSON.stringify(statement));
    const viaCsv = parseStatement(statementToCsv(statement));
    expect(verifyStatement(viaJson).ok).toBe(true);
    expect(verifyStatement(viaCsv)).toMatchObject({ ok: true, transactionsChecked: statement.transactions.length });

    const edited = parseStatement(statementToCsv(statement));
    const victim = edited.transactions[0]!;
    victim.entries[0]!.amount = (BigInt(victim.entries[0]!.amount) + 1n).toString();
    const report = verifyStatement(edited);
    expect(report.ok).toBe(false);
    expect(report.breaks[0]).toMatchObject({ transactionId: victim.id, reason: "content_altered" });
  });

  it("editing one transaction's amount directly in SQL makes ledger:verify name that transaction", async () => {
    expect((await verifyLedger(t.db)).ok).toBe(true);
    const victim = await t.db.transaction((tx) => postTransaction(tx, paymentPosting({ sourceId: "po_victim", sellerId: sellerB!, gross: 777n, fee: 7n })));
    await t.db.transaction((tx) => postTransaction(tx, paymentPosting({ sourceId: "po_after", sellerId: sellerB!, gross: 100n, fee: 1n })));
    // As the superuser, with triggers off for this session only: what an attacker with DB access could do.
    await t.sql.begin(async (sql) => {
      await sql`set local session_replication_role = replica`;
      await sql`update ledger_entries set amount = amount - 70 where transaction_id = ${victim.id} and line = 0`;
      await sql`update ledger_entries set amount = amount + 70 where transaction_id = ${victim.id} and line = 1`;
    });
    const report = await verifyLedger(t.db);
    expect(report.ok).toBe(false);
    expect(report.breaks).toHaveLength(1);
    expect(report.breaks[0]).toMatchObject({ transactionId: victim.id, reason: "content_altered" });

    // The CLI says the same, against this test database.
    const run = promisify(execFile);
    // eslint-disable-next-line no-restricted-properties -- the child CLI needs this process's PATH etc., plus the test DB
    const childEnv = { ...process.env, DATABASE_URL: t.url };
    const result = await run("npx", ["tsx", "scripts/ledger-verify.ts"], { env: childEnv, cwd: process.cwd() }).catch(
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(result).toMatchObject({ code: 1 });
    expect((result as { stdout: string }).stdout).toContain(`BROKEN at transaction ${victim.id}`);

    // The export of the tampered ledger fails offline too, through the same command.
    const dir = await mkdtemp(path.join(os.tmpdir(), "ledger-stmt-"));
    try {
      const file = path.join(dir, "statement.csv");
      await writeFile(file, statementToCsv(await exportStatement(t.db, { ledger: merchantId })));
      const offline = await run("npx", ["tsx", "scripts/ledger-verify.ts", "--file", file], { cwd: process.cwd() }).catch(
        (e: { code: number; stdout: string }) => e,
      );
      expect((offline as { stdout: string }).stdout).toContain(`BROKEN at transaction ${victim.id}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("balances", () => {
  it("point-in-time balance comes from the entries posted up to that moment", async () => {
    const { sellerIds } = await createMerchantWithSellers(t.db, 1);
    const seller = sellerIds[0]!;
    await t.db.transaction((tx) => postTransaction(tx, paymentPosting({ sourceId: `pit1-${seller}`, sellerId: seller, gross: 1_000n, fee: 0n })));
    const [first] = await t.db.select().from(ledgerTransactions).where(eq(ledgerTransactions.sourceId, `pit1-${seller}`));
    await new Promise((r) => setTimeout(r, 5));
    await t.db.transaction((tx) => postTransaction(tx, paymentPosting({ sourceId: `pit2-${seller}`, sellerId: seller, gross: 500n, fee: 0n })));
    expect((await getWallet(t.db, seller, "KES", { asOf: first!.postedAt })).pending).toEqual(money(1_000n, "KES"));
    expect((await getWallet(t.db, seller, "KES", { asOf: new Date(first!.postedAt.getTime() - 1) })).pending).toEqual(money(0n, "KES"));
    expect((await getWallet(t.db, seller, "KES")).pending).toEqual(money(1_500n, "KES"));
  });

  it("ledger:check reports drift when a materialized balance no longer matches its entries", async () => {
    const { sellerIds } = await createMerchantWithSellers(t.db, 1);
    await t.db.transaction((tx) => postTransaction(tx, paymentPosting({ sourceId: `drift-${sellerIds[0]}`, sellerId: sellerIds[0]!, gross: 400n, fee: 0n })));
    const clean = await checkLedgerInvariants(t.db);
    // The tamper test above changed entries (not balances): that is drift too, on exactly those accounts.
    const keysBefore = clean.drifts.map((d) => d.key);
    await t.sql`update ledger_balances set balance = balance - 1 where account_id = (select id from ledger_accounts where key = ${`seller_payable_pending:${sellerIds[0]}`}) and shard = 0`;
    const report = await checkLedgerInvariants(t.db);
    expect(report.ok).toBe(false);
    expect(report.drifts.map((d) => d.key)).toEqual(expect.arrayContaining([...keysBefore, `seller_payable_pending:${sellerIds[0]}`]));
  });
});

describe("postTransactions (a batch)", () => {
  it("replays inside it return the first transaction, the rest are linked in order in one stripe, and it verifies", async () => {
    const { merchantId: ledger, sellerIds } = await createMerchantWithSellers(t.db);
    const [sellerA, sellerB] = sellerIds as [string, string];
    const first = await t.db.transaction((tx) => postTransaction(tx, paymentPosting({ sourceId: "batch_a", sellerId: sellerA!, gross: 1_000n, fee: 10n })));
    const before = await rowCounts();
    const inputs = ["batch_a", "batch_b", "batch_c", "batch_d"].map((id, i) => paymentPosting({ sourceId: id, sellerId: i % 2 ? sellerB! : sellerA!, gross: 1_000n, fee: 10n }));
    const posted = await t.db.transaction((tx) => postTransactions(tx, inputs));
    expect(posted.map((p) => [p.sourceId, p.replayed])).toEqual([["batch_a", true], ["batch_b", false], ["batch_c", false], ["batch_d", false]]);
    expect(posted[0]!.id).toBe(first.id);
    expect(await rowCounts()).toEqual({ txns: before.txns + 3, entries: before.entries + 9 });
    const rows = await t.sql<{ source_id: string; chain_stripe: number; chain_seq: string; prev_hash: string; hash: string }[]>`
      select source_id, chain_stripe, chain_seq::text, prev_hash, hash from ledger_transactions where source_id in ('batch_b', 'batch_c', 'batch_d') order by chain_seq`;
    expect(rows.map((r) => r.source_id)).toEqual(["batch_b", "batch_c", "batch_d"]);
    expect(new Set(rows.map((r) => r.chain_stripe)).size).toBe(1);
    expect(rows.map((r) => BigInt(r.chain_seq) - BigInt(rows[0]!.chain_seq))).toEqual([0n, 1n, 2n]);
    expect(rows[1]!.prev_hash).toBe(rows[0]!.hash);
    expect(rows[2]!.prev_hash).toBe(rows[1]!.hash);
    // This merchant's ledger (an earlier test tampers with another's on purpose).
    expect(await verifyLedger(t.db, { ledger })).toMatchObject({ ok: true, breaks: [] });
    // All of it again: every one a replay, nothing written; one of them with other lines: a conflict, nothing written.
    const again = await t.db.transaction((tx) => postTransactions(tx, inputs));
    expect(again.map((p) => p.replayed)).toEqual([true, true, true, true]);
    expect(again.map((p) => p.id)).toEqual(posted.map((p) => p.id));
    const changed = [...inputs.slice(0, 3), paymentPosting({ sourceId: "batch_d", sellerId: sellerB!, gross: 2_000n, fee: 10n }), paymentPosting({ sourceId: "batch_e", sellerId: sellerA!, gross: 1_000n, fee: 10n })];
    await expect(t.db.transaction((tx) => postTransactions(tx, changed))).rejects.toMatchObject({ code: "conflict" });
    expect(await rowCounts()).toEqual({ txns: before.txns + 3, entries: before.entries + 9 });
  });
});
