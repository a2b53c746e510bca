// Balance snapshots: a point-in-time balance (latest snapshot + the entries after it, found by id range) equals the
// sum of all the account's entries up to that instant, before, at, between and after snapshot cutoffs; the incremental
// ledger:check compares balances with snapshot + later entries and re-derives new snapshot rows.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "@/db/ids";
import { getBalance, getWallet } from "@/server/wallet";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { accountFor, checkLedgerInvariants, formatInvariantReport, postTransaction, recordLedgerCheckRun, SNAPSHOT_LAG_MS, takeBalanceSnapshot } from "./index";
import { createMerchantWithSellers, paymentPosting, settlementPosting } from "./test-helpers";

let t: TestDatabase;
let seller: string;
const posted: Date[] = [];
beforeAll(async () => {
  t = await createTestDatabase();
  seller = (await createMerchantWithSellers(t.db, 1)).sellerIds[0]!;
});
afterAll(async () => t?.drop());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const at = (d: Date, ms: number) => new Date(d.getTime() + ms);

async function post(i: number) {
  const p = await t.db.transaction((tx) => postTransaction(tx, i % 3 === 2 ? settlementPosting({ sourceId: `snap-${i}`, sellerId: seller, amount: 100n }) : paymentPosting({ sourceId: `snap-${i}`, sellerId: seller, gross: 1_000n + BigInt(i), fee: 10n })));
  posted.push(p.postedAt);
  await sleep(15);
}

/** The reference answer: every entry of the account posted at or before `asOf` (no snapshot, no id range). */
async function sumOfAllEntries(key: string, asOf: Date): Promise<bigint> {
  const [row] = await t.sql<{ s: bigint }[]>`
    select coalesce(sum(e.amount), 0)::bigint as s from ledger_entries e join ledger_transactions t on t.id = e.transaction_id
    join ledger_accounts a on a.id = e.account_id where a.key = ${key} and a.currency = 'KES' and t.posted_at <= ${asOf.toISOString()}::timestamptz`;
  return BigInt(row!.s);
}

async function expectAsOfMatches(asOf: Date, label: string) {
  const pending = accountFor.sellerPending(seller, "KES");
  const available = accountFor.sellerAvailable(seller, "KES");
  const clearing = accountFor.pspClearing("stripe", "KES");
  const wallet = await getWallet(t.db, seller, "KES", { asOf });
  expect(wallet.pending.amount, `${label}: pending`).toBe(-(await sumOfAllEntries(`seller_payable_pending:${seller}`, asOf)));
  expect(wallet.available.amount, `${label}: available`).toBe(-(await sumOfAllEntries(`seller_payable_available:${seller}`, asOf)));
  expect((await getBalance(t.db, pending, { asOf })).amount, `${label}: getBalance pending`).toBe(wallet.pending.amount);
  expect((await getBalance(t.db, available, { asOf })).amount, `${label}: getBalance available`).toBe(wallet.available.amount);
  expect((await getBalance(t.db, clearing, { asOf })).amount, `${label}: clearing`).toBe(await sumOfAllEntries("psp_clearing:stripe", asOf));
}

