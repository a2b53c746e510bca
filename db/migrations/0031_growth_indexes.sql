-- On a large database, build the indexes below first with CREATE INDEX CONCURRENTLY (same names and columns) so the
-- deploy does not hold a write lock on payment_orders, checkouts and ledger_entries while they build: every CREATE
-- here is IF NOT EXISTS (docs/scaling.md, "Costs that grow with the data").
CREATE TABLE "ledger_balance_snapshots" (
	"account_id" text NOT NULL,
	"cutoff" timestamp with time zone NOT NULL,
	"balance" bigint NOT NULL,
	CONSTRAINT "ledger_balance_snapshots_account_id_cutoff_pk" PRIMARY KEY("account_id","cutoff")
);
--> statement-breakpoint
CREATE TABLE "ledger_chain_checkpoints" (
	"ledger" text NOT NULL,
	"stripe" smallint NOT NULL,
	"seq" bigint NOT NULL,
	"transaction_id" text NOT NULL,
	"hash" text NOT NULL,
	"verified_at" timestamp with time zone NOT NULL,
	CONSTRAINT "ledger_chain_checkpoints_ledger_stripe_pk" PRIMARY KEY("ledger","stripe"),
	CONSTRAINT "ledger_chain_checkpoints_hash_format" CHECK ("ledger_chain_checkpoints"."hash" ~ '^[0-9a-f]{64}$')
);
--> statement-breakpoint
CREATE TABLE "ledger_check_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"mode" text NOT NULL,
	"through" timestamp with time zone NOT NULL,
	"ok" boolean NOT NULL,
	"transactions_checked" bigint NOT NULL,
	"duration_ms" integer NOT NULL,
	"ran_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ledger_snapshot_runs" (
	"cutoff" timestamp with time zone PRIMARY KEY NOT NULL,
	"accounts" integer NOT NULL,
	"entries" bigint NOT NULL,
	"taken_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
DROP INDEX IF EXISTS "ledger_entries_account_idx";--> statement-breakpoint
DROP INDEX IF EXISTS "payment_orders_merchant_created_idx";--> statement-breakpoint
ALTER TABLE "ledger_balance_snapshots" ADD CONSTRAINT "ledger_balance_snapshots_account_id_ledger_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."ledger_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_balance_snapshots" ADD CONSTRAINT "ledger_balance_snapshots_cutoff_ledger_snapshot_runs_cutoff_fk" FOREIGN KEY ("cutoff") REFERENCES "public"."ledger_snapshot_runs"("cutoff") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "psp_events_received_idx" ON "psp_events" USING btree ("received_at");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "ledger_entries_account_txn_idx" ON "ledger_entries" USING btree ("account_id","transaction_id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "engine_dedupe_keys_expires_idx" ON "engine_dedupe_keys" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "engine_events_received_idx" ON "engine_events" USING btree ("received_at");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "engine_runs_ended_idx" ON "engine_runs" USING btree ("ended_at") WHERE "engine_runs"."ended_at" is not null;--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "outbox_events_sent_idx" ON "outbox_events" USING btree ("sent_at") WHERE "outbox_events"."sent_at" is not null;--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "checkouts_merchant_buyer_ip_idx" ON "checkouts" USING btree ("merchant_id","buyer_ip","created_at");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "checkouts_merchant_buyer_email_idx" ON "checkouts" USING btree ("merchant_id","buyer_email_hash","created_at");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "checkouts_open_created_idx" ON "checkouts" USING btree ("created_at") WHERE "checkouts"."status" = 'open';--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "payment_orders_merchant_created_id_idx" ON "payment_orders" USING btree ("merchant_id","created_at","id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "payment_orders_merchant_status_created_idx" ON "payment_orders" USING btree ("merchant_id","status","created_at","id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "payment_orders_merchant_amount_idx" ON "payment_orders" USING btree ("merchant_id","amount","id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "payment_orders_refunded_idx" ON "payment_orders" USING btree ("id") WHERE "payment_orders"."amount_refunded" > 0;--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "merchant_events_created_idx" ON "merchant_events" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "webhook_deliveries_created_idx" ON "webhook_deliveries" USING btree ("created_at");