import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  check,
  foreignKey,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  unique,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { newId } from "../ids";
import { createdAt, updatedAt } from "./columns";
import { merchants, sellers } from "./merchants";

// Double-entry ledger (server/ledger) and wallet holds (server/wallet). See docs/ledger.md.
// Append-only is enforced by triggers in the migrations, not only by the code: accounts, transactions
// and entries refuse UPDATE/DELETE; a deferred constraint trigger refuses a transaction whose entries
// do not sum to zero per currency.

export const ledgerAccountKind = pgEnum("ledger_account_kind", [
  "psp_clearing",
  "seller_payable_pending",
  "seller_payable_available",
  "seller_payable_on_hold",
  "seller_receivable",
  "platform_fees",
  "psp_fees",
  "payouts_in_transit",
  "refunds",
  "disputes",
  "recon_adjustments",
  "buyer_refunds_payable",
]);

export const ledgerSide = pgEnum("ledger_side", ["debit", "credit"]);

export const walletHoldStatus = pgEnum("wallet_hold_status", ["placed", "released", "captured"]);

/** One account per (key, currency). Immutable once created. */
export const ledgerAccounts = pgTable(
  "ledger_accounts",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("lac")),
    /** Stable code, e.g. `psp_clearing:stripe`, `seller_payable_pending:sel_…`, `platform_fees`. */
    key: text("key").notNull(),
    kind: ledgerAccountKind("kind").notNull(),
    currency: text("currency").notNull(),
    /** The merchant whose ledger (hash chain) postings to this account belong to; null = platform. */
    merchantId: text("merchant_id").references(() => merchants.id),
    sellerId: text("seller_id").references(() => sellers.id),
    normalSide: ledgerSide("normal_side").notNull(),
    allowNegative: boolean("allow_negative").notNull(),
    /** Number of rows its materialized balance is split over (hot accounts > 1). */
    balanceShards: smallint("balance_shards").notNull().default(1),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("ledger_accounts_key_currency_uq").on(t.key, t.currency),
    // Target of the entries' composite FK: an entry's currency is its account's currency.
    unique("ledger_accounts_id_currency_uq").on(t.id, t.currency),
    index("ledger_accounts_merchant_idx").on(t.merchantId),
    index("ledger_accounts_seller_idx").on(t.sellerId),
    check("ledger_accounts_currency_format", sql`${t.currency} ~ '^[A-Z]{3}$'`),
    check("ledger_accounts_shards_range", sql`${t.balanceShards} between 1 and 64`),
  ],
);

/** A posted transaction: the unit of idempotency and of the hash chain. Immutable. */
export const ledgerTransactions = pgTable(
  "ledger_transactions",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("ltx")),
    /** `platform` or a merchant id: the hash chain this transaction is linked into. */
    ledger: text("ledger").notNull(),
    /** The chain stripe within the ledger (see docs/ledger.md, "Hash chain"). */
    chainStripe: smallint("chain_stripe").notNull(),
    chainSeq: bigint("chain_seq", { mode: "bigint" }).notNull(),
    /** Idempotency: what caused the posting (e.g. `payment_order`, order id). */
    source: text("source").notNull(),
    sourceId: text("source_id").notNull(),
    description: text("description").notNull(),
    correctsTransactionId: text("corrects_transaction_id"),
    metadata: jsonb("metadata").$type<Record<string, string>>().notNull().default({}),
    /** Set by the application with millisecond precision so the hashed ISO string round-trips exactly. */
    postedAt: timestamp("posted_at", { withTimezone: true, mode: "date" }).notNull(),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
    /**
     * How `hash` is computed (server/ledger/hash.ts): 1 = sha256 of prev hash and the whole canonical content, computed
     * in Node; 2 = sha256(prev hash || seq || ledger || content digest), so Postgres can link a posting in the same
     * statement that writes it. Rows keep the version they were written with.
     */
    hashVersion: smallint("hash_version").notNull().default(1),
  },
  (t) => [
    uniqueIndex("ledger_transactions_source_uq").on(t.source, t.sourceId),
    uniqueIndex("ledger_transactions_chain_uq").on(t.ledger, t.chainStripe, t.chainSeq),
    index("ledger_transactions_posted_at_idx").on(t.postedAt),
    index("ledger_transactions_corrects_idx").on(t.correctsTransactionId),
    foreignKey({ columns: [t.correctsTransactionId], foreignColumns: [t.id], name: "ledger_transactions_corrects_fk" }),
    check("ledger_transactions_hash_format", sql`${t.hash} ~ '^[0-9a-f]{64}$' and ${t.prevHash} ~ '^[0-9a-f]{64}$'`),
    check("ledger_transactions_seq_positive", sql`${t.chainSeq} >= 1`),
    check("ledger_transactions_hash_version", sql`${t.hashVersion} in (1, 2)`),
    check("ledger_transactions_source_not_blank", sql`length(${t.source}) > 0 and length(${t.sourceId}) > 0`),
  ],
);