describe("balance snapshots and point-in-time balances", () => {
  it("asOf equals the sum of all entries before the first snapshot, at a cutoff, between snapshots and after the last", async () => {
    for (let i = 0; i < 9; i++) await post(i);
    // First snapshot exactly at posted[3] (now = cutoff + lag), second between posted[6] and posted[7].
    const cut1 = posted[3]!;
    const cut2 = at(posted[6]!, 5);
    const s1 = await takeBalanceSnapshot(t.db, { now: at(cut1, SNAPSHOT_LAG_MS) });
    expect(s1).toMatchObject({ taken: true, cutoff: cut1 });
    expect(s1.accounts).toBeGreaterThanOrEqual(3);
    // Idempotent: a cutoff not after the last run writes nothing.
    expect(await takeBalanceSnapshot(t.db, { now: at(cut1, SNAPSHOT_LAG_MS) })).toMatchObject({ taken: false, accounts: 0 });
    expect(await takeBalanceSnapshot(t.db, { now: at(cut1, SNAPSHOT_LAG_MS - 1000) })).toMatchObject({ taken: false });
    const s2 = await takeBalanceSnapshot(t.db, { now: at(cut2, SNAPSHOT_LAG_MS) });
    expect(s2).toMatchObject({ taken: true });
    expect(s2.entries).toBeGreaterThan(0n);
    const [runs] = await t.sql<{ n: number }[]>`select count(*)::int as n from ledger_snapshot_runs`;
    expect(runs!.n).toBe(2);

    const instants: Array<[string, Date]> = [
      ["before any posting", at(posted[0]!, -1)],
      ["at the first posting, before the first snapshot", posted[0]!],
      ["between postings, before the first snapshot", at(posted[1]!, 3)],
      ["exactly at the first cutoff", cut1],
      ["just before the first cutoff", at(cut1, -1)],
      ["between the snapshots", at(posted[5]!, 1)],
      ["exactly at the second cutoff", cut2],
      ["after the last snapshot", posted[8]!],
      ["far after everything", at(new Date(), 3_600_000)],
    ];
    for (const [label, asOf] of instants) await expectAsOfMatches(asOf, label);
    // And the current wallet equals the last point-in-time one.
    expect((await getWallet(t.db, seller, "KES")).pending).toEqual((await getWallet(t.db, seller, "KES", { asOf: at(new Date(), 1000) })).pending);
  });

  it("the incremental check is OK on a clean ledger, records its run and then checks only later transactions", async () => {
    const clean = await checkLedgerInvariants(t.db);
    expect(clean.ok, formatInvariantReport(clean)).toBe(true);
    expect(clean).toMatchObject({ mode: "incremental", since: null, snapshotRunsChecked: 2, snapshotMismatches: [], idTimeSkews: [] });
    expect(clean.transactionsChecked).toBe(posted.length);
    // A previous OK run through posted[4] + lag: only what was posted after posted[4] is checked (the lag re-covers late commits).
    await recordLedgerCheckRun(t.db, { ...clean, through: at(posted[4]!, SNAPSHOT_LAG_MS) });
    const next = await checkLedgerInvariants(t.db);
    expect(next.ok, formatInvariantReport(next)).toBe(true);
    expect(next.since).toEqual(posted[4]);
    expect(next.transactionsChecked).toBe(posted.length - 5);
    const [row] = await t.sql<{ mode: string; ok: boolean; transactions_checked: bigint }[]>`select mode, ok, transactions_checked from ledger_check_runs order by id desc limit 1`;
    expect(row).toMatchObject({ mode: "incremental", ok: true });
    const full = await checkLedgerInvariants(t.db, { full: true });
    expect(full).toMatchObject({ ok: true, mode: "full", since: null, transactionsChecked: posted.length, snapshotRunsChecked: 2 });
  });

  it("the incremental check catches a drifted materialized balance and a wrong snapshot row", async () => {
    const key = `seller_payable_available:${seller}`;
    await t.sql`update ledger_balances set balance = balance - 3 where account_id = (select id from ledger_accounts where key = ${key}) and shard = 0`;
    const drift = await checkLedgerInvariants(t.db);
    expect(drift.ok).toBe(false);
    expect(drift.drifts).toEqual([expect.objectContaining({ key, materialized: drift.drifts[0]!.fromEntries - 3n })]);
    expect((await checkLedgerInvariants(t.db, { full: true })).drifts.map((d) => d.key)).toEqual([key]);
    await t.sql`update ledger_balances set balance = balance + 3 where account_id = (select id from ledger_accounts where key = ${key}) and shard = 0`;
    expect((await checkLedgerInvariants(t.db)).ok).toBe(true);

    // A snapshot row off by one: its run no longer re-derives, and (being the latest) the balance drifts from it too.
    const pendingKey = `seller_payable_pending:${seller}`;
    const [victim] = await t.sql<{ account_id: string; cutoff: Date }[]>`
      select s.account_id, s.cutoff from ledger_balance_snapshots s join ledger_accounts a on a.id = s.account_id where a.key = ${pendingKey} order by s.cutoff limit 1`;
    // The table refuses UPDATE (migration 0033); someone with database access turns the triggers off.
    const edit = (delta: number) =>
      t.sql.begin(async (tx) => {
        await tx`set local session_replication_role = replica`;
        await tx`update ledger_balance_snapshots set balance = balance + ${delta} where account_id = ${victim!.account_id} and cutoff = ${victim!.cutoff}`;
      });
    await expect(t.sql`update ledger_balance_snapshots set balance = balance + 1 where account_id = ${victim!.account_id}`).rejects.toMatchObject({ code: "23001" });
    await edit(1);
    const wrong = await checkLedgerInvariants(t.db);
    expect(wrong.ok).toBe(false);
    expect(wrong.snapshotMismatches.map((m) => [m.accountId, m.cutoff.getTime()])).toContainEqual([victim!.account_id, new Date(victim!.cutoff).getTime()]);
    expect((await checkLedgerInvariants(t.db, { full: true })).snapshotMismatches.length).toBeGreaterThan(0);
    await edit(-1);
    expect((await checkLedgerInvariants(t.db)).ok).toBe(true);
  });

  it("npm run ledger:check prints its mode and throughput and records a ledger_check_runs row; --full too", async () => {
    const run = promisify(execFile);
    // eslint-disable-next-line no-restricted-properties -- the child CLI needs this process's PATH etc., plus the test DB
    const env = { ...process.env, DATABASE_URL: t.url };
    const [before] = await t.sql<{ n: number }[]>`select count(*)::int as n from ledger_check_runs`;
    // Exit 1 here: the reconciliation invariants that follow see postings without payment orders (psp_balance).
    const cli = (args: string[]) => run("npx", ["tsx", "scripts/ledger-check.ts", ...args], { env, cwd: process.cwd() }).catch((e: { code: number; stdout: string }) => e);
    const inc = await cli([]);
    expect(inc.stdout).toMatch(/ledger invariants OK \(incremental\)/);
    expect(inc.stdout).toMatch(/mode incremental: \d+ transactions \(posted after .*transactions\/s/);
    const full = await cli(["--full"]);
    expect(full.stdout).toMatch(/mode full: \d+ transactions \(all\)/);
    const rows = await t.sql<{ mode: string; ok: boolean }[]>`select mode, ok from ledger_check_runs order by id desc limit 2`;
    expect(rows).toEqual([{ mode: "full", ok: true }, { mode: "incremental", ok: true }]);
    const [after] = await t.sql<{ n: number }[]>`select count(*)::int as n from ledger_check_runs`;
    expect(after!.n).toBe(before!.n + 2);
  }, 60_000);

  it("reports a transaction whose id time is far from its posted_at (the bounded reads rely on it)", async () => {
    const [acct] = await t.sql<{ id: string }[]>`select id from ledger_accounts where key = 'psp_clearing:stripe' and currency = 'KES'`;
    const id = newId("ltx").replace(/^ltx_.{10}/, `ltx_${"0".repeat(9)}1`); // a ULID time in 1970
    await t.sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`insert into ledger_transactions (id, ledger, chain_stripe, chain_seq, source, source_id, description, posted_at, prev_hash, hash)
               values (${id}, 'platform', 15, 999, 'raw', 'raw-skew', 'raw', now(), ${"0".repeat(64)}, ${"0".repeat(64)})`;
      await tx`insert into ledger_entries (transaction_id, line, account_id, currency, amount) values (${id}, 0, ${acct!.id}, 'KES', 5), (${id}, 1, ${acct!.id}, 'KES', -5)`;
    });
    const report = await checkLedgerInvariants(t.db);
    expect(report.idTimeSkews.map((s) => s.transactionId)).toEqual([id]);
    expect(report.ok).toBe(false);
  });
});
