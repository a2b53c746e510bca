// Incremental ledger:verify: each stripe is walked from its checkpoint, so a run checks only what was posted since the
// previous one, yet still catches a tampered transaction after the checkpoint and a checkpointed transaction gone or
// changed. What it trusts (a transaction before a checkpoint) only `full` re-checks: the documented limit.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { postTransaction, postTransactions, verifyLedger } from "./index";
import { createMerchantWithSellers, paymentPosting } from "./test-helpers";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

async function post(sellerId: string, sourceId: string, gross = 1_000n) {
  return t.db.transaction((tx) => postTransaction(tx, paymentPosting({ sourceId, sellerId, gross, fee: 10n })));
}

/** Triggers (append-only) and foreign keys off for this session only: what someone with DB access could do. */
async function tamper(run: (sql: TestDatabase["sql"]) => Promise<unknown>) {
  await t.sql.begin(async (sql) => {
    await sql`set local session_replication_role = replica`;
    await run(sql as unknown as TestDatabase["sql"]);
  });
}

describe("incremental ledger:verify", () => {
  it("walks only the transactions posted since the previous run and moves the checkpoints", async () => {
    const { merchantId: ledger, sellerIds } = await createMerchantWithSellers(t.db, 1);
    for (let i = 0; i < 3; i++) await post(sellerIds[0]!, `inc-a-${i}`);
    const first = await verifyLedger(t.db, { ledger });
    expect(first).toMatchObject({ ok: true, mode: "incremental", transactionsChecked: 3 });
    expect(first.checkpointsWritten).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 2; i++) await post(sellerIds[0]!, `inc-b-${i}`);
    expect(await verifyLedger(t.db, { ledger })).toMatchObject({ ok: true, transactionsChecked: 2 });
    expect(await verifyLedger(t.db, { ledger })).toMatchObject({ ok: true, transactionsChecked: 0, checkpointsWritten: 0 });
    const cps = await t.sql<{ n: number }[]>`select count(*)::int as n from ledger_chain_checkpoints where ledger = ${ledger}`;
    const stripes = await t.sql<{ n: number }[]>`select count(distinct chain_stripe)::int as n from ledger_transactions where ledger = ${ledger}`;
    expect(cps[0]!.n).toBe(stripes[0]!.n);
    // Full walks everything again (and rewrites the checkpoints).
    expect(await verifyLedger(t.db, { ledger, full: true })).toMatchObject({ ok: true, mode: "full", transactionsChecked: 5 });
  });

  it("catches a transaction tampered with after the checkpoint; the stripe loses its checkpoint, so every later run reports it", async () => {
    const { merchantId: ledger, sellerIds } = await createMerchantWithSellers(t.db, 1);
    await post(sellerIds[0]!, "tam-a");
    expect((await verifyLedger(t.db, { ledger })).ok).toBe(true);
    const before = await t.sql`select stripe, seq::text, hash from ledger_chain_checkpoints where ledger = ${ledger} order by stripe`;
    const victim = await post(sellerIds[0]!, "tam-victim", 777n);
    await tamper(async (sql) => {
      await sql`update ledger_entries set amount = amount - 70 where transaction_id = ${victim.id} and line = 0`;
      await sql`update ledger_entries set amount = amount + 70 where transaction_id = ${victim.id} and line = 1`;
    });
    const report = await verifyLedger(t.db, { ledger });
    expect(report).toMatchObject({ ok: false, transactionsChecked: 0, breaks: [{ transactionId: victim.id, reason: "content_altered" }] });
    const brokenStripe = report.breaks[0]!.stripe;
    const after = await t.sql`select stripe, seq::text, hash from ledger_chain_checkpoints where ledger = ${ledger} order by stripe`;
    expect(after).toEqual(before.filter((c) => c.stripe !== brokenStripe));
    // Every later incremental run walks that stripe from genesis and still sees it, however many runs go by.
    for (let i = 0; i < 2; i++) expect(await verifyLedger(t.db, { ledger })).toMatchObject({ ok: false, breaks: [{ transactionId: victim.id }] });
  });

  it("refuses a checkpointed transaction that was altered or deleted", async () => {
    const { merchantId: ledger, sellerIds } = await createMerchantWithSellers(t.db, 1);
    const altered = await post(sellerIds[0]!, "cp-altered");
    expect(await verifyLedger(t.db, { ledger })).toMatchObject({ ok: true, transactionsChecked: 1 });
    await tamper(async (sql) => {
      await sql`update ledger_entries set amount = amount - 5 where transaction_id = ${altered.id} and line = 0`;
      await sql`update ledger_entries set amount = amount + 5 where transaction_id = ${altered.id} and line = 1`;
    });
    expect(await verifyLedger(t.db, { ledger })).toMatchObject({ ok: false, breaks: [{ transactionId: altered.id, reason: "content_altered" }] });

    const other = await createMerchantWithSellers(t.db, 1);
    const gone = await post(other.sellerIds[0]!, "cp-gone");
    expect((await verifyLedger(t.db, { ledger: other.merchantId })).ok).toBe(true);
    // Removed with the head moved back, so that only the checkpoint knows it existed.
    await tamper(async (sql) => {
      await sql`delete from ledger_entries where transaction_id = ${gone.id}`;
      await sql`delete from ledger_transactions where id = ${gone.id}`;
      await sql`update ledger_chains set seq = seq - 1, head_hash = ${"0".repeat(64)} where ledger = ${other.merchantId} and seq = 1`;
    });
    expect(await verifyLedger(t.db, { ledger: other.merchantId })).toMatchObject({ ok: false, breaks: [{ transactionId: gone.id, reason: "checkpoint_mismatch" }] });
  });

  it("misses an edit before the checkpoint (it trusts what an earlier run verified); --full catches it", async () => {
    const { merchantId: ledger, sellerIds } = await createMerchantWithSellers(t.db, 1);
    // One batch is one stripe: `early` is linked before `late`, and the checkpoint lands on `late`.
    const [early, late] = await t.db.transaction((tx) =>
      postTransactions(tx, [paymentPosting({ sourceId: "lim-early", sellerId: sellerIds[0]!, gross: 500n, fee: 5n }), paymentPosting({ sourceId: "lim-late", sellerId: sellerIds[0]!, gross: 600n, fee: 6n })]),
    );
    expect((await verifyLedger(t.db, { ledger })).ok).toBe(true);
    const [cp] = await t.sql<{ transaction_id: string }[]>`select transaction_id from ledger_chain_checkpoints where ledger = ${ledger}`;
    expect(cp!.transaction_id).toBe(late!.id);
    await tamper(async (sql) => {
      await sql`update ledger_entries set amount = amount - 1 where transaction_id = ${early!.id} and line = 0`;
      await sql`update ledger_entries set amount = amount + 1 where transaction_id = ${early!.id} and line = 1`;
    });
    expect(await verifyLedger(t.db, { ledger })).toMatchObject({ ok: true, transactionsChecked: 0 });
    expect(await verifyLedger(t.db, { ledger, full: true })).toMatchObject({ ok: false, breaks: [{ transactionId: early!.id, reason: "content_altered" }] });
    // Once found, the break stays found: the full run removed the stripe's checkpoint, so incremental runs report it too.
    expect(await verifyLedger(t.db, { ledger })).toMatchObject({ ok: false, breaks: [{ transactionId: early!.id, reason: "content_altered" }] });
  });

  it("a run whose snapshot predates a break another run found cannot write a checkpoint past it (compare-and-set)", async () => {
    const { merchantId: ledger, sellerIds } = await createMerchantWithSellers(t.db, 1);
    const [a, b] = await t.db.transaction((tx) =>
      postTransactions(tx, [paymentPosting({ sourceId: "cas-a", sellerId: sellerIds[0]!, gross: 500n, fee: 5n }), paymentPosting({ sourceId: "cas-b", sellerId: sellerIds[0]!, gross: 600n, fee: 6n })]),
    );
    void b;
    // A checkpoint on `a`; then `b` is tampered with and a run finds it (its stripe's checkpoint goes).
    await t.sql`insert into ledger_chain_checkpoints (ledger, stripe, seq, transaction_id, hash, verified_at)
      select ledger, chain_stripe, chain_seq, id, hash, now() from ledger_transactions where id = ${a!.id}`;
    await tamper(async (sql) => {
      await sql`update ledger_entries set amount = amount - 1 where transaction_id = ${b!.id} and line = 0`;
      await sql`update ledger_entries set amount = amount + 1 where transaction_id = ${b!.id} and line = 1`;
    });
    expect((await verifyLedger(t.db, { ledger })).ok).toBe(false);
    expect(await t.sql`select 1 from ledger_chain_checkpoints where ledger = ${ledger}`).toHaveLength(0);
    // The slow run that read the stripe before the tampering now tries to move the checkpoint it started from (on a).
    const [row] = await t.sql<{ stripe: number; seq: string }[]>`select chain_stripe as stripe, chain_seq::text as seq from ledger_transactions where id = ${a!.id}`;
    const moved = await t.sql`update ledger_chain_checkpoints set seq = seq + 1 where ledger = ${ledger} and stripe = ${row!.stripe} and seq = ${row!.seq} returning 1`;
    expect(moved).toHaveLength(0); // the compare-and-set in writeCheckpoints finds no checkpoint to move
    expect((await verifyLedger(t.db, { ledger })).ok).toBe(false);
  });

  it("npm run ledger:verify prints the mode and throughput; --full walks from genesis", async () => {
    const run = promisify(execFile);
    const { merchantId: ledger, sellerIds } = await createMerchantWithSellers(t.db, 1);
    await post(sellerIds[0]!, "cli-a");
    // eslint-disable-next-line no-restricted-properties -- the child CLI needs this process's PATH etc., plus the test DB
    const env = { ...process.env, DATABASE_URL: t.url };
    const inc = await run("npx", ["tsx", "scripts/ledger-verify.ts", "--ledger", ledger], { env, cwd: process.cwd() });
    expect(inc.stdout).toMatch(/ledger chain OK: 1 transactions .* \(after their checkpoints\)/);
    expect(inc.stdout).toMatch(/mode incremental: 1 transactions in [\d.]+ s \(\d+ transactions\/s\)/);
    const again = await run("npx", ["tsx", "scripts/ledger-verify.ts", "--ledger", ledger], { env, cwd: process.cwd() });
    expect(again.stdout).toMatch(/mode incremental: 0 transactions/);
    const full = await run("npx", ["tsx", "scripts/ledger-verify.ts", "--ledger", ledger, "--full"], { env, cwd: process.cwd() });
    expect(full.stdout).toMatch(/mode full: 1 transactions/);
  }, 60_000);
});
