/**
 * Ledger: double-entry, append-only, hash-chained. The only writer of money movement (docs/ledger.md).
 *
 * API (all take a Drizzle `db` or `tx` first; writes run in the CALLER's transaction):
 *
 *   postTransaction(tx, { source, sourceId, description, lines, correctsTransactionId?, metadata? })
 *     -> PostedTransaction. Lines are `{ account: AccountRef, side: "debit" | "credit", amount: Money }`
 *     with positive bigint amounts; debits == credits per currency. Idempotent on (source, sourceId):
 *     a replay returns the first transaction with `replayed: true` and writes nothing (different lines
 *     under the same key -> AppError "conflict", details.reason "idempotency_key_reused"). Lowering a
 *     no-negative account below zero -> AppError "conflict", details.reason "insufficient_funds"
 *     (`isInsufficientFunds(err)`); the caller's transaction is then aborted and must roll back.
 *     Post last in your transaction: the chain stripe head stays locked until commit.
 *   postTransactions(tx, inputs[]) -> PostedTransaction[]: several postings of one ledger in one DB transaction,
 *     locked as one set (no deadlock with other postings); each stays its own transaction, idempotent on its key.
 *   reverseTransaction(tx, { transactionId, source, sourceId, description }) -> the opposite posting,
 *     marked as correcting the original. For partial corrections use postTransaction with
 *     `correctsTransactionId`.
 *   accountFor.pspClearing(psp, cur) / sellerPending(sellerId, cur) / sellerAvailable / sellerOnHold /
 *     platform("platform_fees" | "psp_fees" | "payouts_in_transit" | "refunds" | "disputes" |
 *     "recon_adjustments", cur) -> AccountRef. Accounts are created on first posting.
 *   createAccount(tx, ref, { balanceShards }) — pre-create an account, e.g. a known-hot seller with more shards.
 *   getTransaction(db, id), loadTransactionBySource(db, source, sourceId).
 *   verifyLedger(db, { ledger?, full? }) -> VerifyReport (hash chain walk from each stripe's checkpoint, or from
 *     genesis with `full`; `npm run ledger:verify`).
 *   checkLedgerInvariants(db, { full? }) -> InvariantReport (balance == latest snapshot + later entries etc., or
 *     every balance from all entries with `full`; `npm run ledger:check`); recordLedgerCheckRun(db, report).
 *   takeBalanceSnapshot(db, { now? }) -> BalanceSnapshotResult (hourly, from housekeeping: balances as of now − 15 min).
 *   exportStatement(db, { ledger: merchantId, from?, to? }) -> Statement; statementToCsv / parseStatement /
 *     verifyStatement for the offline check (`npm run ledger:verify -- --file statement.json`).
 *
 * Balances, wallets and holds: see server/wallet.
 */
export {
  ACCOUNT_SPECS,
  accountFor,
  accountKey,
  createAccount,
  refForAccount,
  type AccountKind,
  type AccountRef,
  type LedgerAccount,
  type LedgerSide,
  type PlatformAccountKind,
  type SellerAccountKind,
} from "./accounts";
export { isInsufficientFunds } from "./balances";
export { formatVerifyReport, formatVerifyThroughput, type ChainBreak, type VerifyReport } from "./chain-verify";
export { checkLedgerInvariants, formatCheckThroughput, formatInvariantReport, recordLedgerCheckRun, type InvariantReport } from "./check-balances";
export {
  LEDGER_CHAIN_STRIPES,
  PLATFORM_LEDGER,
  getTransaction,
  loadTransactionBySource,
  postTransaction,
  postTransactions,
  reverseTransaction,
  type PostedEntry,
  type PostedTransaction,
} from "./post-transaction";
export { exportStatement, parseStatement, statementToCsv, verifyStatement, type Statement } from "./statement";
export { type PostTransactionInput, type PostingLine } from "./validate";
export { verifyLedger, type VerifyLedgerOptions } from "./verify-ledger";
export { SNAPSHOT_LAG_MS, takeBalanceSnapshot, type BalanceSnapshotResult } from "./snapshots";
