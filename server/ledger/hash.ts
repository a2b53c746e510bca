// The hash chain's content hash: pure, shared by posting, `ledger:verify` and offline statement checks.
// Canonical form is a JSON array (no key-order ambiguity); amounts and sequence numbers are decimal strings.
import { createHash } from "node:crypto";

export const GENESIS_HASH = "0".repeat(64);
const HASH_FORMAT_VERSION = "paybridge-ledger-v1";

export interface HashableEntry {
  line: number;
  accountId: string;
  currency: string;
  /** Signed minor units: debit > 0, credit < 0. */
  amount: bigint;
}

export interface HashableTransaction {
  id: string;
  ledger: string;
  chainStripe: number;
  chainSeq: bigint;
  source: string;
  sourceId: string;
  description: string;
  correctsTransactionId: string | null;
  metadata: Readonly<Record<string, string>>;
  postedAt: Date;
  entries: readonly HashableEntry[];
}

export function canonicalTransaction(t: HashableTransaction): string {
  const metadata = Object.keys(t.metadata)
    .sort()
    .map((k) => [k, t.metadata[k]]);
  const entries = [...t.entries]
    .sort((a, b) => a.line - b.line)
    .map((e) => [e.line, e.accountId, e.currency, e.amount.toString()]);
  return JSON.stringify([
    HASH_FORMAT_VERSION,
    t.id,
    t.ledger,
    t.chainStripe,
    t.chainSeq.toString(),
    t.source,
    t.sourceId,
    t.description,
    t.correctsTransactionId,
    metadata,
    t.postedAt.toISOString(),
    entries,
  ]);
}

/** sha256(prev_hash || "\n" || canonical content), hex. */
export function transactionHash(prevHash: string, t: HashableTransaction): string {
  return createHash("sha256").update(`${prevHash}\n${canonicalTransaction(t)}`).digest("hex");
}
