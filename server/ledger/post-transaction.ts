// postTransaction: the only writer of ledger entries and balances. Runs in the CALLER's DB transaction so a
// state change and its posting commit together. Lock order (docs/ledger.md): idempotency advisory lock ->
// balance rows in (account_id, shard) order -> chain stripe head. Nothing else is locked in between.
import { randomInt } from "node:crypto";
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { ledgerAccounts, ledgerChains, ledgerEntries, ledgerTransactions } from "@/db/schema";
import { newId } from "@/db/ids";
import { AppError } from "@/server/errors";
import { money } from "@/server/money";
import { accountKey, accountMapKey, ensureAccounts, refForAccount, type LedgerAccount } from "./accounts";
import { applyBalanceDeltas } from "./balances";
import { CURRENT_HASH_VERSION, GENESIS_HASH, chainHashV2, contentDigestV2, type HashableTransaction } from "./hash";
import { netByAccount, signedAmount, validatePosting, type PostTransactionInput } from "./validate";

/** Chain stripes per ledger: up to this many postings to one merchant's ledger can hold a chain head at once. */
export const LEDGER_CHAIN_STRIPES = 16;
export const PLATFORM_LEDGER = "platform";
/** Namespace of the transaction-scoped advisory locks taken on (source, source_id). */
const IDEMPOTENCY_LOCK_NAMESPACE = 727_501;
/** Rows per insert statement of a batch (well under postgres.js's 65,534 parameters). */
const WRITE_CHUNK = 2_000;

export interface PostedEntry {
  line: number;
  accountId: string;
  accountKey: string;
  currency: string;
  /** Signed minor units: debit > 0, credit < 0. */
  amount: bigint;
}

export interface PostedTransaction {
  id: string;
  ledger: string;
  source: string;
  sourceId: string;
  description: string;
  correctsTransactionId: string | null;
  postedAt: Date;
  hash: string;
  /** True when (source, sourceId) had already been posted: nothing was written. */
  replayed: boolean;
  entries: PostedEntry[];
}

/** The chain a posting joins: the one merchant its accounts belong to, or the platform ledger. */
function ledgerFor(accounts: Iterable<LedgerAccount>): string {
  const merchants = new Set<string>();
  for (const a of accounts) if (a.merchantId) merchants.add(a.merchantId);
  if (merchants.size > 1) {
    throw new AppError("validation_failed", `ledger posting refused: it spans merchants ${[...merchants].join(", ")}`);
  }
  return [...merchants][0] ?? PLATFORM_LEDGER;
}

/**
 * One posting. The common case (its accounts exist, it lowers no no-negative account, it corrects nothing, its chain
 * stripe has a head) is written by ONE statement after the idempotency lock: see postInOneStatement. Anything else
 * (a replay, a first posting to an account or stripe, a debit that must be checked against funds) takes the general
 * path, which is the batch path with one input; the fast statement has then written nothing.
 */
export async function postTransaction(tx: DbOrTx, input: PostTransactionInput): Promise<PostedTransaction> {
  validatePosting(input);
  if (!input.correctsTransactionId) {
    await lockSources(tx, [`${input.source}:${input.sourceId}`]);
    const posted = await postInOneStatement(tx, input);
    if (posted) return posted;
  }
  const [posted] = await postTransactions(tx, [input]);
  return posted!;
}

/**
 * Serializes postings of the same (source, sourceId): a later one then sees the first's committed row. One statement
 * takes them all, ordered by the lock's own key (hashtext), distinct, from a sorted subquery that feeds the lock calls
 * row by row: two batches lock in the same order even when two keys share a hash. Re-taking a lock the transaction
 * already holds is a no-op that stacks (all are released at commit).
 */