/** One leg of a transaction. Signed amount: debit > 0, credit < 0. Immutable. */
export const ledgerEntries = pgTable(
  "ledger_entries",
  {
    transactionId: text("transaction_id")
      .notNull()
      .references(() => ledgerTransactions.id),
    line: smallint("line").notNull(),
    accountId: text("account_id").notNull(),
    currency: text("currency").notNull(),
    amount: bigint("amount", { mode: "bigint" }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.transactionId, t.line] }),
    foreignKey({
      columns: [t.accountId, t.currency],
      foreignColumns: [ledgerAccounts.id, ledgerAccounts.currency],
      name: "ledger_entries_account_fk",
    }),
    // An account's entries in id order, and ltx ids are ULIDs minted with posted_at: a point-in-time balance reads
    // only the entries after the account's last snapshot (server/wallet/get-balance.ts), not all of them.
    index("ledger_entries_account_txn_idx").on(t.accountId, t.transactionId),
    check("ledger_entries_amount_nonzero", sql`${t.amount} <> 0`),
  ],
);

/**
 * Materialized balance, split over `balance_shards` rows per account so concurrent postings to a hot
 * account lock different rows. Account balance = sum over its shards = sum of its entries (signed).
 */
export const ledgerBalances = pgTable(
  "ledger_balances",
  {
    accountId: text("account_id")
      .notNull()
      .references(() => ledgerAccounts.id),
    shard: smallint("shard").notNull(),
    /** Signed sum (debit > 0) of the entries applied to this shard. */
    balance: bigint("balance", { mode: "bigint" }).notNull().default(sql`0`),
    /** Copied from the account so a CHECK can refuse a negative shard without a join. */
    normalSign: smallint("normal_sign").notNull(),
    allowNegative: boolean("allow_negative").notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.shard] }),
    check("ledger_balances_normal_sign", sql`${t.normalSign} in (1, -1)`),
    // Every shard of a no-negative account stays >= 0 in its normal direction, so their sum does too.
    check("ledger_balances_not_negative", sql`${t.allowNegative} or ${t.balance} * ${t.normalSign} >= 0`),
  ],
);

/** The head of each hash chain stripe: the last sequence number and hash. */
export const ledgerChains = pgTable(
  "ledger_chains",
  {
    ledger: text("ledger").notNull(),
    stripe: smallint("stripe").notNull(),
    seq: bigint("seq", { mode: "bigint" }).notNull(),
    headHash: text("head_hash").notNull(),
  },
  (t) => [primaryKey({ columns: [t.ledger, t.stripe] })],
);

/**
 * The last verified point of each chain stripe (`npm run ledger:verify`): an incremental run starts from here and
 * walks only what was posted since; `--full` walks from genesis and rewrites it.
 */
