/**
 * `npm run bench:ledger` — postings/s and p50/p99 latency of postTransaction (each in its own DB
 * transaction) for 1, 8 and 64 concurrent writers, on uniform accounts and on one hot account (with the
 * default balance shards, and with a single balance row for comparison; then both again with the transaction
 * held open 10 ms after posting, as a durable commit or the caller's own writes would). Runs on a throwaway embedded
 * Postgres (fast mode) in a temp dir, stopped at the end. A batched row posts 100 postings per DB transaction
 * (postTransactions, one merchant's ledger each). Beside them, in the same run and on the same server, pgbench
 * (TPC-B-like) at 1, 8 and 32 clients; every row prints its postings/s as a ratio to the best of those (issue 15's
 * targets: 8 writers uniform ≥ 0.5×, batched ≥ 5×, a hot account ≥ 50% of uniform). Flags: --seconds N (per cell,
 * default 4), --writers 1,8,64, --pgbench-seconds S (per client count, default 5; 0 skips it), --pgbench PATH.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { createDb, type Db } from "../db/client";
import { ensureDatabase, startEmbeddedPostgres } from "../db/embedded";
import { runMigrations } from "../db/migrate";
import { merchants, sellers } from "../db/schema";
import { accountFor, createAccount, postTransaction, postTransactions, type PostTransactionInput } from "../server/ledger";
import { money } from "../server/money";
import { findPgbench, pgbenchSweep, ratio, table } from "./pgbench";

const SECONDS_DEFAULT = 4;
const WARMUP_MS = 500;
const UNIFORM_MERCHANTS = 16;
const UNIFORM_SELLERS_PER_MERCHANT = 4;
/** Simulated commit latency / caller work in the "tx open" rows. */
const HOLD_MS = 10;
/** Postings per DB transaction in the batched rows. */
const BATCH = 100;
const PGBENCH_SECONDS_DEFAULT = 5;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

interface Scenario {
  name: string;
  /**
   * Keeps the DB transaction open this long after posting (pg_sleep): stands in for a durable commit's fsync
   * or the caller's own writes, which is when one balance row per hot account becomes the bottleneck.
   */
  holdMs?: number;
  /** Postings per DB transaction (postTransactions); 1 when unset (postTransaction). */
  batch?: number;
  /** The posting writer `w` makes on its `n`th iteration, under a source id unique to the bench cell. */
  posting: (sourceId: string, w: number, n: number) => PostTransactionInput;
}

function transfer(sourceId: string, psp: string, sellerId: string, amount: bigint): PostTransactionInput {
  return {
    source: "bench",
    sourceId,
    description: "bench payment",
    lines: [
      { account: accountFor.pspClearing(psp, "KES"), side: "debit", amount: money(amount, "KES") },
      { account: accountFor.sellerPending(sellerId, "KES"), side: "credit", amount: money(amount, "KES") },
    ],
  };
}

async function seed(db: Db): Promise<Scenario[]> {
  const uniformSellers: string[] = [];
  const sellersByMerchant: string[][] = [];
  for (let m = 0; m < UNIFORM_MERCHANTS; m++) {
    const [mer] = await db.insert(merchants).values({ name: `Bench ${m}`, country: "KE", defaultCurrency: "KES" }).returning();
    const rows = await db
      .insert(sellers)
      .values(Array.from({ length: UNIFORM_SELLERS_PER_MERCHANT }, (_, i) => ({ merchantId: mer!.id, reference: `s${i}`, name: `S${i}`, defaultCurrency: "KES" })))
      .returning();
    uniformSellers.push(...rows.map((r) => r.id));
    sellersByMerchant.push(rows.map((r) => r.id));
  }
  const [hotMerchant] = await db.insert(merchants).values({ name: "Hot", country: "KE", defaultCurrency: "KES" }).returning();
  const [hotSharded, hotSingle] = await db
    .insert(sellers)
    .values([
      { merchantId: hotMerchant!.id, reference: "hot-sharded", name: "Hot sharded", defaultCurrency: "KES" },
      { merchantId: hotMerchant!.id, reference: "hot-single", name: "Hot single row", defaultCurrency: "KES" },
    ])
    .returning();
  // The single-row variant: the same hot accounts with one balance row each (what sharding avoids).
  await db.transaction(async (tx) => {
    await createAccount(tx, accountFor.pspClearing("single", "KES"), { balanceShards: 1 });
    await createAccount(tx, accountFor.sellerPending(hotSingle!.id, "KES"), { balanceShards: 1 });
  });
  return [
    {
      name: "uniform (64 sellers, 16 ledgers)",
      posting: (id, w, n) => transfer(id, `psp${(w + n) % uniformSellers.length}`, uniformSellers[(w * 7 + n) % uniformSellers.length]!, 1_000n),
    },
    {
      // One merchant's ledger per DB transaction (a batch may not span ledgers): writer w, batch n -> merchant (w + n) % 16.
      name: `uniform, batched ${BATCH} per commit`,
      batch: BATCH,
      posting: (id, w, n) => {
        const merchant = sellersByMerchant[(w + Math.floor(n / BATCH)) % sellersByMerchant.length]!;
        return transfer(id, `psp${w % 4}`, merchant[n % merchant.length]!, 1_000n);
      },
    },
    { name: "hot account, sharded (16+8 rows)", posting: (id) => transfer(id, "stripe", hotSharded!.id, 1_000n) },
    { name: "hot account, 1 balance row", posting: (id) => transfer(id, "single", hotSingle!.id, 1_000n) },
    { name: `hot, sharded, tx open +${HOLD_MS}ms`, holdMs: HOLD_MS, posting: (id) => transfer(id, "stripe", hotSharded!.id, 1_000n) },
    { name: `hot, 1 balance row, tx open +${HOLD_MS}ms`, holdMs: HOLD_MS, posting: (id) => transfer(id, "single", hotSingle!.id, 1_000n) },
  ];
}

