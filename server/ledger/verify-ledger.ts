// Walks every hash chain stripe in the database (or one ledger's) and reports the first break of each.
import { and, asc, eq, gt, inArray, sql } from "drizzle-orm";
import type { Db, DbOrTx } from "@/db/client";
import { ledgerAccounts, ledgerEntries, ledgerTransactions } from "@/db/schema";
import { StripeWalker, type ChainBreak, type ChainTransaction, type VerifyReport } from "./chain-verify";

export const VERIFY_BATCH_SIZE = 500;

interface StripeRow {
  ledger: string;
  stripe: number;
  head_seq: bigint | null;
  head_hash: string | null;
}

/** Runs in one REPEATABLE READ snapshot, so heads and transactions agree while postings continue. */
export async function verifyLedger(db: Db, options: { ledger?: string } = {}): Promise<VerifyReport> {
  return db.transaction((tx) => verifySnapshot(tx, options), { isolationLevel: "repeatable read", accessMode: "read only" });
}

async function verifySnapshot(db: DbOrTx, options: { ledger?: string }): Promise<VerifyReport> {
  const filter = options.ledger ? sql`where ledger = ${options.ledger}` : sql``;
  // Stripes named by a chain head or by any transaction: a transaction in a stripe without a head still gets walked.
  const stripes = (await db.execute(sql`
    select s.ledger, s.stripe, c.seq as head_seq, c.head_hash
    from (select ledger, stripe from ledger_chains ${filter}
          union select distinct ledger, chain_stripe from ledger_transactions ${filter}) s
    left join ledger_chains c on c.ledger = s.ledger and c.stripe = s.stripe
    order by s.ledger, s.stripe`)) as unknown as StripeRow[];
  const breaks: ChainBreak[] = [];
  let checked = 0;
  for (const s of stripes) {
    const walker = new StripeWalker(s.ledger, s.stripe);
    await walkStripe(db, walker);
    const head = s.head_seq === null ? { seq: 0n, hash: "" } : { seq: BigInt(s.head_seq), hash: s.head_hash! };
    const broken = walker.finish(head);
    checked += walker.checked;
    if (broken) breaks.push(broken);
  }
  return { ok: breaks.length === 0, transactionsChecked: checked, stripesChecked: stripes.length, breaks };
}

async function walkStripe(db: DbOrTx, walker: StripeWalker): Promise<void> {
  let after = 0n;
  for (;;) {
    const rows = await db
      .select()
      .from(ledgerTransactions)
      .where(and(eq(ledgerTransactions.ledger, walker.ledger), eq(ledgerTransactions.chainStripe, walker.stripe), gt(ledgerTransactions.chainSeq, after)))
      .orderBy(asc(ledgerTransactions.chainSeq))
      .limit(VERIFY_BATCH_SIZE);
    if (rows.length === 0) return;
    // With each account's key: v2 hashes accounts by key and currency (an entry moved to another account changes both).
    const entries = await db
      .select({ transactionId: ledgerEntries.transactionId, line: ledgerEntries.line, accountId: ledgerEntries.accountId, accountKey: ledgerAccounts.key, accountCurrency: ledgerAccounts.currency, currency: ledgerEntries.currency, amount: ledgerEntries.amount })
      .from(ledgerEntries)
      .innerJoin(ledgerAccounts, eq(ledgerAccounts.id, ledgerEntries.accountId))
      .where(inArray(ledgerEntries.transactionId, rows.map((r) => r.id)));
    const byTxn = new Map<string, ChainTransaction["entries"][number][]>();
    for (const e of entries) {
      const list = byTxn.get(e.transactionId) ?? [];
      list.push({ line: e.line, accountId: e.accountId, accountKey: e.accountKey, accountCurrency: e.accountCurrency, currency: e.currency, amount: e.amount });
      byTxn.set(e.transactionId, list);
    }
    for (const r of rows) {
      if (!walker.push({ ...r, entries: byTxn.get(r.id) ?? [] })) return;
    }
    after = rows[rows.length - 1]!.chainSeq;
  }
}
