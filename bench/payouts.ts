/**
 * `npm run bench:payouts` — payouts/s of the scheduled run (createDuePayouts, server/payouts/build.ts) for 10,000
 * sellers due at once: the set-based selection of due (seller, currency) pairs, then per batch the debt netting, the
 * composition, the batched holds, the payout rows and their outbox events. Beside it, pgbench (TPC-B-like) on the same
 * Postgres in the same run, so the number can be read against what the machine does (the ratio column), as the
 * payments bench is read beside it in the README.
 * Runs on a throwaway embedded Postgres (fast mode) in a temp dir, stopped at the end. The sellers are seeded with
 * set-based SQL (merchants, sellers with a daily schedule, their M-Pesa destinations: one INSERT … SELECT
 * generate_series each); their available funds are one ledger transaction per seller written by hand, set-based
 * (seedFunds: the rows postTransactions would write, each merchant's hash chain linked with the ledger's own
 * transactionHash, the chain heads and the balance shards), checked by verifyLedger and the ledger invariants;
 * not postTransactions (one posting at a time is too slow for 10,000) and not API calls.
 * Flags: --sellers N (default 10000), --merchants M (default 100), --batch B (createDuePayouts' batchSize; its default
 * when omitted), --pgbench-seconds S (default 10; 0 skips it), --pgbench PATH (default: pgbench on PATH, or
 * /usr/lib/postgresql/<v>/bin/pgbench). Not part of `npm test`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { createDb, type Db } from "../db/client";
import { ensureDatabase, startEmbeddedPostgres } from "../db/embedded";
import { runMigrations } from "../db/migrate";
import { encryptField } from "../server/crypto/field";
import { newId } from "../db/ids";
import { ACCOUNT_SPECS, accountFor, checkLedgerInvariants, createAccount, formatInvariantReport, formatVerifyReport, verifyLedger } from "../server/ledger";
import { GENESIS_HASH, transactionHash } from "../server/ledger/hash";
import { createDuePayouts } from "../server/payouts/build";
import { arg } from "./card-flow";
import { findPgbench, pgbenchSweep, PGBENCH_SCALE, ratio, table } from "./pgbench";

const SELLERS_DEFAULT = 10_000;
const MERCHANTS_DEFAULT = 100;
const PGBENCH_SECONDS_DEFAULT = 10;
/** Each seller's available funds (minor units): 1,234.00 KES, whole shillings as M-Pesa pays. */
const FUNDS = 123_400n;
const PHONE = "254708374149";
const SEED_SOURCE = "bench.seed";
const SEED_DESCRIPTION = "bench: funds available for payout";
/** Rows per INSERT … unnest while seeding. */
const SEED_CHUNK = 5_000;