export const ledgerChainCheckpoints = pgTable(
  "ledger_chain_checkpoints",
  {
    ledger: text("ledger").notNull(),
    stripe: smallint("stripe").notNull(),
    seq: bigint("seq", { mode: "bigint" }).notNull(),
    transactionId: text("transaction_id").notNull(),
    hash: text("hash").notNull(),
    verifiedAt: timestamp("verified_at", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.ledger, t.stripe] }), check("ledger_chain_checkpoints_hash_format", sql`${t.hash} ~ '^[0-9a-f]{64}$'`)],
);

/**
 * A run of the periodic balance snapshot: every account's balance as of `cutoff` (entries of transactions posted
 * at or before it) is its latest snapshot row at or before `cutoff`. Runs only write accounts that moved.
 */
export const ledgerSnapshotRuns = pgTable("ledger_snapshot_runs", {
  cutoff: timestamp("cutoff", { withTimezone: true, mode: "date" }).primaryKey(),
  /** Accounts whose balance changed since the previous run (one snapshot row each). */
  accounts: integer("accounts").notNull(),
  entries: bigint("entries", { mode: "bigint" }).notNull(),
  takenAt: timestamp("taken_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

/** One account's signed balance (debit > 0) as of a snapshot run's cutoff. */
export const ledgerBalanceSnapshots = pgTable(
  "ledger_balance_snapshots",
  {
    accountId: text("account_id")
      .notNull()
      .references(() => ledgerAccounts.id),
    cutoff: timestamp("cutoff", { withTimezone: true, mode: "date" })
      .notNull()
      .references(() => ledgerSnapshotRuns.cutoff),
    balance: bigint("balance", { mode: "bigint" }).notNull(),
  },
  // A run's rows (ledger:check re-derives each new run): by cutoff, not a scan of every snapshot ever taken.
  (t) => [primaryKey({ columns: [t.accountId, t.cutoff] }), index("ledger_balance_snapshots_cutoff_idx").on(t.cutoff, t.accountId)],
);

/** Each `npm run ledger:check`: what it covered (incremental: transactions posted after the previous run's `through`). */
export const ledgerCheckRuns = pgTable("ledger_check_runs", {
  id: bigserial("id", { mode: "bigint" }).primaryKey(),
  mode: text("mode").$type<"incremental" | "full">().notNull(),
  /** Transactions posted at or before this were covered. */
  through: timestamp("through", { withTimezone: true, mode: "date" }).notNull(),
  ok: boolean("ok").notNull(),
  transactionsChecked: bigint("transactions_checked", { mode: "bigint" }).notNull(),
  durationMs: integer("duration_ms").notNull(),
  ranAt: timestamp("ran_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

/** A hold on a seller's available balance (for a payout). placed -> released | captured. */
export const walletHolds = pgTable(
  "wallet_holds",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("hld")),
    sellerId: text("seller_id")
      .notNull()
      .references(() => sellers.id),
    /** Idempotency key of the hold, e.g. the payout id. */
    reference: text("reference").notNull(),
    currency: text("currency").notNull(),
    amount: bigint("amount", { mode: "bigint" }).notNull(),
    status: walletHoldStatus("status").notNull().default("placed"),
    placeTransactionId: text("place_transaction_id")
      .notNull()
      .references(() => ledgerTransactions.id),
    settleTransactionId: text("settle_transaction_id").references(() => ledgerTransactions.id),
    /** Bumped on every transition (optimistic check for callers that read then act). */
    version: integer("version").notNull().default(1),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("wallet_holds_reference_uq").on(t.reference),
    index("wallet_holds_seller_idx").on(t.sellerId, t.status),
    check("wallet_holds_amount_positive", sql`${t.amount} > 0`),
    check(
      "wallet_holds_settled_consistent",
      sql`(${t.status} = 'placed') = (${t.settleTransactionId} is null)`,
    ),
  ],
);