async function lockSources(tx: DbOrTx, keys: readonly string[]): Promise<void> {
  if (keys.length === 1) await tx.execute(sql`select pg_advisory_xact_lock(${IDEMPOTENCY_LOCK_NAMESPACE}, hashtext(${keys[0]!}))`);
  else {
    await tx.execute(
      sql`select pg_advisory_xact_lock(${IDEMPOTENCY_LOCK_NAMESPACE}, h) from (select distinct hashtext(k) as h from unnest(${sql.param([...keys])}::text[]) as k order by h) ordered`,
    );
  }
}

interface OneStatementRow {
  ok: boolean;
  ledger: string;
  /** Set whenever the posting was inserted (the link it was inserted with). */
  hash: string | null;
  inserted: string | number;
  accounts: { line: number; account_id: string | null }[] | null;
}

/**
 * The posting as one statement (run after its idempotency lock, so its snapshot sees any earlier posting of the same
 * source): resolve the accounts by key, check that the posting is not a replay, spans one ledger and lowers no
 * no-negative account; lock one random balance shard per account in (account_id, shard) order, then the chain
 * stripe's head (the documented lock order); link the posting with the v2 hash computed by Postgres from the head's
 * hash, the next seq, the ledger and the content digest computed here; insert the transaction and its entries and
 * apply the balance deltas. Every write is conditional on those checks, so when they fail nothing is written and
 * null is returned. It replaces about ten round trips (lock, replay check, accounts, balance lock, balance update,
 * head, transaction, entries, head update) with two: the lock and this statement.
 */
