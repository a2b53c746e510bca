CREATE TYPE "public"."dispute_status" AS ENUM('warning_needs_response', 'warning_under_review', 'warning_closed', 'needs_response', 'under_review', 'won', 'lost');--> statement-breakpoint
CREATE TYPE "public"."refund_status" AS ENUM('pending', 'requires_action', 'succeeded', 'failed', 'canceled');--> statement-breakpoint
ALTER TYPE "public"."ledger_account_kind" ADD VALUE 'seller_receivable' BEFORE 'platform_fees';--> statement-breakpoint
ALTER TYPE "public"."merchant_event_type" ADD VALUE 'refund.created';--> statement-breakpoint
ALTER TYPE "public"."merchant_event_type" ADD VALUE 'refund.succeeded';--> statement-breakpoint
ALTER TYPE "public"."merchant_event_type" ADD VALUE 'refund.failed';--> statement-breakpoint
ALTER TYPE "public"."merchant_event_type" ADD VALUE 'dispute.created';--> statement-breakpoint
ALTER TYPE "public"."merchant_event_type" ADD VALUE 'dispute.updated';--> statement-breakpoint
ALTER TYPE "public"."merchant_event_type" ADD VALUE 'dispute.closed';--> statement-breakpoint
ALTER TYPE "public"."merchant_event_type" ADD VALUE 'dispute.funds_withdrawn';--> statement-breakpoint
ALTER TYPE "public"."merchant_event_type" ADD VALUE 'dispute.funds_reinstated';--> statement-breakpoint
ALTER TYPE "public"."merchant_event_type" ADD VALUE 'dispute.evidence_due_soon';--> statement-breakpoint
CREATE TABLE "dispute_reminders" (
	"id" text PRIMARY KEY NOT NULL,
	"dispute_id" text NOT NULL,
	"merchant_id" text NOT NULL,
	"kind" text NOT NULL,
	"due_by" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"dismissed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "dispute_transitions" (
	"id" text PRIMARY KEY NOT NULL,
	"dispute_id" text NOT NULL,
	"from_status" "dispute_status",
	"to_status" "dispute_status" NOT NULL,
	"reason" text NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "disputes" (
	"id" text PRIMARY KEY NOT NULL,
	"merchant_id" text NOT NULL,
	"checkout_id" text NOT NULL,
	"attempt_id" text NOT NULL,
	"psp" text NOT NULL,
	"psp_dispute_id" text NOT NULL,
	"psp_charge_id" text,
	"psp_payment_reference" text NOT NULL,
	"amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"fee" bigint DEFAULT 0 NOT NULL,
	"reason" text NOT NULL,
	"status" "dispute_status" NOT NULL,
	"is_inquiry" boolean DEFAULT false NOT NULL,
	"evidence_due_by" timestamp with time zone,
	"evidence_encrypted" text,
	"evidence_submitted_at" timestamp with time zone,
	"evidence_submitted_by_user_id" text,
	"accepted_at" timestamp with time zone,
	"accepted_by_user_id" text,
	"allocation" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"withdrawal_transaction_id" text,
	"reinstatement_transaction_id" text,
	"version" integer DEFAULT 1 NOT NULL,
	"closed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "disputes_amount_positive" CHECK ("disputes"."amount" > 0),
	CONSTRAINT "disputes_fee_nonneg" CHECK ("disputes"."fee" >= 0),
	CONSTRAINT "disputes_currency_format" CHECK ("disputes"."currency" ~ '^[A-Z]{3}$')
);
--> statement-breakpoint
CREATE TABLE "refund_transitions" (
	"id" text PRIMARY KEY NOT NULL,
	"refund_id" text NOT NULL,
	"from_status" "refund_status",
	"to_status" "refund_status" NOT NULL,
	"reason" text NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "refunds" (
	"id" text PRIMARY KEY NOT NULL,
	"merchant_id" text NOT NULL,
	"payment_order_id" text NOT NULL,
	"checkout_id" text NOT NULL,
	"seller_id" text NOT NULL,
	"attempt_id" text NOT NULL,
	"psp" text NOT NULL,
	"psp_payment_reference" text NOT NULL,
	"psp_refund_id" text,
	"idempotency_key" text NOT NULL,
	"amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"platform_fee_returned" bigint DEFAULT 0 NOT NULL,
	"reason" text,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" "refund_status" DEFAULT 'pending' NOT NULL,
	"failure_reason" text,
	"failure_message" text,
	"origin" text NOT NULL,
	"created_by_user_id" text,
	"api_key_id" text,
	"ledger_transaction_id" text,
	"reversal_transaction_id" text,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "refunds_amount_positive" CHECK ("refunds"."amount" > 0),
	CONSTRAINT "refunds_fee_returned_range" CHECK ("refunds"."platform_fee_returned" >= 0 and "refunds"."platform_fee_returned" <= "refunds"."amount"),
	CONSTRAINT "refunds_currency_format" CHECK ("refunds"."currency" ~ '^[A-Z]{3}$'),
	CONSTRAINT "refunds_reversed_only_when_unsuccessful" CHECK ("refunds"."reversal_transaction_id" is null or "refunds"."status" in ('failed', 'canceled'))
);
--> statement-breakpoint
ALTER TABLE "merchants" ADD COLUMN "refund_fee_policy" text DEFAULT 'keep' NOT NULL;--> statement-breakpoint
ALTER TABLE "merchants" ADD COLUMN "negative_balance_policy" text DEFAULT 'allow' NOT NULL;--> statement-breakpoint
ALTER TABLE "payment_orders" ADD COLUMN "amount_refunded" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "dispute_reminders" ADD CONSTRAINT "dispute_reminders_dispute_id_disputes_id_fk" FOREIGN KEY ("dispute_id") REFERENCES "public"."disputes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dispute_reminders" ADD CONSTRAINT "dispute_reminders_merchant_id_merchants_id_fk" FOREIGN KEY ("merchant_id") REFERENCES "public"."merchants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dispute_transitions" ADD CONSTRAINT "dispute_transitions_dispute_id_disputes_id_fk" FOREIGN KEY ("dispute_id") REFERENCES "public"."disputes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "disputes" ADD CONSTRAINT "disputes_merchant_id_merchants_id_fk" FOREIGN KEY ("merchant_id") REFERENCES "public"."merchants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "disputes" ADD CONSTRAINT "disputes_checkout_id_checkouts_id_fk" FOREIGN KEY ("checkout_id") REFERENCES "public"."checkouts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "disputes" ADD CONSTRAINT "disputes_attempt_id_payment_attempts_id_fk" FOREIGN KEY ("attempt_id") REFERENCES "public"."payment_attempts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "disputes" ADD CONSTRAINT "disputes_evidence_submitted_by_user_id_users_id_fk" FOREIGN KEY ("evidence_submitted_by_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "disputes" ADD CONSTRAINT "disputes_accepted_by_user_id_users_id_fk" FOREIGN KEY ("accepted_by_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "disputes" ADD CONSTRAINT "disputes_withdrawal_transaction_id_ledger_transactions_id_fk" FOREIGN KEY ("withdrawal_transaction_id") REFERENCES "public"."ledger_transactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "disputes" ADD CONSTRAINT "disputes_reinstatement_transaction_id_ledger_transactions_id_fk" FOREIGN KEY ("reinstatement_transaction_id") REFERENCES "public"."ledger_transactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "refund_transitions" ADD CONSTRAINT "refund_transitions_refund_id_refunds_id_fk" FOREIGN KEY ("refund_id") REFERENCES "public"."refunds"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_merchant_id_merchants_id_fk" FOREIGN KEY ("merchant_id") REFERENCES "public"."merchants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_payment_order_id_payment_orders_id_fk" FOREIGN KEY ("payment_order_id") REFERENCES "public"."payment_orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_checkout_id_checkouts_id_fk" FOREIGN KEY ("checkout_id") REFERENCES "public"."checkouts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_seller_id_sellers_id_fk" FOREIGN KEY ("seller_id") REFERENCES "public"."sellers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_attempt_id_payment_attempts_id_fk" FOREIGN KEY ("attempt_id") REFERENCES "public"."payment_attempts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_ledger_transaction_id_ledger_transactions_id_fk" FOREIGN KEY ("ledger_transaction_id") REFERENCES "public"."ledger_transactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_reversal_transaction_id_ledger_transactions_id_fk" FOREIGN KEY ("reversal_transaction_id") REFERENCES "public"."ledger_transactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "dispute_reminders_once_uq" ON "dispute_reminders" USING btree ("dispute_id","kind","due_by");--> statement-breakpoint
CREATE INDEX "dispute_reminders_merchant_idx" ON "dispute_reminders" USING btree ("merchant_id","created_at");--> statement-breakpoint
CREATE INDEX "dispute_transitions_dispute_idx" ON "dispute_transitions" USING btree ("dispute_id","at");--> statement-breakpoint
CREATE UNIQUE INDEX "disputes_psp_dispute_uq" ON "disputes" USING btree ("psp","psp_dispute_id");--> statement-breakpoint
CREATE INDEX "disputes_merchant_due_idx" ON "disputes" USING btree ("merchant_id","evidence_due_by");--> statement-breakpoint
CREATE INDEX "disputes_merchant_created_idx" ON "disputes" USING btree ("merchant_id","created_at","id");--> statement-breakpoint
CREATE INDEX "disputes_checkout_idx" ON "disputes" USING btree ("checkout_id");--> statement-breakpoint
CREATE INDEX "disputes_open_due_idx" ON "disputes" USING btree ("evidence_due_by") WHERE "disputes"."status" in ('needs_response', 'warning_needs_response');--> statement-breakpoint
CREATE INDEX "refund_transitions_refund_idx" ON "refund_transitions" USING btree ("refund_id","at");--> statement-breakpoint
CREATE INDEX "refunds_merchant_created_idx" ON "refunds" USING btree ("merchant_id","created_at","id");--> statement-breakpoint
CREATE INDEX "refunds_order_idx" ON "refunds" USING btree ("payment_order_id","created_at");--> statement-breakpoint
CREATE INDEX "refunds_open_idx" ON "refunds" USING btree ("created_at") WHERE "refunds"."status" in ('pending', 'requires_action');--> statement-breakpoint
CREATE UNIQUE INDEX "refunds_idempotency_uq" ON "refunds" USING btree ("idempotency_key");--> statement-breakpoint
CREATE UNIQUE INDEX "refunds_psp_refund_uq" ON "refunds" USING btree ("psp","psp_refund_id") WHERE "refunds"."psp_refund_id" is not null;--> statement-breakpoint
ALTER TABLE "merchants" ADD CONSTRAINT "merchants_refund_fee_policy_known" CHECK ("merchants"."refund_fee_policy" in ('keep', 'return'));--> statement-breakpoint
ALTER TABLE "merchants" ADD CONSTRAINT "merchants_negative_balance_policy_known" CHECK ("merchants"."negative_balance_policy" in ('allow', 'refuse'));--> statement-breakpoint
ALTER TABLE "payment_orders" ADD CONSTRAINT "payment_orders_refunded_within_amount" CHECK ("payment_orders"."amount_refunded" >= 0 and "payment_orders"."amount_refunded" <= "payment_orders"."amount");--> statement-breakpoint
-- Refund and dispute history is append-only, like every other *_transitions table (refuse_mutation() from 0001).
CREATE TRIGGER refund_transitions_append_only
  BEFORE UPDATE OR DELETE ON refund_transitions
  FOR EACH ROW EXECUTE FUNCTION refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER refund_transitions_no_truncate
  BEFORE TRUNCATE ON refund_transitions
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER dispute_transitions_append_only
  BEFORE UPDATE OR DELETE ON dispute_transitions
  FOR EACH ROW EXECUTE FUNCTION refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER dispute_transitions_no_truncate
  BEFORE TRUNCATE ON dispute_transitions
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_mutation();
--> statement-breakpoint
-- Refunds and disputes are never deleted: the ledger postings name them.
CREATE TRIGGER refunds_no_delete
  BEFORE DELETE ON refunds
  FOR EACH ROW EXECUTE FUNCTION refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER disputes_no_delete
  BEFORE DELETE ON disputes
  FOR EACH ROW EXECUTE FUNCTION refuse_mutation();
