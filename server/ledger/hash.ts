// The hash chain's content hash: pure, shared by posting, `ledger:verify` and offline statement checks.
// Canonical form is a JSON array (no key-order ambiguity); amounts and sequence numbers are decimal strings.
//
// Two formats (ledger_transactions.hash_version; docs/ledger.md, "Hash chain"):
// - v1: sha256(prev_hash || "\n" || canonical JSON of everything, chain position and account ids included).
// - v2: sha256(prev_hash bytes || seq as 8 bytes big-endian || ledger in UTF-8 || content digest), where the content
//   digest is sha256 of the canonical JSON of what the posting says (accounts by key and currency), known before
//   any round trip. The three chain-dependent parts are joined by Postgres itself (sha256(), int8send()), so a posting
//   is linked in the same statement that takes the chain head (server/ledger/post-transaction.ts, the one-statement
//   path). Every part but the ledger has a fixed length, so the concatenation is unambiguous.
import { createHash } from "node:crypto";

export const GENESIS_HASH = "0".repeat(64);
const HASH_FORMAT_VERSION = "paybridge-ledger-v1";
const HASH_FORMAT_V2 = "paybridge-ledger-v2";
/** The format every new posting is written in. */
export const CURRENT_HASH_VERSION = 2;

export interface HashableEntry {
  line: number;
  accountId: string;
  /** The account's stable key (v2 hashes the account by key and currency; v1 by id). */
  accountKey?: string;
  /**
   * The currency of the account the entry points to, when read from the database: v2 names an account by key and
   * currency, so an entry pointing to the same key in another currency must not hash like the original.
   */
  accountCurrency?: string;
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
  /** 1 or 2 (see above); absent means 1, as in statements exported before v2 existed. */
  hashVersion?: number;
}

/** Metadata as [key, value] pairs in key order: no key-order ambiguity in either format. */
function sortedMetadata(metadata: Readonly<Record<string, string>>): [string, string | undefined][] {
  return Object.keys(metadata)
    .sort()
    .map((k) => [k, metadata[k]]);
}

export function canonicalTransaction(t: HashableTransaction): string {
  const metadata = sortedMetadata(t.metadata);
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

/** The hash of `t` after `prevHash`, in the format `t` was written with (hex). */
export function transactionHash(prevHash: string, t: HashableTransaction): string {
  if ((t.hashVersion ?? 1) === 1) return createHash("sha256").update(`${prevHash}\n${canonicalTransaction(t)}`).digest("hex");
  if (t.hashVersion !== CURRENT_HASH_VERSION) throw new Error(`unknown ledger hash version ${t.hashVersion}`);
  return chainHashV2(prevHash, t.chainSeq, t.ledger, contentDigestV2(t));
}

/** What a v2 posting says, without its place in the chain (ledger, seq, prev hash): computable before it is linked. */
export type DigestableTransaction = Pick<HashableTransaction, "id" | "chainStripe" | "source" | "sourceId" | "description" | "correctsTransactionId" | "metadata" | "postedAt"> & {
  entries: readonly Pick<HashableEntry, "line" | "accountKey" | "accountCurrency" | "currency" | "amount">[];
};

export function canonicalContentV2(t: DigestableTransaction): string {
  const metadata = sortedMetadata(t.metadata);
  const entries = [...t.entries]
    .sort((a, b) => a.line - b.line)
    .map((e) => {
      // An entry read without its account's key cannot be checked: hash something no content can produce.
      if (e.accountKey === undefined) return [e.line, null, e.currency, e.amount.toString()];
      // Likewise an entry whose currency is not its account's (possible only with the database's checks bypassed).
      if (e.accountCurrency !== undefined && e.accountCurrency !== e.currency) return [e.line, e.accountKey, null, e.amount.toString()];
      return [e.line, e.accountKey, e.currency, e.amount.toString()];
    });
  return JSON.stringify([HASH_FORMAT_V2, t.id, t.chainStripe, t.source, t.sourceId, t.description, t.correctsTransactionId, metadata, t.postedAt.toISOString(), entries]);
}

/** sha256 of the v2 canonical content, hex. */
export function contentDigestV2(t: DigestableTransaction): string {
  return createHash("sha256").update(canonicalContentV2(t)).digest("hex");
}

/** The v2 link: sha256(prev || int8send(seq) || ledger || digest), exactly what the posting statement computes in SQL. */
export function chainHashV2(prevHash: string, seq: bigint, ledger: string, digestHex: string): string {
  const seqBytes = Buffer.alloc(8);
  seqBytes.writeBigInt64BE(seq);
  return createHash("sha256").update(Buffer.from(prevHash, "hex")).update(seqBytes).update(Buffer.from(ledger, "utf8")).update(Buffer.from(digestHex, "hex")).digest("hex");
}