export async function postInOneStatement(tx: DbOrTx, input: PostTransactionInput): Promise<PostedTransaction | null> {
  const id = newId("ltx");
  const stripe = randomInt(LEDGER_CHAIN_STRIPES);
  const postedAt = new Date();
  const metadata = { ...(input.metadata ?? {}) };
  const lines = input.lines.map((l, line) => ({ line, key: accountKey(l.account), currency: l.account.currency as string, amount: signedAmount(l) }));
  // Net delta per account, zeros dropped (the same netting as the general path), named by key and currency.
  const refs = new Map(input.lines.map((l) => [accountMapKey(l.account), { key: accountKey(l.account), currency: l.account.currency as string }]));
  const deltas = [...netByAccount(input.lines)].map(([k, delta]) => ({ ...refs.get(k)!, delta }));
  const digest = contentDigestV2({
    id,
    chainStripe: stripe,
    source: input.source,
    sourceId: input.sourceId,
    description: input.description,
    correctsTransactionId: null,
    metadata,
    postedAt,
    entries: lines.map((l) => ({ line: l.line, accountKey: l.key, currency: l.currency, amount: l.amount })),
  });
  const [row] = (await tx.execute(sql`
    with lines as (
      select l.line, l.key, l.currency, l.amount, a.id as account_id, a.merchant_id
      from unnest(${sql.param(lines.map((l) => l.line))}::int[], ${sql.param(lines.map((l) => l.key))}::text[],
                  ${sql.param(lines.map((l) => l.currency))}::text[], ${sql.param(lines.map((l) => l.amount.toString()))}::bigint[]) as l(line, key, currency, amount)
      left join ledger_accounts a on a.key = l.key and a.currency = l.currency
    ),
    deltas as (
      select a.id as account_id, a.balance_shards, d.delta,
             a.allow_negative or d.delta * (case when a.normal_side = 'debit' then 1 else -1 end) >= 0 as not_lowering
      from unnest(${sql.param(deltas.map((d) => d.key))}::text[], ${sql.param(deltas.map((d) => d.currency))}::text[],
                  ${sql.param(deltas.map((d) => d.delta.toString()))}::bigint[]) as d(key, currency, delta)
      join ledger_accounts a on a.key = d.key and a.currency = d.currency
    ),
    gate0 as (
      select coalesce(max(merchant_id), ${PLATFORM_LEDGER}) as ledger,
             bool_and(account_id is not null) and count(distinct merchant_id) <= 1
             and (select count(*) from deltas) = ${deltas.length}
             and coalesce((select bool_and(not_lowering) from deltas), true)
             and not exists (select 1 from ledger_transactions where source = ${input.source} and source_id = ${input.sourceId}) as ok
      from lines
    ),
    -- The stripe's head must exist before any balance is locked: the general path (which creates it) would otherwise
    -- lock its own random shards after these, out of order.
    gate as (
      select g0.ledger, g0.ok and exists (select 1 from ledger_chains c where c.ledger = g0.ledger and c.stripe = ${stripe}) as ok from gate0 g0
    ),
    targets as materialized (
      select d.account_id, (case when d.balance_shards = 1 then 0 else floor(random() * d.balance_shards)::int end)::smallint as shard, d.delta
      from deltas d, gate g where g.ok
    ),
    locked as (
      select b.account_id, b.shard from ledger_balances b join targets t on b.account_id = t.account_id and b.shard = t.shard
      order by b.account_id, b.shard
      for update of b
    ),
    head as (
      select c.seq + 1 as seq, c.head_hash as prev, g.ledger
      from ledger_chains c, gate g
      where g.ok and c.ledger = g.ledger and c.stripe = ${stripe}
        and (select count(*) from locked) = (select count(*) from targets)
      for update of c
    ),
    link as (
      select h.seq, h.prev, h.ledger,
             encode(sha256(decode(h.prev, 'hex') || int8send(h.seq) || convert_to(h.ledger, 'UTF8') || decode(${digest}, 'hex')), 'hex') as hash
      from head h
    ),
    moved_head as (
      update ledger_chains c set seq = l.seq, head_hash = l.hash from link l where c.ledger = l.ledger and c.stripe = ${stripe} returning c.seq
    ),
    txn as (
      insert into ledger_transactions (id, ledger, chain_stripe, chain_seq, source, source_id, description, corrects_transaction_id, metadata, posted_at, prev_hash, hash, hash_version)
      select ${id}, l.ledger, ${stripe}, l.seq, ${input.source}, ${input.sourceId}, ${input.description}, null, ${JSON.stringify(metadata)}::jsonb,
             ${postedAt.toISOString()}::timestamptz, l.prev, l.hash, ${CURRENT_HASH_VERSION}
      from link l
      returning id
    ),
    ent as (
      insert into ledger_entries (transaction_id, line, account_id, currency, amount)
      select t.id, l.line, l.account_id, l.currency, l.amount from txn t, lines l
      returning line
    ),
    bal as (
      update ledger_balances b set balance = b.balance + t.delta, updated_at = now()
      from targets t where b.account_id = t.account_id and b.shard = t.shard and exists (select 1 from txn)
      returning 1
    )
    select g.ok, g.ledger, (select hash from link) as hash, (select count(*) from txn) as inserted, (select count(*) from ent) as entries,
           (select count(*) from bal) as balances, (select count(*) from moved_head) as heads,
           (select json_agg(json_build_object('line', line, 'account_id', account_id)) from lines) as accounts,
           -- Invariants the statement enforces on itself: an error here (a failed cast, the only way plain SQL raises)
           -- aborts the whole statement, so none of its writes survive even if a caller catches the error and
           -- commits. A missing balance row must not be a silent decline either: its shard locks would be kept.
           case when g.ok and (select count(*) from locked) <> (select count(*) from targets)
                  then ('ledger balance rows missing in ledger ' || g.ledger)::int
                when (select count(*) from txn) = 1 and ((select count(*) from ent) <> ${lines.length} or (select count(*) from bal) <> ${deltas.length}
                                                      or (select count(*) from moved_head) <> 1)
                  then ('ledger posting wrote an incomplete set in ledger ' || g.ledger)::int
                else 0 end as guard
    from gate g`)) as unknown as OneStatementRow[];
  // An incomplete write never gets here: the statement's own guard column raised and undid it.
  if (!row?.ok || Number(row.inserted) === 0) return null; // nothing written: the general path decides
  const accountIds = new Map((row.accounts ?? []).map((a) => [a.line, a.account_id!]));
  return {
    id,
    ledger: row.ledger,
    source: input.source,
    sourceId: input.sourceId,
    description: input.description,
    correctsTransactionId: null,
    postedAt,
    hash: row.hash!,
    replayed: false,
    entries: lines.map((l) => ({ line: l.line, accountId: accountIds.get(l.line)!, accountKey: l.key, currency: l.currency, amount: l.amount })),
  };
}

