CREATE TYPE "public"."payout_status" AS ENUM('pending_approval', 'pending', 'unknown', 'in_transit', 'paid', 'failed', 'canceled');--> statement-breakpoint
ALTER TYPE "public"."merchant_event_type" ADD VALUE 'payout.created';--> statement-breakpoint
ALTER TYPE "public"."merchant_event_type" ADD VALUE 'payout.paid';--> statement-breakpoint
ALTER TYPE "public"."merchant_event_type" ADD VALUE 'payout.failed';--> statement-breakpoint
ALTER TYPE "public"."merchant_event_type" ADD VALUE 'payout.canceled';--> statement-breakpoint
CREATE TABLE "order_settlements" (
	"payment_order_id" text PRIMARY KEY NOT NULL,
	"seller_id" text NOT NULL,
	"currency" text NOT NULL,
	"amount" bigint NOT NULL,
	"available_on" timestamp with time zone NOT NULL,
	"source" text NOT NULL,
	"ledger_transaction_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "order_settlements_amount_nonneg" CHECK ("order_settlements"."amount" >= 0)
);
--> statement-breakpoint
CREATE TABLE "payout_destinations" (
	"id" text PRIMARY KEY NOT NULL,
	"merchant_id" text NOT NULL,
	"seller_id" text NOT NULL,
	"psp" text NOT NULL,
	"stripe_account_id" text,
	"phone_encrypted" text,
	"phone_last3" text,
	"created_by_user_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"disabled_at" timestamp with time zone,
	CONSTRAINT "payout_destinations_shape" CHECK (("payout_destinations"."psp" = 'stripe' and "payout_destinations"."stripe_account_id" is not null and "payout_destinations"."phone_encrypted" is null) or ("payout_destinations"."psp" = 'mpesa' and "payout_destinations"."phone_encrypted" is not null and "payout_destinations"."stripe_account_id" is null))
);
--> statement-breakpoint
CREATE TABLE "payout_items" (
	"id" text PRIMARY KEY NOT NULL,
	"payout_id" text NOT NULL,
	"seller_id" text NOT NULL,
	"currency" text NOT NULL,
	"kind" text NOT NULL,
	"amount" bigint NOT NULL,
	"ledger_transaction_id" text,
	"position" integer NOT NULL,
	"payment_order_id" text,
	"source_type" text,
	"source_id" text,
	"description" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	CONSTRAINT "payout_items_currency_format" CHECK ("payout_items"."currency" ~ '^[A-Z]{3}$')
);
--> statement-breakpoint
CREATE TABLE "payout_transitions" (
	"id" text PRIMARY KEY NOT NULL,
	"payout_id" text NOT NULL,
	"actor_user_id" text,
	"from_status" "payout_status",
	"to_status" "payout_status" NOT NULL,
	"reason" text NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payouts" (
	"id" text PRIMARY KEY NOT NULL,
	"merchant_id" text NOT NULL,
	"seller_id" text NOT NULL,
	"destination_id" text NOT NULL,
	"psp" text NOT NULL,
	"amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"status" "payout_status" NOT NULL,
	"origin" text NOT NULL,
	"method" text DEFAULT 'standard' NOT NULL,
	"idempotency_key" text NOT NULL,
	"psp_key" text NOT NULL,
	"psp_transfer_id" text,
	"psp_payout_id" text,
	"psp_transfer_reversal_id" text,
	"psp_receipt" text,
	"failure_code" text,
	"failure_message" text,
	"carried_forward" bigint DEFAULT 0 NOT NULL,
	"hold_id" text,
	"requested_by_user_id" text,
	"approved_by_user_id" text,
	"approved_at" timestamp with time zone,
	"arrival_date" timestamp with time zone,
	"paid_at" timestamp with time zone,
	"last_checked_at" timestamp with time zone,
	"paid_transaction_id" text,
	"failure_transaction_id" text,
	"description" text,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "payouts_amount_positive" CHECK ("payouts"."amount" > 0),
	CONSTRAINT "payouts_currency_format" CHECK ("payouts"."currency" ~ '^[A-Z]{3}$')
);
--> statement-breakpoint
ALTER TABLE "merchants" ADD COLUMN "payout_approval_threshold" bigint;--> statement-breakpoint
ALTER TABLE "sellers" ADD COLUMN "payout_interval" text DEFAULT 'daily' NOT NULL;--> statement-breakpoint
ALTER TABLE "sellers" ADD COLUMN "payout_weekly_anchor" smallint DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "sellers" ADD COLUMN "payout_monthly_anchor" smallint DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "sellers" ADD COLUMN "payout_delay_days" smallint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "sellers" ADD COLUMN "payout_minimum_amount" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "sellers" ADD COLUMN "payouts_held_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "order_settlements" ADD CONSTRAINT "order_settlements_payment_order_id_payment_orders_id_fk" FOREIGN KEY ("payment_order_id") REFERENCES "public"."payment_orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "order_settlements" ADD CONSTRAINT "order_settlements_seller_id_sellers_id_fk" FOREIGN KEY ("seller_id") REFERENCES "public"."sellers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "order_settlements" ADD CONSTRAINT "order_settlements_ledger_transaction_id_ledger_transactions_id_fk" FOREIGN KEY ("ledger_transaction_id") REFERENCES "public"."ledger_transactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payout_destinations" ADD CONSTRAINT "payout_destinations_merchant_id_merchants_id_fk" FOREIGN KEY ("merchant_id") REFERENCES "public"."merchants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payout_destinations" ADD CONSTRAINT "payout_destinations_seller_id_sellers_id_fk" FOREIGN KEY ("seller_id") REFERENCES "public"."sellers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payout_destinations" ADD CONSTRAINT "payout_destinations_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payout_items" ADD CONSTRAINT "payout_items_payout_id_payouts_id_fk" FOREIGN KEY ("payout_id") REFERENCES "public"."payouts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payout_items" ADD CONSTRAINT "payout_items_seller_id_sellers_id_fk" FOREIGN KEY ("seller_id") REFERENCES "public"."sellers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payout_items" ADD CONSTRAINT "payout_items_ledger_transaction_id_ledger_transactions_id_fk" FOREIGN KEY ("ledger_transaction_id") REFERENCES "public"."ledger_transactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payout_items" ADD CONSTRAINT "payout_items_payment_order_id_payment_orders_id_fk" FOREIGN KEY ("payment_order_id") REFERENCES "public"."payment_orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payout_transitions" ADD CONSTRAINT "payout_transitions_payout_id_payouts_id_fk" FOREIGN KEY ("payout_id") REFERENCES "public"."payouts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payout_transitions" ADD CONSTRAINT "payout_transitions_actor_user_id_users_id_fk" FOREIGN KEY ("actor_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payouts" ADD CONSTRAINT "payouts_merchant_id_merchants_id_fk" FOREIGN KEY ("merchant_id") REFERENCES "public"."merchants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payouts" ADD CONSTRAINT "payouts_seller_id_sellers_id_fk" FOREIGN KEY ("seller_id") REFERENCES "public"."sellers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payouts" ADD CONSTRAINT "payouts_destination_id_payout_destinations_id_fk" FOREIGN KEY ("destination_id") REFERENCES "public"."payout_destinations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payouts" ADD CONSTRAINT "payouts_hold_id_wallet_holds_id_fk" FOREIGN KEY ("hold_id") REFERENCES "public"."wallet_holds"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payouts" ADD CONSTRAINT "payouts_requested_by_user_id_users_id_fk" FOREIGN KEY ("requested_by_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payouts" ADD CONSTRAINT "payouts_approved_by_user_id_users_id_fk" FOREIGN KEY ("approved_by_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payouts" ADD CONSTRAINT "payouts_paid_transaction_id_ledger_transactions_id_fk" FOREIGN KEY ("paid_transaction_id") REFERENCES "public"."ledger_transactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payouts" ADD CONSTRAINT "payouts_failure_transaction_id_ledger_transactions_id_fk" FOREIGN KEY ("failure_transaction_id") REFERENCES "public"."ledger_transactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "order_settlements_seller_idx" ON "order_settlements" USING btree ("seller_id","currency","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "payout_destinations_active_uq" ON "payout_destinations" USING btree ("seller_id") WHERE "payout_destinations"."disabled_at" is null;--> statement-breakpoint
CREATE INDEX "payout_destinations_merchant_idx" ON "payout_destinations" USING btree ("merchant_id","created_at");--> statement-breakpoint
CREATE INDEX "payout_items_payout_idx" ON "payout_items" USING btree ("payout_id","position");--> statement-breakpoint
CREATE UNIQUE INDEX "payout_items_ledger_once_uq" ON "payout_items" USING btree ("ledger_transaction_id","seller_id","currency","kind") WHERE "payout_items"."ledger_transaction_id" is not null;--> statement-breakpoint
CREATE INDEX "payout_transitions_payout_idx" ON "payout_transitions" USING btree ("payout_id","at");--> statement-breakpoint
CREATE UNIQUE INDEX "payouts_idempotency_uq" ON "payouts" USING btree ("idempotency_key");--> statement-breakpoint
CREATE UNIQUE INDEX "payouts_psp_key_uq" ON "payouts" USING btree ("psp_key");--> statement-breakpoint
CREATE INDEX "payouts_merchant_created_idx" ON "payouts" USING btree ("merchant_id","created_at","id");--> statement-breakpoint
CREATE INDEX "payouts_seller_created_idx" ON "payouts" USING btree ("seller_id","currency","created_at","id");--> statement-breakpoint
CREATE INDEX "payouts_open_idx" ON "payouts" USING btree ("updated_at") WHERE "payouts"."status" in ('pending', 'unknown', 'in_transit');--> statement-breakpoint
CREATE UNIQUE INDEX "payouts_psp_payout_uq" ON "payouts" USING btree ("psp","psp_payout_id") WHERE "payouts"."psp_payout_id" is not null;--> statement-breakpoint
ALTER TABLE "merchants" ADD CONSTRAINT "merchants_payout_threshold_positive" CHECK ("merchants"."payout_approval_threshold" is null or "merchants"."payout_approval_threshold" > 0);--> statement-breakpoint
ALTER TABLE "sellers" ADD CONSTRAINT "sellers_payout_interval_known" CHECK ("sellers"."payout_interval" in ('daily', 'weekly', 'monthly', 'manual'));--> statement-breakpoint
ALTER TABLE "sellers" ADD CONSTRAINT "sellers_payout_weekly_anchor_range" CHECK ("sellers"."payout_weekly_anchor" between 1 and 7);--> statement-breakpoint
ALTER TABLE "sellers" ADD CONSTRAINT "sellers_payout_monthly_anchor_range" CHECK ("sellers"."payout_monthly_anchor" between 1 and 31);--> statement-breakpoint
ALTER TABLE "sellers" ADD CONSTRAINT "sellers_payout_delay_range" CHECK ("sellers"."payout_delay_days" between 0 and 30);--> statement-breakpoint
ALTER TABLE "sellers" ADD CONSTRAINT "sellers_payout_minimum_nonneg" CHECK ("sellers"."payout_minimum_amount" >= 0);--> statement-breakpoint
-- Payout history and compositions are append-only (refuse_mutation() from 0001); payouts are never deleted.
CREATE TRIGGER payout_transitions_append_only
  BEFORE UPDATE OR DELETE ON payout_transitions
  FOR EACH ROW EXECUTE FUNCTION refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER payout_transitions_no_truncate
  BEFORE TRUNCATE ON payout_transitions
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER payout_items_append_only
  BEFORE UPDATE OR DELETE ON payout_items
  FOR EACH ROW EXECUTE FUNCTION refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER payout_items_no_truncate
  BEFORE TRUNCATE ON payout_items
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER order_settlements_append_only
  BEFORE UPDATE OR DELETE ON order_settlements
  FOR EACH ROW EXECUTE FUNCTION refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER payouts_no_delete
  BEFORE DELETE ON payouts
  FOR EACH ROW EXECUTE FUNCTION refuse_mutation();