interface Cell {
  scenario: string;
  writers: number;
  postings: number;
  perSecond: number;
  p50: number;
  p99: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(db: Db, scenario: Scenario, writers: number, seconds: number): Promise<Cell> {
  const latencies: number[] = [];
  let postings = 0;
  const start = performance.now();
  const measureFrom = start + WARMUP_MS;
  const end = measureFrom + seconds * 1000;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const batch = scenario.batch ?? 1;
      for (let n = 0; performance.now() < end; n += batch) {
        const inputs = Array.from({ length: batch }, (_, k) => scenario.posting(`${scenario.name}/${writers}/w${w}/n${n + k}`, w, n + k));
        const t0 = performance.now();
        await db.transaction(async (tx) => {
          if (batch === 1) await postTransaction(tx, inputs[0]!);
          else await postTransactions(tx, inputs);
          if (scenario.holdMs) await tx.execute(sql`select pg_sleep(${scenario.holdMs / 1000})`);
        });
        const t1 = performance.now();
        if (t0 >= measureFrom && t1 <= end) {
          latencies.push(t1 - t0);
          postings += batch;
        }
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { scenario: scenario.name, writers, postings, perSecond: postings / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** The latency columns are per DB transaction (a batched row's is the whole batch's commit). */
function cellTable(cells: Cell[], pgbenchBest: number | undefined): string {
  const head = ["scenario", "writers", "postings/s", "p50 ms", "p99 ms", "postings/s : pgbench best tps"];
  return table(
    head,
    cells.map((c) => [c.scenario, String(c.writers), c.perSecond.toFixed(0), c.p50.toFixed(1), c.p99.toFixed(1), ratio(c.perSecond, pgbenchBest)]),
  );
}

async function main(): Promise<void> {
  const seconds = Number(arg("--seconds") ?? SECONDS_DEFAULT);
  const writerCounts = (arg("--writers") ?? "1,8,64").split(",").map(Number);
  const pgbenchSeconds = Number(arg("--pgbench-seconds") ?? PGBENCH_SECONDS_DEFAULT);
  const tmp = await mkdtemp(path.join(os.tmpdir(), "paybridge-bench-pg-"));
  const pg = await startEmbeddedPostgres({ dir: path.join(tmp, "pg"), fast: true });
  const handle = createDb(pg.databaseUrl("bench"), { max: Math.max(...writerCounts) + 2 });
  try {
    await ensureDatabase(pg.url, "bench");
    await runMigrations(pg.databaseUrl("bench"));
    const scenarios = await seed(handle.db);
    const cells: Cell[] = [];
    for (const scenario of scenarios) {
      for (const writers of writerCounts) {
        cells.push(await measure(handle.db, scenario, writers, seconds));
        console.error(`  ${scenario.name}, ${writers} writers: ${cells.at(-1)!.perSecond.toFixed(0)}/s`);
      }
    }
    console.error(`pgbench (${pgbenchSeconds} s per client count, scale 10) on the same server…`);
    await ensureDatabase(pg.url, "pgbench");
    const pgb = pgbenchSweep(findPgbench(), pg.databaseUrl("pgbench"), pgbenchSeconds);
    const best = "best" in pgb ? pgb.best : undefined;
    console.log(`\nledger postings (${seconds}s per cell, ${os.cpus().length} CPUs, embedded Postgres fsync=off)\n`);
    console.log(cellTable(cells, best));
    if ("runs" in pgb) {
      console.log(`\npgbench tpcb-like on the same server, same run\n`);
      console.log(table(["clients", "tps"], pgb.runs.map((r) => [String(r.clients), r.tps.toFixed(0)])));
      const at = (name: string, writers: number) => cells.find((c) => c.scenario === name && c.writers === writers);
      const uniform8 = at(scenarios[0]!.name, 8);
      const batched8 = at(`uniform, batched ${BATCH} per commit`, 8);
      const hot8 = at("hot account, sharded (16+8 rows)", 8);
      if (uniform8 && batched8 && hot8) {
        console.log(`\ntargets (8 writers): uniform ${ratio(uniform8.perSecond, best)} (≥ 0.50×), batched ${ratio(batched8.perSecond, best)} (≥ 5.00×), hot : uniform ${(hot8.perSecond / uniform8.perSecond).toFixed(2)} (≥ 0.50)`);
      }
    } else console.log(`\npgbench skipped: ${pgb.skipped}`);
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