/**
 * Several postings in one DB transaction (e.g. one per payment order of a checkout), locked as ONE set in
 * the global order — idempotency locks sorted by key -> all balance rows sorted -> one chain stripe head —
 * so a batch can never deadlock with another batch or a single posting. Each input stays its own ledger
 * transaction, idempotent on its own (source, sourceId); all must belong to the same ledger (merchant).
 */
export async function postTransactions(tx: DbOrTx, inputs: readonly PostTransactionInput[]): Promise<PostedTransaction[]> {
  inputs.forEach(validatePosting);
  const keyOf = (i: PostTransactionInput) => `${i.source}:${i.sourceId}`;
  if (new Set(inputs.map(keyOf)).size !== inputs.length) throw new AppError("validation_failed", "ledger batch repeats a (source, source_id)");
  await lockSources(tx, inputs.map(keyOf));
  // Read after the locks (a later statement, so its snapshot sees what a holder of one of them committed).
  const existing = await loadTransactionsBySource(tx, inputs);
  const results: (PostedTransaction | undefined)[] = inputs.map((input) => {
    const found = existing.get(keyOf(input));
    return found ? assertSameReplay(found, input) : undefined;
  });
  const fresh = inputs.filter((_, i) => !results[i]);
  if (fresh.length === 0) return results as PostedTransaction[];
  const accounts = await ensureAccounts(tx, fresh.flatMap((i) => i.lines.map((l) => l.account)));
  for (const input of fresh) if (input.correctsTransactionId) await assertTransactionExists(tx, input.correctsTransactionId);

  const byId = new Map([...accounts.values()].map((a) => [a.id, a]));
  const deltas = new Map<string, bigint>();
  for (const input of fresh) {
    for (const [k, delta] of netByAccount(input.lines)) {
      const id = accounts.get(k)!.id;
      deltas.set(id, (deltas.get(id) ?? 0n) + delta);
    }
  }
  for (const [id, delta] of deltas) if (delta === 0n) deltas.delete(id);
  // Refused before any balance is written: a caller that catches the error and commits has changed nothing.
  const ledgers = new Set(fresh.map((input) => ledgerFor(input.lines.map((l) => accounts.get(accountMapKey(l.account))!))));
  if (ledgers.size > 1) throw new AppError("validation_failed", `ledger batch spans ledgers ${[...ledgers].join(", ")}`);
  const ledger = [...ledgers][0]!;
  if (deltas.size > 0) await applyBalanceDeltas(tx, byId, deltas);
  const stripe = randomInt(LEDGER_CHAIN_STRIPES);
  const toPost = inputs.flatMap((input, i) => (results[i] ? [] : [{ i, input }]));
  const posted = await appendToChain(
    tx,
    ledger,
    stripe,
    toPost.map(({ input }) => ({
      input,
      entries: input.lines.map((l, line) => {
        const a = accounts.get(accountMapKey(l.account))!;
        return { line, accountId: a.id, accountKey: a.key, currency: a.currency, amount: signedAmount(l) };
      }),
    })),
  );
  toPost.forEach(({ i }, k) => (results[i] = posted[k]));
  return results as PostedTransaction[];
}

/**
 * Takes the head of the given stripe of the ledger's chain (locked until commit) once for the whole batch, advancing
 * its seq by the batch's size; links the postings in order (each one's prev_hash is the one before's hash) and
 * writes them all with one insert of transactions, then one of entries and one head update sent together.
 */
