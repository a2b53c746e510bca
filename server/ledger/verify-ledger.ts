// Walks the hash chain stripes in the database (or one ledger's) and reports the first break of each.
//
// Incremental (the default): each stripe is walked from its verified checkpoint (ledger_chain_checkpoints), so a run
// costs what was posted since the last one. The checkpointed transaction is re-read first (gone, or its seq, hash or
// content changed: a break). `full` walks every stripe from genesis and rewrites the checkpoints. The limit: an
// incremental run trusts what an earlier run verified, so an edit before a checkpoint (with every later hash left
// alone, it is still a content_altered break for a full walk) is only caught by `full`: run it periodically.
import { and, asc, eq, gt, inArray, sql } from "drizzle-orm";
import type { Db, DbOrTx } from "@/db/client";
import { ledgerAccounts, ledgerChainCheckpoints, ledgerEntries, ledgerTransactions } from "@/db/schema";
import { StripeWalker, type ChainBreak, type ChainTransaction, type VerifyReport } from "./chain-verify";
import { transactionHash } from "./hash";

export const VERIFY_BATCH_SIZE = 500;
/** Checkpoints upserted per statement after a run. */
export const CHECKPOINT_WRITE_BATCH = 500;

export interface VerifyLedgerOptions {
  /** Only this ledger (a merchant id or `platform`). */
  ledger?: string;
  /** Walk every stripe from genesis (and rewrite the checkpoints) instead of from the checkpoints. */
  full?: boolean;
}

interface StripeRow {
  ledger: string;
  stripe: number;
  head_seq: bigint | null;
  head_hash: string | null;
  cp_seq: bigint | null;
  cp_transaction_id: string | null;
  cp_hash: string | null;
  /** The stripe's highest chain_seq among its transactions (null: none). */
  max_seq: bigint | null;
}

interface Checkpoint {
  ledger: string;
  stripe: number;
  seq: bigint;
  transactionId: string;
  hash: string;
  /** The checkpoint's seq when this run read it (null: none): the write is a compare-and-set on it. */
  fromSeq: bigint | null;
}

/**
 * The walk runs in one REPEATABLE READ, read-only snapshot, so heads and transactions agree while postings continue.
 * The checkpoints of the stripes that verified are written afterwards, in a short transaction of their own: the walk
 * stays read only (no write transaction held open for the whole walk, no serialization failure at its end because a
 * concurrent run moved a checkpoint), and what a checkpoint records (a transaction's id, seq and hash as verified in
 * that snapshot) is a fact that a later change cannot make untrue silently: the next run re-reads and re-hashes it.
 */
export async function verifyLedger(db: Db, options: VerifyLedgerOptions = {}): Promise<VerifyReport> {
  const started = performance.now();
  const mode = options.full ? "full" : "incremental";
  const { report, advanced } = await db.transaction((tx) => verifySnapshot(tx, options.ledger, mode === "full"), { isolationLevel: "repeatable read", accessMode: "read only" });
  const checkpointsWritten = await writeCheckpoints(db, advanced, report.breaks);
  return { ...report, mode, elapsedMs: Math.round(performance.now() - started), checkpointsWritten };
}

async function verifySnapshot(db: DbOrTx, ledger: string | undefined, full: boolean): Promise<{ report: VerifyReport; advanced: Checkpoint[] }> {
  const stripes = await listStripes(db, ledger);
  const checkpointed = full ? new Map<string, ChainTransaction>() : await loadTransactions(db, stripes.flatMap((s) => (s.cp_transaction_id ? [s.cp_transaction_id] : [])));
  const breaks: ChainBreak[] = [];
  const advanced: Checkpoint[] = [];
  let checked = 0;
  for (const s of stripes) {
    const walker = full || s.cp_seq === null ? new StripeWalker(s.ledger, s.stripe) : startAtCheckpoint(s, checkpointed.get(s.cp_transaction_id!));
    // Nothing after the checkpoint: no walk (no round trip); the head is still compared with the checkpoint below.
    const nothingNew = !full && s.cp_seq !== null && s.max_seq !== null && BigInt(s.max_seq) === BigInt(s.cp_seq);
    if (!walker.broken && !nothingNew) await walkStripe(db, walker, full || s.cp_seq === null ? 0n : BigInt(s.cp_seq));
    const head = s.head_seq === null ? { seq: 0n, hash: "" } : { seq: BigInt(s.head_seq), hash: s.head_hash! };
    const broken = walker.finish(head);
    checked += walker.checked;
    const fromSeq = s.cp_seq === null ? null : BigInt(s.cp_seq);
    if (broken) breaks.push(broken);
    else if (walker.last && (full || walker.checked > 0)) advanced.push({ ledger: s.ledger, stripe: s.stripe, seq: walker.last.seq, transactionId: walker.last.id, hash: walker.last.hash, fromSeq });
  }
  return { report: { ok: breaks.length === 0, transactionsChecked: checked, stripesChecked: stripes.length, breaks }, advanced };
}

