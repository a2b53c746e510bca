// Merchant statements: every transaction of a merchant's ledger with its hashes, as JSON or CSV, and
// the offline check of such a file (`npm run ledger:verify -- --file statement.json`). The file carries
// everything the hash covers, so anyone can recompute the chain without our database.
import { parse as parseCsv } from "csv-parse/sync";
import { and, asc, eq, gte, inArray, lte, type SQL } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { ledgerAccounts, ledgerChains, ledgerEntries, ledgerTransactions } from "@/db/schema";
import { AppError } from "@/server/errors";
import { StripeWalker, type ChainBreak, type VerifyReport } from "./chain-verify";

export const STATEMENT_FORMAT = "paybridge-ledger-statement";
export const STATEMENT_VERSION = 1;
export const STATEMENT_MAX_TRANSACTIONS = 100_000;

export interface StatementEntry {
  line: number;
  accountId: string;
  accountKey: string;
  currency: string;
  /** Signed minor units as a decimal string (debit > 0). */
  amount: string;
}

export interface StatementTransaction {
  id: string;
  ledger: string;
  chainStripe: number;
  chainSeq: string;
  source: string;
  sourceId: string;
  description: string;
  correctsTransactionId: string | null;
  metadata: Record<string, string>;
  postedAt: string;
  prevHash: string;
  hash: string;
  /** The hash format (server/ledger/hash.ts); absent in files exported before version 2 existed, which are all 1. */
  hashVersion?: number;
  entries: StatementEntry[];
}

export interface Statement {
  format: typeof STATEMENT_FORMAT;
  version: number;
  ledger: string;
  exportedAt: string;
  /** Set when the export is a date range: its first transaction per stripe is then not checked against its predecessor. */
  range: { from: string | null; to: string | null } | null;
  /** Chain heads at export time (full exports only): compare with heads you saved earlier to detect rewrites. */
  heads: Array<{ stripe: number; seq: string; hash: string }>;
  transactions: StatementTransaction[];
}

export async function exportStatement(db: DbOrTx, input: { ledger: string; from?: Date; to?: Date }): Promise<Statement> {
  const conds: SQL[] = [eq(ledgerTransactions.ledger, input.ledger)];
  if (input.from) conds.push(gte(ledgerTransactions.postedAt, input.from));
  if (input.to) conds.push(lte(ledgerTransactions.postedAt, input.to));
  const rows = await db
    .select()
    .from(ledgerTransactions)
    .where(and(...conds))
    .orderBy(asc(ledgerTransactions.chainStripe), asc(ledgerTransactions.chainSeq))
    .limit(STATEMENT_MAX_TRANSACTIONS + 1);
  if (rows.length > STATEMENT_MAX_TRANSACTIONS) throw new AppError("validation_failed", `statement over ${STATEMENT_MAX_TRANSACTIONS} transactions; export a date range`);
  const entries = new Map<string, StatementEntry[]>();
  for (let i = 0; i < rows.length; i += 1000) {
    const ids = rows.slice(i, i + 1000).map((r) => r.id);
    const list = await db
      .select({ transactionId: ledgerEntries.transactionId, line: ledgerEntries.line, accountId: ledgerEntries.accountId, accountKey: ledgerAccounts.key, accountCurrency: ledgerAccounts.currency, currency: ledgerEntries.currency, amount: ledgerEntries.amount })
      .from(ledgerEntries)
      .innerJoin(ledgerAccounts, eq(ledgerAccounts.id, ledgerEntries.accountId))
      .where(inArray(ledgerEntries.transactionId, ids))
      .orderBy(asc(ledgerEntries.transactionId), asc(ledgerEntries.line));
    // An entry whose currency is not its account's (only possible with the database's checks bypassed) is written
    // as both, so the file shows it and its hash no longer verifies offline.
    const currencyOf = (e: { currency: string; accountCurrency: string }) => (e.currency === e.accountCurrency ? e.currency : `${e.currency}/${e.accountCurrency}`);
    for (const e of list) entries.set(e.transactionId, [...(entries.get(e.transactionId) ?? []), { line: e.line, accountId: e.accountId, accountKey: e.accountKey, currency: currencyOf(e), amount: e.amount.toString() }]);
  }
  const ranged = Boolean(input.from || input.to);
  const heads = ranged ? [] : await db.select().from(ledgerChains).where(eq(ledgerChains.ledger, input.ledger)).orderBy(asc(ledgerChains.stripe));
  return {
    format: STATEMENT_FORMAT,
    version: STATEMENT_VERSION,
    ledger: input.ledger,
    exportedAt: new Date().toISOString(),
    range: ranged ? { from: input.from?.toISOString() ?? null, to: input.to?.toISOString() ?? null } : null,
    heads: heads.map((h) => ({ stripe: h.stripe, seq: h.seq.toString(), hash: h.headHash })),
    transactions: rows.map((r) => ({
      id: r.id,
      ledger: r.ledger,
      chainStripe: r.chainStripe,
      chainSeq: r.chainSeq.toString(),
      source: r.source,
      sourceId: r.sourceId,
      description: r.description,
      correctsTransactionId: r.correctsTransactionId,
      metadata: r.metadata,
      postedAt: r.postedAt.toISOString(),
      prevHash: r.prevHash,
      hash: r.hash,
      hashVersion: r.hashVersion,
      entries: entries.get(r.id) ?? [],
    })),
  };
}