async function appendToChain(tx: DbOrTx, ledger: string, stripe: number, batch: readonly { input: PostTransactionInput; entries: PostedEntry[] }[]): Promise<PostedTransaction[]> {
  const n = BigInt(batch.length);
  const [head] = await tx
    .insert(ledgerChains)
    .values({ ledger, stripe, seq: n, headHash: GENESIS_HASH })
    .onConflictDoUpdate({ target: [ledgerChains.ledger, ledgerChains.stripe], set: { seq: sql`${ledgerChains.seq} + ${n}` } })
    .returning({ seq: ledgerChains.seq, prevHash: ledgerChains.headHash });
  const firstSeq = head!.seq - n + 1n;
  let prevHash = head!.prevHash;
  const rows: (Omit<HashableTransaction, "entries"> & { prevHash: string; hash: string })[] = [];
  const out: PostedTransaction[] = [];
  batch.forEach(({ input, entries }, k) => {
    const hashable: HashableTransaction = {
      id: newId("ltx"),
      ledger,
      chainStripe: stripe,
      chainSeq: firstSeq + BigInt(k),
      source: input.source,
      sourceId: input.sourceId,
      description: input.description,
      correctsTransactionId: input.correctsTransactionId ?? null,
      metadata: { ...(input.metadata ?? {}) },
      // Millisecond precision: exactly what a JS Date (and the hashed ISO string) can represent.
      postedAt: new Date(),
      entries,
    };
    const hash = chainHashV2(prevHash, hashable.chainSeq, ledger, contentDigestV2(hashable));
    const { entries: _hashedEntries, ...columns } = hashable;
    rows.push({ ...columns, prevHash, hash, hashVersion: CURRENT_HASH_VERSION });
    prevHash = hash;
    out.push({
      id: hashable.id,
      ledger,
      source: input.source,
      sourceId: input.sourceId,
      description: input.description,
      correctsTransactionId: hashable.correctsTransactionId,
      postedAt: hashable.postedAt,
      hash,
      replayed: false,
      entries,
    });
  });
  const entryRows = batch.flatMap(({ entries }, k) => entries.map((e) => ({ transactionId: rows[k]!.id, line: e.line, accountId: e.accountId, currency: e.currency, amount: e.amount })));
  // In chunks: postgres.js takes at most 65,534 parameters per statement (a transaction row has about 13, an entry 5).
  for (let k = 0; k < rows.length; k += WRITE_CHUNK) await tx.insert(ledgerTransactions).values(rows.slice(k, k + WRITE_CHUNK));
  for (let k = WRITE_CHUNK; k < entryRows.length; k += WRITE_CHUNK) await tx.insert(ledgerEntries).values(entryRows.slice(k - WRITE_CHUNK, k));
  const lastEntries = entryRows.slice(Math.max(0, Math.ceil(entryRows.length / WRITE_CHUNK) - 1) * WRITE_CHUNK);
  // The entries (which reference the transactions, now inserted) and the head update depend on nothing of each
  // other, so they are sent together: one round trip instead of two, whatever order the driver runs them in. A failure
  // of either aborts the caller's transaction, so neither commits without the other.
  await Promise.all([
    tx.insert(ledgerEntries).values(lastEntries).execute(),
    tx.update(ledgerChains).set({ headHash: prevHash }).where(and(eq(ledgerChains.ledger, ledger), eq(ledgerChains.stripe, stripe))).execute(),
  ]);
  return out;
}

async function assertTransactionExists(tx: DbOrTx, id: string): Promise<void> {
  const [row] = await tx.select({ id: ledgerTransactions.id }).from(ledgerTransactions).where(eq(ledgerTransactions.id, id));
  if (!row) throw new AppError("not_found", `ledger transaction ${id} (to correct) not found`);
}

/** A replay must describe the same movement; the same key with other lines is a caller bug (409). */
function assertSameReplay(existing: PostedTransaction, input: PostTransactionInput): PostedTransaction {
  const wanted = input.lines.map((l) => `${accountKey(l.account)}:${l.amount.currency}:${signedAmount(l)}`);
  const have = existing.entries.map((e) => `${e.accountKey}:${e.currency}:${e.amount}`);
  if (wanted.join(",") !== have.join(",")) {
    throw new AppError("conflict", `ledger source ${input.source}/${input.sourceId} was already posted with different lines`, {
      details: { reason: "idempotency_key_reused", transactionId: existing.id },
    });
  }
  return existing;
}