/**
 * Stripes named by a chain head, a checkpoint or any transaction (a transaction in a stripe without a head still gets
 * walked). The transactions' distinct stripes come from a loose index scan of ledger_transactions_chain_uq (one probe
 * per stripe), not from reading every transaction, and so does each stripe's highest seq: a stripe with nothing after
 * its checkpoint is not walked at all.
 */
async function listStripes(db: DbOrTx, ledger: string | undefined): Promise<StripeRow[]> {
  const only = (col: string) => (ledger === undefined ? sql`true` : sql`${sql.raw(col)} = ${ledger}`);
  return (await db.execute(sql`
    with recursive txs as (
      (select t.ledger, t.chain_stripe from ledger_transactions t where ${only("t.ledger")} order by t.ledger, t.chain_stripe limit 1)
      union all
      select n.ledger, n.chain_stripe from txs cross join lateral (
        select t.ledger, t.chain_stripe from ledger_transactions t
        where (t.ledger, t.chain_stripe) > (txs.ledger, txs.chain_stripe) and ${only("t.ledger")}
        order by t.ledger, t.chain_stripe limit 1) n),
    s as (select ledger, stripe from ledger_chains where ${only("ledger")}
          union select ledger, stripe from ledger_chain_checkpoints where ${only("ledger")}
          union select ledger, chain_stripe from txs)
    select s.ledger, s.stripe, c.seq as head_seq, c.head_hash, k.seq as cp_seq, k.transaction_id as cp_transaction_id, k.hash as cp_hash,
      (select max(t.chain_seq) from ledger_transactions t where t.ledger = s.ledger and t.chain_stripe = s.stripe) as max_seq
    from s
    left join ledger_chains c on c.ledger = s.ledger and c.stripe = s.stripe
    left join ledger_chain_checkpoints k on k.ledger = s.ledger and k.stripe = s.stripe
    order by s.ledger, s.stripe`)) as unknown as StripeRow[];
}

/** A walker that continues after the stripe's checkpoint, or one already broken if the checkpointed transaction is gone or changed. */
function startAtCheckpoint(s: StripeRow, t: ChainTransaction | undefined): StripeWalker {
  const cp = { seq: BigInt(s.cp_seq!), hash: s.cp_hash! };
  const walker = new StripeWalker(s.ledger, s.stripe, { after: cp });
  const id = s.cp_transaction_id!;
  if (!t) walker.fail(id, cp.seq, "checkpoint_mismatch", `checkpointed transaction ${id} (seq ${cp.seq}) is gone`);
  else if (t.ledger !== s.ledger || t.chainStripe !== s.stripe || t.chainSeq !== cp.seq || t.hash !== cp.hash) {
    walker.fail(id, cp.seq, "checkpoint_mismatch", `checkpoint says ${s.ledger}/${s.stripe} seq ${cp.seq} hash ${cp.hash}; the transaction now has ${t.ledger}/${t.chainStripe} seq ${t.chainSeq} hash ${t.hash}`);
  } else {
    const recomputed = transactionHash(t.prevHash, t);
    if (recomputed !== t.hash) walker.fail(id, cp.seq, "content_altered", `checkpointed transaction: stored hash ${t.hash}, content hashes to ${recomputed}`);
  }
  return walker;
}

async function walkStripe(db: DbOrTx, walker: StripeWalker, afterSeq: bigint): Promise<void> {
  let after = afterSeq;
  for (;;) {
    const ids = await db
      .select({ id: ledgerTransactions.id })
      .from(ledgerTransactions)
      .where(and(eq(ledgerTransactions.ledger, walker.ledger), eq(ledgerTransactions.chainStripe, walker.stripe), gt(ledgerTransactions.chainSeq, after)))
      .orderBy(asc(ledgerTransactions.chainSeq))
      .limit(VERIFY_BATCH_SIZE);
    if (ids.length === 0) return;
    const byId = await loadTransactions(db, ids.map((r) => r.id));
    for (const { id } of ids) {
      if (!walker.push(byId.get(id)!)) return;
    }
    after = byId.get(ids[ids.length - 1]!.id)!.chainSeq;
  }
}