function positiveInt(name: string, fallback: number): number {
  const v = arg(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}


/** Merchants, sellers (daily schedule, not held) and one active M-Pesa destination each: set-based SQL. */
async function seedRows(db: Db, sellerCount: number, merchantCount: number): Promise<{ merchantIds: string[] }> {
  const perMerchant = Math.ceil(sellerCount / merchantCount);
  // Ids shaped like ours (prefix + 26 characters of the ULID alphabet).
  const id = (prefix: string, expr: string) => sql.raw(`'${prefix}_' || upper(substr(md5(${expr} || random()::text), 1, 26))`);
  const merchants = await db.execute<{ id: string }>(sql`
    insert into merchants (id, name, country, default_currency)
    select ${id("mer", "g::text")}, 'Bench merchant ' || g, 'KE', 'KES' from generate_series(1, ${merchantCount}) g
    returning id`);
  await db.execute(sql`
    insert into sellers (id, merchant_id, reference, name, default_currency, payout_interval, payout_delay_days, payout_minimum_amount, payouts_held_until)
    select ${id("sel", "m.id || g::text")}, m.id, 'bench-' || g, 'Bench seller ' || g, 'KES', 'daily', 0, 0, null
    from merchants m cross join generate_series(1, ${perMerchant}) g
    where m.name like 'Bench merchant %'
    order by m.id, g
    limit ${sellerCount}`);
  // One envelope for every destination: the bench measures building payouts, not encryption.
  const phone = encryptField(PHONE);
  await db.execute(sql`
    insert into payout_destinations (id, merchant_id, seller_id, psp, phone_encrypted, phone_last3)
    select ${id("pyd", "s.id")}, s.merchant_id, s.id, 'mpesa', ${phone}, ${PHONE.slice(-3)}
    from sellers s join merchants m on m.id = s.merchant_id where m.name like 'Bench merchant %'`);
  const rows = [...merchants] as { id: string }[];
  return { merchantIds: rows.map((r) => r.id) };
}

/**
 * Each seller's funds, available now: one ledger transaction per seller (debit psp_clearing:mpesa, credit the seller's
 * available account), written set-based — the accounts and balance rows with INSERT … SELECT, the transactions and
 * entries with INSERT … SELECT FROM unnest(…) in chunks — exactly as postTransactions would write them: each merchant's
 * hash chain (stripe 0) linked in order with the ledger's own transactionHash, the chain heads, the balance shards.
 * (postTransactions itself, one posting at a time, takes minutes for 10,000 on a loaded machine.)
 */
async function seedFunds(db: Db): Promise<number> {
  await db.transaction(async (tx) => {
    await createAccount(tx, accountFor.pspClearing("mpesa", "KES"));
    const spec = ACCOUNT_SPECS.seller_payable_available;
    await tx.execute(sql`
      insert into ledger_accounts (id, key, kind, currency, merchant_id, seller_id, normal_side, allow_negative, balance_shards)
      select 'lac_' || upper(substr(md5(s.id || random()::text), 1, 26)), 'seller_payable_available:' || s.id, 'seller_payable_available', 'KES',
             s.merchant_id, s.id, ${spec.normalSide}, ${spec.allowNegative}, ${spec.balanceShards}
      from sellers s join merchants m on m.id = s.merchant_id where m.name like 'Bench merchant %'`);
    await tx.execute(sql`
      insert into ledger_balances (account_id, shard, normal_sign, allow_negative)
      select a.id, g, case when a.normal_side = 'debit' then 1 else -1 end, a.allow_negative
      from ledger_accounts a cross join lateral generate_series(0, a.balance_shards - 1) g
      where a.kind = 'seller_payable_available' and not exists (select 1 from ledger_balances b where b.account_id = a.id)`);
  });
  const [clearing] = [...(await db.execute<{ id: string }>(sql`select id from ledger_accounts where key = 'psp_clearing:mpesa' and currency = 'KES'`))] as { id: string }[];
  const accounts = [...(await db.execute<{ id: string; seller_id: string; merchant_id: string }>(sql`
    select id, seller_id, merchant_id from ledger_accounts where kind = 'seller_payable_available' order by merchant_id, seller_id`))] as { id: string; seller_id: string; merchant_id: string }[];
  const txRows: { id: string; ledger: string; seq: string; sourceId: string; postedAt: string; prevHash: string; hash: string }[] = [];
  const entryRows: { txId: string; line: number; accountId: string; amount: string }[] = [];
  const heads = new Map<string, { seq: bigint; hash: string }>();
  for (const a of accounts) {
    const head = heads.get(a.merchant_id) ?? { seq: 0n, hash: GENESIS_HASH };
    const entries = [
      { line: 0, accountId: clearing!.id, currency: "KES", amount: FUNDS },
      { line: 1, accountId: a.id, currency: "KES", amount: -FUNDS },
    ];
    const t = { id: newId("ltx"), ledger: a.merchant_id, chainStripe: 0, chainSeq: head.seq + 1n, source: SEED_SOURCE, sourceId: a.seller_id, description: SEED_DESCRIPTION, correctsTransactionId: null, metadata: {}, postedAt: new Date(), entries };
    const hash = transactionHash(head.hash, t);
    txRows.push({ id: t.id, ledger: t.ledger, seq: t.chainSeq.toString(), sourceId: t.sourceId, postedAt: t.postedAt.toISOString(), prevHash: head.hash, hash });
    for (const e of entries) entryRows.push({ txId: t.id, line: e.line, accountId: e.accountId, amount: e.amount.toString() });
    heads.set(a.merchant_id, { seq: t.chainSeq, hash });
  }
  await db.transaction(async (tx) => {
    for (let i = 0; i < txRows.length; i += SEED_CHUNK) {
      const c = txRows.slice(i, i + SEED_CHUNK);
      await tx.execute(sql`
        insert into ledger_transactions (id, ledger, chain_stripe, chain_seq, source, source_id, description, metadata, posted_at, prev_hash, hash)
        select id, ledger, 0, seq::bigint, ${SEED_SOURCE}, source_id, ${SEED_DESCRIPTION}, '{}'::jsonb, posted_at::timestamptz, prev_hash, hash
        from unnest(${pgArray(c.map((r) => r.id))}::text[], ${pgArray(c.map((r) => r.ledger))}::text[], ${pgArray(c.map((r) => r.seq))}::text[],
                    ${pgArray(c.map((r) => r.sourceId))}::text[], ${pgArray(c.map((r) => r.postedAt))}::text[], ${pgArray(c.map((r) => r.prevHash))}::text[],
                    ${pgArray(c.map((r) => r.hash))}::text[]) as u(id, ledger, seq, source_id, posted_at, prev_hash, hash)`);
    }
    for (let i = 0; i < entryRows.length; i += SEED_CHUNK) {
      const c = entryRows.slice(i, i + SEED_CHUNK);
      await tx.execute(sql`
        insert into ledger_entries (transaction_id, line, account_id, currency, amount)
        select tx_id, line::smallint, account_id, 'KES', amount::bigint
        from unnest(${pgArray(c.map((r) => r.txId))}::text[], ${pgArray(c.map((r) => String(r.line)))}::text[], ${pgArray(c.map((r) => r.accountId))}::text[],
                    ${pgArray(c.map((r) => r.amount))}::text[]) as u(tx_id, line, account_id, amount)`);
    }
    const chainRows = [...heads.entries()];
    await tx.execute(sql`
      insert into ledger_chains (ledger, stripe, seq, head_hash)
      select ledger, 0, seq::bigint, head_hash from unnest(${pgArray(chainRows.map(([l]) => l))}::text[], ${pgArray(chainRows.map(([, h]) => h.seq.toString()))}::text[],
                                                        ${pgArray(chainRows.map(([, h]) => h.hash))}::text[]) as u(ledger, seq, head_hash)`);
    // The materialized balances: every seller's available account (shard 0) and the clearing account.
    await tx.execute(sql`update ledger_balances b set balance = b.balance - ${FUNDS} from ledger_accounts a where a.id = b.account_id and a.kind = 'seller_payable_available' and b.shard = 0`);
    await tx.execute(sql`update ledger_balances set balance = balance + ${FUNDS * BigInt(accounts.length)} where account_id = ${clearing!.id} and shard = 0`);
  });
  return accounts.length;
}

/** A text[] literal for postgres.js (values are ids, hashes, decimal strings and ISO dates: no quoting needed beyond this). */
function pgArray(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(",")}}`;
}

async function assertLedgerSound(db: Db, when: string): Promise<void> {
  const chains = await verifyLedger(db);
  if (!chains.ok) throw new Error(`ledger hash chains broken ${when}: ${formatVerifyReport(chains)}`);
  const invariants = await checkLedgerInvariants(db);
  if (!invariants.ok) throw new Error(`ledger invariants broken ${when}: ${formatInvariantReport(invariants)}`);
}



async function main(): Promise<void> {
  const sellerCount = positiveInt("--sellers", SELLERS_DEFAULT);
  const merchantCount = Math.max(1, Math.min(sellerCount, positiveInt("--merchants", MERCHANTS_DEFAULT)));
  const batch = arg("--batch") === undefined ? undefined : positiveInt("--batch", 0);
  const pgbenchSeconds = positiveInt("--pgbench-seconds", PGBENCH_SECONDS_DEFAULT);
  const tmp = await mkdtemp(path.join(os.tmpdir(), "paybridge-bench-pg-"));
  const pg = await startEmbeddedPostgres({ dir: path.join(tmp, "pg"), fast: true });
  const handle = createDb(pg.databaseUrl("bench"));
  try {
    await ensureDatabase(pg.url, "bench");
    await runMigrations(pg.databaseUrl("bench"));
    const db = handle.db;

    let t0 = performance.now();
    const { merchantIds } = await seedRows(db, sellerCount, merchantCount);
    const rowsS = (performance.now() - t0) / 1000;
    t0 = performance.now();
    const funded = await seedFunds(db);
    const fundsS = (performance.now() - t0) / 1000;
    console.error(`seeded ${funded} sellers of ${merchantIds.length} merchants (rows ${rowsS.toFixed(1)} s set-based, ledger ${fundsS.toFixed(1)} s set-based)`);
    // The set-based seed is what the ledger itself would have written: chains verify, balances match entries.
    await assertLedgerSound(db, "after seeding");
    await db.execute(sql`analyze`);

    console.error("createDuePayouts…");
    t0 = performance.now();
    const result = await createDuePayouts(db, { now: new Date(), ...(batch ? { batchSize: batch } : {}) });
    const seconds = (performance.now() - t0) / 1000;
    const created = result.created.length;
    const [check] = [...(await db.execute<{ n: number; total: string; items_ok: number }>(sql`
      select count(*)::int as n, coalesce(sum(p.amount), 0)::text as total,
             count(*) filter (where (select coalesce(sum(i.amount), 0) from payout_items i where i.payout_id = p.id) = p.amount)::int as items_ok
      from payouts p`))] as { n: number; total: string; items_ok: number }[];
    if (check!.n !== created || check!.items_ok !== created) throw new Error(`createDuePayouts reported ${created} payouts; the database has ${check!.n}, ${check!.items_ok} of them with items summing to the amount`);
    if (created !== funded) console.error(`note: ${funded - created} seller(s) got no payout (skipped ${result.skipped})`);

    await assertLedgerSound(db, "after createDuePayouts");

    // A second run finds nothing due (one payout per seller and period): the selection's cost on its own.
    t0 = performance.now();
    const again = await createDuePayouts(db, { now: new Date(), ...(batch ? { batchSize: batch } : {}) });
    const againMs = performance.now() - t0;
    if (again.created.length !== 0) throw new Error(`a second run created ${again.created.length} more payouts`);

    console.error(`pgbench (${pgbenchSeconds} s per client count 1/8/32, scale ${PGBENCH_SCALE}) on the same server…`);
    await ensureDatabase(pg.url, "pgbench");
    const sweep = pgbenchSweep(findPgbench(), pg.databaseUrl("pgbench"), pgbenchSeconds);
    const pgb = "best" in sweep ? { tps: sweep.best } : sweep;

    const perSecond = created / seconds;
    const head = ["cores", "sellers due", "payouts", "batch", "seconds", "payouts/s", "rerun ms", "pgbench best tps", "payouts/s : pgbench best tps"];
    const row = [
      String(os.availableParallelism()),
      String(funded),
      String(created),
      batch ? String(batch) : "default",
      seconds.toFixed(2),
      perSecond.toFixed(0),
      againMs.toFixed(0),
      "tps" in pgb ? pgb.tps.toFixed(0) : "n/a",
      "tps" in pgb ? ratio(perSecond, pgb.tps) : "n/a",
    ];
    console.log(`\nscheduled payouts, ${funded} sellers due at once (createDuePayouts, embedded Postgres fsync=off)\n`);
    console.log(table(head, [row]));
    if ("runs" in sweep) console.log(`\npgbench tpcb-like on the same server, same run\n\n${table(["clients", "tps"], sweep.runs.map((r) => [String(r.clients), r.tps.toFixed(0)]))}`);
    else console.log(`\npgbench skipped: ${sweep.skipped}`);
  } finally {
    await handle.close();
    await pg.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