/** Recomputes every hash and link in the file. Pure: needs nothing but the statement. */
export function verifyStatement(s: Statement): VerifyReport {
  if (s.format !== STATEMENT_FORMAT || s.version !== STATEMENT_VERSION) {
    throw new AppError("validation_failed", `not a ${STATEMENT_FORMAT} v${STATEMENT_VERSION} file`);
  }
  const byStripe = new Map<number, StatementTransaction[]>();
  for (const t of s.transactions) byStripe.set(t.chainStripe, [...(byStripe.get(t.chainStripe) ?? []), t]);
  const stripes = new Set([...byStripe.keys(), ...s.heads.map((h) => h.stripe)]);
  const breaks: ChainBreak[] = [];
  let checked = 0;
  for (const stripe of [...stripes].sort((a, b) => a - b)) {
    const list = (byStripe.get(stripe) ?? []).sort((a, b) => (BigInt(a.chainSeq) < BigInt(b.chainSeq) ? -1 : 1));
    // A ranged export may start mid-chain; a full one must start at seq 1 from the genesis hash.
    const walker = new StripeWalker(s.ledger, stripe, { fromGenesis: s.range === null });
    for (const t of list) {
      const ok = walker.push({
        ...t,
        ledger: t.ledger,
        chainSeq: BigInt(t.chainSeq),
        postedAt: new Date(t.postedAt),
        entries: t.entries.map((e) => ({ line: e.line, accountId: e.accountId, accountKey: e.accountKey, currency: e.currency, amount: BigInt(e.amount) })),
      });
      if (!ok) break;
    }
    const head = s.heads.find((h) => h.stripe === stripe);
    const broken = walker.finish(head ? { seq: BigInt(head.seq), hash: head.hash } : null);
    checked += walker.checked;
    if (broken) breaks.push(broken);
  }
  return { ok: breaks.length === 0, transactionsChecked: checked, stripesChecked: stripes.size, breaks };
}

// ---------------------------------------------------------------------------------------------------
// CSV: one row per entry; transaction columns repeat on each of its rows. Heads and the range go in
// `#`-prefixed header lines so a spreadsheet still opens the table.
const CSV_COLUMNS = [
  "transaction_id", "ledger", "chain_stripe", "chain_seq", "source", "source_id", "description", "corrects_transaction_id",
  "metadata_json", "posted_at", "prev_hash", "hash", "line", "account_id", "account_key", "currency", "amount", "hash_version",
] as const;

function csvField(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function statementToCsv(s: Statement): string {
  const meta = { format: s.format, version: s.version, ledger: s.ledger, exportedAt: s.exportedAt, range: s.range, heads: s.heads };
  const out = [`# ${JSON.stringify(meta)}`, CSV_COLUMNS.join(",")];
  for (const t of s.transactions) {
    for (const e of t.entries) {
      const row = [t.id, t.ledger, String(t.chainStripe), t.chainSeq, t.source, t.sourceId, t.description, t.correctsTransactionId ?? "",
        JSON.stringify(t.metadata), t.postedAt, t.prevHash, t.hash, String(e.line), e.accountId, e.accountKey, e.currency, e.amount, String(t.hashVersion ?? 1)];
      out.push(row.map(csvField).join(","));
    }
  }
  return `${out.join("\n")}\n`;
}

export function statementFromCsv(text: string): Statement {
  const firstLine = text.slice(0, text.indexOf("\n"));
  if (!firstLine.startsWith("# ")) throw new AppError("validation_failed", "CSV statement must start with its `# {…}` header line");
  const meta = JSON.parse(firstLine.slice(2)) as Omit<Statement, "transactions">;
  const records = parseCsv(text.slice(firstLine.length + 1), { columns: true, skip_empty_lines: true }) as Array<Record<(typeof CSV_COLUMNS)[number], string>>;
  const txns = new Map<string, StatementTransaction>();
  for (const r of records) {
    let t = txns.get(r.transaction_id);
    if (!t) {
      t = {
        id: r.transaction_id, ledger: r.ledger, chainStripe: Number(r.chain_stripe), chainSeq: r.chain_seq, source: r.source, sourceId: r.source_id,
        description: r.description, correctsTransactionId: r.corrects_transaction_id || null, metadata: JSON.parse(r.metadata_json) as Record<string, string>,
        postedAt: r.posted_at, prevHash: r.prev_hash, hash: r.hash, hashVersion: r.hash_version ? Number(r.hash_version) : 1, entries: [],
      };
      txns.set(t.id, t);
    }
    t.entries.push({ line: Number(r.line), accountId: r.account_id, accountKey: r.account_key, currency: r.currency, amount: r.amount });
  }
  return { ...meta, transactions: [...txns.values()] };
}

/** Reads a statement file's text: JSON, or CSV with the `#` header line. */
export function parseStatement(text: string): Statement {
  const trimmed = text.trimStart();
  return trimmed.startsWith("{") ? (JSON.parse(trimmed) as Statement) : statementFromCsv(trimmed);
}