/** Transactions by id with their entries (and each entry's account key: v2 hashes accounts by key and currency). */
async function loadTransactions(db: DbOrTx, ids: string[]): Promise<Map<string, ChainTransaction>> {
  const out = new Map<string, ChainTransaction>();
  for (let i = 0; i < ids.length; i += VERIFY_BATCH_SIZE) {
    const chunk = ids.slice(i, i + VERIFY_BATCH_SIZE);
    const rows = await db.select().from(ledgerTransactions).where(inArray(ledgerTransactions.id, chunk));
    const entries = await db
      .select({ transactionId: ledgerEntries.transactionId, line: ledgerEntries.line, accountId: ledgerEntries.accountId, accountKey: ledgerAccounts.key, accountCurrency: ledgerAccounts.currency, currency: ledgerEntries.currency, amount: ledgerEntries.amount })
      .from(ledgerEntries)
      .innerJoin(ledgerAccounts, eq(ledgerAccounts.id, ledgerEntries.accountId))
      .where(inArray(ledgerEntries.transactionId, chunk));
    const byTxn = new Map<string, ChainTransaction["entries"][number][]>();
    for (const e of entries) {
      const list = byTxn.get(e.transactionId) ?? [];
      list.push({ line: e.line, accountId: e.accountId, accountKey: e.accountKey, accountCurrency: e.accountCurrency, currency: e.currency, amount: e.amount });
      byTxn.set(e.transactionId, list);
    }
    for (const r of rows) out.set(r.id, { ...r, entries: byTxn.get(r.id) ?? [] });
  }
  return out;
}

/** One checkpoint writer at a time (two ledger:verify runs may end together). */
const CHECKPOINT_LOCK_KEY = "paybridge:ledger-verify-checkpoints";

/**
 * After the walk: a broken stripe loses its checkpoint, so every later run (incremental too) walks it from genesis and
 * reports the same break until it is repaired; a stripe that verified moves its checkpoint to the last transaction
 * walked, as a compare-and-set on the checkpoint the run started from. A run whose snapshot predates a break that a
 * concurrent run found (and whose checkpoint it removed) therefore cannot write a checkpoint past it.
 */
async function writeCheckpoints(db: Db, advanced: Checkpoint[], breaks: ChainBreak[]): Promise<number> {
  if (advanced.length === 0 && breaks.length === 0) return 0;
  const verifiedAt = new Date();
  let written = 0;
  await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${CHECKPOINT_LOCK_KEY}))`);
    for (const b of breaks) {
      await tx.delete(ledgerChainCheckpoints).where(and(eq(ledgerChainCheckpoints.ledger, b.ledger), eq(ledgerChainCheckpoints.stripe, b.stripe)));
    }
    for (let i = 0; i < advanced.length; i += CHECKPOINT_WRITE_BATCH) {
      const batch = advanced.slice(i, i + CHECKPOINT_WRITE_BATCH);
      const rows = (await tx.execute(sql`
        with w as (
          select * from unnest(${sql.param(batch.map((c) => c.ledger))}::text[], ${sql.param(batch.map((c) => c.stripe))}::smallint[], ${sql.param(batch.map((c) => c.seq.toString()))}::bigint[],
                               ${sql.param(batch.map((c) => c.transactionId))}::text[], ${sql.param(batch.map((c) => c.hash))}::text[], ${sql.param(batch.map((c) => c.fromSeq?.toString() ?? null))}::bigint[])
            as w(ledger, stripe, seq, transaction_id, hash, from_seq)),
        moved as (
          update ledger_chain_checkpoints k set seq = w.seq, transaction_id = w.transaction_id, hash = w.hash, verified_at = ${verifiedAt.toISOString()}::timestamptz
          from w where k.ledger = w.ledger and k.stripe = w.stripe and w.from_seq is not null and k.seq = w.from_seq
          returning 1),
        added as (
          insert into ledger_chain_checkpoints (ledger, stripe, seq, transaction_id, hash, verified_at)
          select w.ledger, w.stripe, w.seq, w.transaction_id, w.hash, ${verifiedAt.toISOString()}::timestamptz from w where w.from_seq is null
          on conflict (ledger, stripe) do nothing
          returning 1)
        select (select count(*) from moved)::int + (select count(*) from added)::int as n`)) as unknown as [{ n: number }];
      written += rows[0].n;
    }
  });
  return written;
}