/** The already-posted transactions among the inputs' (source, sourceId), keyed `source:sourceId`. */
async function loadTransactionsBySource(tx: DbOrTx, inputs: readonly PostTransactionInput[]): Promise<Map<string, PostedTransaction>> {
  const found = new Map<string, PostedTransaction>();
  if (inputs.length === 1) {
    const one = await loadTransactionBySource(tx, inputs[0]!.source, inputs[0]!.sourceId);
    if (one) found.set(`${one.source}:${one.sourceId}`, one);
    return found;
  }
  const rows = await tx
    .select()
    .from(ledgerTransactions)
    .where(
      sql`(${ledgerTransactions.source}, ${ledgerTransactions.sourceId}) in (select * from unnest(${sql.param(inputs.map((i) => i.source))}::text[], ${sql.param(inputs.map((i) => i.sourceId))}::text[]))`,
    );
  for (const row of rows) found.set(`${row.source}:${row.sourceId}`, await loadPosted(tx, row, true));
  return found;
}

export async function loadTransactionBySource(tx: DbOrTx, source: string, sourceId: string): Promise<PostedTransaction | null> {
  const [row] = await tx
    .select()
    .from(ledgerTransactions)
    .where(and(eq(ledgerTransactions.source, source), eq(ledgerTransactions.sourceId, sourceId)));
  return row ? loadPosted(tx, row, true) : null;
}

export async function getTransaction(tx: DbOrTx, id: string): Promise<PostedTransaction> {
  const [row] = await tx.select().from(ledgerTransactions).where(eq(ledgerTransactions.id, id));
  if (!row) throw new AppError("not_found", `ledger transaction ${id} not found`);
  return loadPosted(tx, row, false);
}

async function loadPosted(tx: DbOrTx, row: typeof ledgerTransactions.$inferSelect, replayed: boolean): Promise<PostedTransaction> {
  const entries = await tx
    .select({ line: ledgerEntries.line, accountId: ledgerEntries.accountId, accountKey: ledgerAccounts.key, currency: ledgerEntries.currency, amount: ledgerEntries.amount })
    .from(ledgerEntries)
    .innerJoin(ledgerAccounts, eq(ledgerAccounts.id, ledgerEntries.accountId))
    .where(eq(ledgerEntries.transactionId, row.id))
    .orderBy(asc(ledgerEntries.line));
  return {
    id: row.id,
    ledger: row.ledger,
    source: row.source,
    sourceId: row.sourceId,
    description: row.description,
    correctsTransactionId: row.correctsTransactionId,
    postedAt: row.postedAt,
    hash: row.hash,
    replayed,
    entries,
  };
}

/** Posts the exact opposite of `transactionId`, marked as correcting it. Idempotent on (source, sourceId). */
export async function reverseTransaction(
  tx: DbOrTx,
  input: { transactionId: string; source: string; sourceId: string; description: string },
): Promise<PostedTransaction> {
  const original = await getTransaction(tx, input.transactionId);
  const rows = await tx
    .select()
    .from(ledgerAccounts)
    .where(inArray(ledgerAccounts.id, original.entries.map((e) => e.accountId)));
  const byId = new Map(rows.map((a) => [a.id, a]));
  const lines = original.entries.map((e) => {
    const a = byId.get(e.accountId)!;
    const magnitude = e.amount > 0n ? e.amount : -e.amount;
    return { account: refForAccount(a), side: e.amount > 0n ? ("credit" as const) : ("debit" as const), amount: money(magnitude, a.currency) };
  });
  return postTransaction(tx, { source: input.source, sourceId: input.sourceId, description: input.description, lines, correctsTransactionId: original.id });
}
