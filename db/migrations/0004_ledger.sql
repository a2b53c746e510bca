CREATE TYPE "public"."ledger_account_kind" AS ENUM('psp_clearing', 'seller_payable_pending', 'seller_payable_available', 'seller_payable_on_hold', 'platform_fees', 'psp_fees', 'payouts_in_transit', 'refunds', 'disputes', 'recon_adjustments');--> statement-breakpoint
CREATE TYPE "public"."ledger_side" AS ENUM('debit', 'credit');--> statement-breakpoint
CREATE TYPE "public"."wallet_hold_status" AS ENUM('placed', 'released', 'captured');--> statement-breakpoint
CREATE TABLE "ledger_accounts" (
	"id" text PRIMARY KEY NOT NULL,
	"key" text NOT NULL,
	"kind" "ledger_account_kind" NOT NULL,
	"currency" text NOT NULL,
	"merchant_id" text,
	"seller_id" text,
	"normal_side" "ledger_side" NOT NULL,
	"allow_negative" boolean NOT NULL,
	"balance_shards" smallint DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ledger_accounts_id_currency_uq" UNIQUE("id","currency"),
	CONSTRAINT "ledger_accounts_currency_format" CHECK ("ledger_accounts"."currency" ~ '^[A-Z]{3}$'),
	CONSTRAINT "ledger_accounts_shards_range" CHECK ("ledger_accounts"."balance_shards" between 1 and 64)
);
--> statement-breakpoint
CREATE TABLE "ledger_balances" (
	"account_id" text NOT NULL,
	"shard" smallint NOT NULL,
	"balance" bigint DEFAULT 0 NOT NULL,
	"normal_sign" smallint NOT NULL,
	"allow_negative" boolean NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ledger_balances_account_id_shard_pk" PRIMARY KEY("account_id","shard"),
	CONSTRAINT "ledger_balances_normal_sign" CHECK ("ledger_balances"."normal_sign" in (1, -1)),
	CONSTRAINT "ledger_balances_not_negative" CHECK ("ledger_balances"."allow_negative" or "ledger_balances"."balance" * "ledger_balances"."normal_sign" >= 0)
);
--> statement-breakpoint
CREATE TABLE "ledger_chains" (
	"ledger" text NOT NULL,
	"stripe" smallint NOT NULL,
	"seq" bigint NOT NULL,
	"head_hash" text NOT NULL,
	CONSTRAINT "ledger_chains_ledger_stripe_pk" PRIMARY KEY("ledger","stripe")
);
--> statement-breakpoint
CREATE TABLE "ledger_entries" (
	"transaction_id" text NOT NULL,
	"line" smallint NOT NULL,
	"account_id" text NOT NULL,
	"currency" text NOT NULL,
	"amount" bigint NOT NULL,
	CONSTRAINT "ledger_entries_transaction_id_line_pk" PRIMARY KEY("transaction_id","line"),
	CONSTRAINT "ledger_entries_amount_nonzero" CHECK ("ledger_entries"."amount" <> 0)
);
--> statement-breakpoint
CREATE TABLE "ledger_transactions" (
	"id" text PRIMARY KEY NOT NULL,
	"ledger" text NOT NULL,
	"chain_stripe" smallint NOT NULL,
	"chain_seq" bigint NOT NULL,
	"source" text NOT NULL,
	"source_id" text NOT NULL,
	"description" text NOT NULL,
	"corrects_transaction_id" text,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"posted_at" timestamp with time zone NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "ledger_transactions_hash_format" CHECK ("ledger_transactions"."hash" ~ '^[0-9a-f]{64}$' and "ledger_transactions"."prev_hash" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "ledger_transactions_seq_positive" CHECK ("ledger_transactions"."chain_seq" >= 1),
	CONSTRAINT "ledger_transactions_source_not_blank" CHECK (length("ledger_transactions"."source") > 0 and length("ledger_transactions"."source_id") > 0)
);
--> statement-breakpoint
CREATE TABLE "wallet_holds" (
	"id" text PRIMARY KEY NOT NULL,
	"seller_id" text NOT NULL,
	"reference" text NOT NULL,
	"currency" text NOT NULL,
	"amount" bigint NOT NULL,
	"status" "wallet_hold_status" DEFAULT 'placed' NOT NULL,
	"place_transaction_id" text NOT NULL,
	"settle_transaction_id" text,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "wallet_holds_amount_positive" CHECK ("wallet_holds"."amount" > 0),
	CONSTRAINT "wallet_holds_settled_consistent" CHECK (("wallet_holds"."status" = 'placed') = ("wallet_holds"."settle_transaction_id" is null))
);
--> statement-breakpoint
ALTER TABLE "ledger_accounts" ADD CONSTRAINT "ledger_accounts_merchant_id_merchants_id_fk" FOREIGN KEY ("merchant_id") REFERENCES "public"."merchants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_accounts" ADD CONSTRAINT "ledger_accounts_seller_id_sellers_id_fk" FOREIGN KEY ("seller_id") REFERENCES "public"."sellers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_balances" ADD CONSTRAINT "ledger_balances_account_id_ledger_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."ledger_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_transaction_id_ledger_transactions_id_fk" FOREIGN KEY ("transaction_id") REFERENCES "public"."ledger_transactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_account_fk" FOREIGN KEY ("account_id","currency") REFERENCES "public"."ledger_accounts"("id","currency") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_transactions" ADD CONSTRAINT "ledger_transactions_corrects_fk" FOREIGN KEY ("corrects_transaction_id") REFERENCES "public"."ledger_transactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wallet_holds" ADD CONSTRAINT "wallet_holds_seller_id_sellers_id_fk" FOREIGN KEY ("seller_id") REFERENCES "public"."sellers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wallet_holds" ADD CONSTRAINT "wallet_holds_place_transaction_id_ledger_transactions_id_fk" FOREIGN KEY ("place_transaction_id") REFERENCES "public"."ledger_transactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wallet_holds" ADD CONSTRAINT "wallet_holds_settle_transaction_id_ledger_transactions_id_fk" FOREIGN KEY ("settle_transaction_id") REFERENCES "public"."ledger_transactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_accounts_key_currency_uq" ON "ledger_accounts" USING btree ("key","currency");--> statement-breakpoint
CREATE INDEX "ledger_accounts_merchant_idx" ON "ledger_accounts" USING btree ("merchant_id");--> statement-breakpoint
CREATE INDEX "ledger_accounts_seller_idx" ON "ledger_accounts" USING btree ("seller_id");--> statement-breakpoint
CREATE INDEX "ledger_entries_account_idx" ON "ledger_entries" USING btree ("account_id");--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_transactions_source_uq" ON "ledger_transactions" USING btree ("source","source_id");--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_transactions_chain_uq" ON "ledger_transactions" USING btree ("ledger","chain_stripe","chain_seq");--> statement-breakpoint
CREATE INDEX "ledger_transactions_posted_at_idx" ON "ledger_transactions" USING btree ("posted_at");--> statement-breakpoint
CREATE INDEX "ledger_transactions_corrects_idx" ON "ledger_transactions" USING btree ("corrects_transaction_id");--> statement-breakpoint
CREATE UNIQUE INDEX "wallet_holds_reference_uq" ON "wallet_holds" USING btree ("reference");--> statement-breakpoint
CREATE INDEX "wallet_holds_seller_idx" ON "wallet_holds" USING btree ("seller_id","status");