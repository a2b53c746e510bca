// Pure chain walking: the same check runs on rows read from the database and on an exported statement.
import { GENESIS_HASH, transactionHash, type HashableTransaction } from "./hash";

export type ChainBreakReason =
  /** The stored hash does not match the content: an amount, account, date… was edited. */
  | "content_altered"
  /** prev_hash does not name the previous transaction's hash: a link was rewritten. */
  | "link_broken"
  /** A sequence number is missing or repeated: a transaction was removed or inserted. */
  | "sequence_gap"
  /** The chain head recorded for the stripe does not match its last transaction (tail removed). */
  | "head_mismatch"
  /** The transaction a verified checkpoint names is gone, or its seq or hash changed since it was verified. */
  | "checkpoint_mismatch";

export interface ChainBreak {
  ledger: string;
  stripe: number;
  /** The first transaction at which the chain no longer verifies (null for a head mismatch on an empty chain). */
  transactionId: string | null;
  seq: bigint | null;
  reason: ChainBreakReason;
  detail: string;
}

export interface ChainTransaction extends HashableTransaction {
  prevHash: string;
  hash: string;
}

/** Where a walk starts: genesis, anywhere (a date-ranged statement: its first transaction is taken as is), or after a known point. */
export type StripeWalkStart = { fromGenesis: boolean } | { after: { seq: bigint; hash: string } };

/**
 * Incremental walker over one stripe, in sequence order. `{ fromGenesis: false }` lets a statement that begins
 * mid-chain (a date range) be checked from its first transaction on; `{ after: { seq, hash } }` starts right after a
 * verified checkpoint (ledger:verify's incremental mode): the next transaction must be seq + 1 and link to that hash.
 */
export class StripeWalker {
  private prevHash: string | null;
  private nextSeq: bigint | null;
  /** The last transaction walked (null until one is): what a checkpoint records. */
  last: { id: string; seq: bigint; hash: string } | null = null;
  checked = 0;
  broken: ChainBreak | null = null;

  constructor(
    readonly ledger: string,
    readonly stripe: number,
    opts: StripeWalkStart = { fromGenesis: true },
  ) {
    if ("after" in opts) {
      this.prevHash = opts.after.hash;
      this.nextSeq = opts.after.seq + 1n;
    } else {
      this.prevHash = opts.fromGenesis ? GENESIS_HASH : null;
      this.nextSeq = opts.fromGenesis ? 1n : null;
    }
  }

  /** Feeds the next transaction; returns false once the chain is broken (later ones are not checked). */
  push(t: ChainTransaction): boolean {
    if (this.broken) return false;
    const fail = (reason: ChainBreakReason, detail: string) => {
      this.broken = { ledger: this.ledger, stripe: this.stripe, transactionId: t.id, seq: t.chainSeq, reason, detail };
      return false;
    };
    if (this.nextSeq !== null && t.chainSeq !== this.nextSeq) {
      return fail("sequence_gap", `expected sequence ${this.nextSeq}, found ${t.chainSeq}`);
    }
    if (this.prevHash !== null && t.prevHash !== this.prevHash) {
      return fail("link_broken", `prev_hash ${t.prevHash} does not match the previous hash ${this.prevHash}`);
    }
    const recomputed = transactionHash(t.prevHash, t);
    if (recomputed !== t.hash) return fail("content_altered", `stored hash ${t.hash}, content hashes to ${recomputed}`);
    this.prevHash = t.hash;
    this.nextSeq = t.chainSeq + 1n;
    this.last = { id: t.id, seq: t.chainSeq, hash: t.hash };
    this.checked++;
    return true;
  }

  /** Records a break found outside the walk (a checkpointed transaction gone or changed). */
  fail(transactionId: string | null, seq: bigint | null, reason: ChainBreakReason, detail: string): ChainBreak {
    this.broken ??= { ledger: this.ledger, stripe: this.stripe, transactionId, seq, reason, detail };
    return this.broken;
  }

  /** Compares the recorded head (seq + hash) with the last transaction walked. */
  finish(head: { seq: bigint; hash: string } | null): ChainBreak | null {
    if (this.broken || !head) return this.broken;
    const lastSeq = this.nextSeq === null ? null : this.nextSeq - 1n;
    if (lastSeq !== head.seq || this.prevHash !== head.hash) {
      this.broken = {
        ledger: this.ledger,
        stripe: this.stripe,
        transactionId: null,
        seq: head.seq,
        reason: "head_mismatch",
        detail: `chain head says seq ${head.seq} hash ${head.hash}; last transaction is seq ${lastSeq} hash ${this.prevHash}`,
      };
    }
    return this.broken;
  }
}

export interface VerifyReport {
  ok: boolean;
  /** Transactions walked: in incremental mode only those after each stripe's checkpoint. */
  transactionsChecked: number;
  stripesChecked: number;
  /** Database runs: `full` walked from genesis, `incremental` from each stripe's checkpoint. Absent for a statement. */
  mode?: "incremental" | "full";
  elapsedMs?: number;
  /** Checkpoints written after the walk (stripes that verified and advanced). */
  checkpointsWritten?: number;
  /** First break of each broken stripe, in (ledger, stripe) order; `breaks[0]` is the one to report. */
  breaks: ChainBreak[];
}

/** `mode, elapsed, transactions/s` for a database run (empty for a statement). */
export function formatVerifyThroughput(r: VerifyReport): string {
  if (r.mode === undefined || r.elapsedMs === undefined) return "";
  const perSecond = r.elapsedMs > 0 ? Math.round((r.transactionsChecked * 1000) / r.elapsedMs) : r.transactionsChecked;
  return `mode ${r.mode}: ${r.transactionsChecked} transactions in ${(r.elapsedMs / 1000).toFixed(2)} s (${perSecond} transactions/s), ${r.checkpointsWritten ?? 0} checkpoints written`;
}

export function formatVerifyReport(r: VerifyReport): string {
  if (r.ok) return `ledger chain OK: ${r.transactionsChecked} transactions in ${r.stripesChecked} chain stripes verified${r.mode === "incremental" ? " (after their checkpoints)" : ""}`;
  const b = r.breaks[0]!;
  const lines = [
    `ledger chain BROKEN at transaction ${b.transactionId ?? "(chain head)"} (ledger ${b.ledger}, stripe ${b.stripe}, seq ${b.seq}): ${b.reason}`,
    `  ${b.detail}`,
  ];
  if (r.breaks.length > 1) lines.push(`  ${r.breaks.length - 1} other stripe(s) also broken: ${r.breaks.slice(1).map((x) => x.transactionId ?? `${x.ledger}/${x.stripe} head`).join(", ")}`);
  lines.push(`  (${r.transactionsChecked} transactions verified before the break(s), ${r.stripesChecked} stripes)`);
  return lines.join("\n");
}
