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
import { GENESIS_HASH, transactionHash, type HashableTransaction } from "./hash";
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

export async function postTransaction(tx: DbOrTx, input: PostTransactionInput): Promise<PostedTransaction> {
  const [posted] = await postTransactions(tx, [input]);
  return posted!;
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
  // Serializes postings of the same (source, sourceId); a later one then sees the first's committed row. One
  // statement takes them all, ordered by the lock's own key (hashtext), distinct, from a sorted subquery that feeds
  // the lock calls row by row: two batches lock in the same order even when two keys share a hash.
  const keys = inputs.map(keyOf);
  if (keys.length === 1) await tx.execute(sql`select pg_advisory_xact_lock(${IDEMPOTENCY_LOCK_NAMESPACE}, hashtext(${keys[0]!}))`);
  else {
    await tx.execute(
      sql`select pg_advisory_xact_lock(${IDEMPOTENCY_LOCK_NAMESPACE}, h) from (select distinct hashtext(k) as h from unnest(${sql.param(keys)}::text[]) as k order by h) ordered`,
    );
  }
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
    const hash = transactionHash(prevHash, hashable);
    const { entries: _hashedEntries, ...columns } = hashable;
    rows.push({ ...columns, prevHash, hash });
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
