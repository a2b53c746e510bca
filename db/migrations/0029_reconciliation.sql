CREATE TYPE "public"."recon_adjustment_status" AS ENUM('pending', 'approved', 'rejected', 'canceled');--> statement-breakpoint
CREATE TYPE "public"."recon_case_status" AS ENUM('open', 'acknowledged', 'resolved');--> statement-breakpoint
CREATE TYPE "public"."recon_case_type" AS ENUM('missing_in_ledger', 'missing_at_psp', 'amount_mismatch', 'fee_mismatch', 'currency_mismatch', 'status_mismatch', 'duplicate', 'invariant');--> statement-breakpoint
CREATE TYPE "public"."recon_import_status" AS ENUM('running', 'completed', 'failed');--> statement-breakpoint
CREATE TABLE "recon_adjustments" (
	"id" text PRIMARY KEY NOT NULL,
	"case_id" text NOT NULL,
	"status" "recon_adjustment_status" DEFAULT 'pending' NOT NULL,
	"lines" jsonb NOT NULL,
	"case_facts_version" integer NOT NULL,
	"note" text NOT NULL,
	"proposed_by_user_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"decided_by_user_id" text,
	"decided_at" timestamp with time zone,
	"decision_note" text,
	"ledger_transaction_id" text,
	CONSTRAINT "recon_adjustments_four_eyes" CHECK ("recon_adjustments"."decided_by_user_id" is null or "recon_adjustments"."decided_by_user_id" <> "recon_adjustments"."proposed_by_user_id")
);
--> statement-breakpoint
CREATE TABLE "recon_case_transitions" (
	"id" text PRIMARY KEY NOT NULL,
	"case_id" text NOT NULL,
	"from_status" "recon_case_status",
	"to_status" "recon_case_status" NOT NULL,
	"reason" text NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor_user_id" text
);
--> statement-breakpoint
CREATE TABLE "recon_cases" (
	"id" text PRIMARY KEY NOT NULL,
	"fingerprint" text NOT NULL,
	"type" "recon_case_type" NOT NULL,
	"status" "recon_case_status" DEFAULT 'open' NOT NULL,
	"psp" text NOT NULL,
	"reference" text NOT NULL,
	"currency" text NOT NULL,
	"merchant_id" text,
	"amount_at_risk" bigint DEFAULT 0 NOT NULL,
	"delta" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"psp_side" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"ledger_side" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"detail" text DEFAULT '' NOT NULL,
	"first_seen_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"facts_version" integer DEFAULT 1 NOT NULL,
	"resolution" text,
	"resolved_at" timestamp with time zone,
	"resolved_by_user_id" text,
	"note" text,
	"accepted_until" timestamp with time zone,
	"version" integer DEFAULT 1 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "recon_cases_currency_format" CHECK ("recon_cases"."currency" ~ '^[A-Z]{3}$'),
	CONSTRAINT "recon_cases_amount_nonneg" CHECK ("recon_cases"."amount_at_risk" >= 0),
	CONSTRAINT "recon_cases_resolved_has_resolution" CHECK (("recon_cases"."status" = 'resolved') = ("recon_cases"."resolution" is not null))
);
--> statement-breakpoint
CREATE TABLE "recon_imports" (
	"id" text PRIMARY KEY NOT NULL,
	"psp" text NOT NULL,
	"source" text NOT NULL,
	"import_key" text NOT NULL,
	"status" "recon_import_status" DEFAULT 'running' NOT NULL,
	"label" text NOT NULL,
	"cursor" text,
	"rows_seen" integer DEFAULT 0 NOT NULL,
	"rows_added" integer DEFAULT 0 NOT NULL,
	"error" text,
	"created_by_user_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "recon_rules" (
	"psp" text PRIMARY KEY NOT NULL,
	"fee_bps" integer DEFAULT 0 NOT NULL,
	"fee_fixed" bigint DEFAULT 0 NOT NULL,
	"amount_tolerance" bigint DEFAULT 0 NOT NULL,
	"fee_tolerance" bigint DEFAULT 0 NOT NULL,
	"date_window_hours" integer DEFAULT 72 NOT NULL,
	"missing_sla_hours" integer DEFAULT 72 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "settlement_rows" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "settlement_rows_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"import_id" text NOT NULL,
	"psp" text NOT NULL,
	"psp_row_id" text NOT NULL,
	"occurrence" smallint DEFAULT 1 NOT NULL,
	"category" text NOT NULL,
	"reference" text NOT NULL,
	"source_id" text,
	"currency" text NOT NULL,
	"gross" bigint NOT NULL,
	"fee" bigint NOT NULL,
	"net" bigint NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"available_on" timestamp with time zone,
	"payout_id" text,
	"imported_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "settlement_rows_currency_format" CHECK ("settlement_rows"."currency" ~ '^[A-Z]{3}$'),
	CONSTRAINT "settlement_rows_occurrence_positive" CHECK ("settlement_rows"."occurrence" >= 1)
);
--> statement-breakpoint
ALTER TABLE "recon_adjustments" ADD CONSTRAINT "recon_adjustments_case_id_recon_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."recon_cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recon_adjustments" ADD CONSTRAINT "recon_adjustments_proposed_by_user_id_users_id_fk" FOREIGN KEY ("proposed_by_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recon_adjustments" ADD CONSTRAINT "recon_adjustments_decided_by_user_id_users_id_fk" FOREIGN KEY ("decided_by_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recon_adjustments" ADD CONSTRAINT "recon_adjustments_ledger_transaction_id_ledger_transactions_id_fk" FOREIGN KEY ("ledger_transaction_id") REFERENCES "public"."ledger_transactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recon_case_transitions" ADD CONSTRAINT "recon_case_transitions_case_id_recon_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."recon_cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recon_case_transitions" ADD CONSTRAINT "recon_case_transitions_actor_user_id_users_id_fk" FOREIGN KEY ("actor_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recon_cases" ADD CONSTRAINT "recon_cases_resolved_by_user_id_users_id_fk" FOREIGN KEY ("resolved_by_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recon_imports" ADD CONSTRAINT "recon_imports_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "recon_adjustments_case_idx" ON "recon_adjustments" USING btree ("case_id");--> statement-breakpoint
CREATE UNIQUE INDEX "recon_adjustments_one_pending_uq" ON "recon_adjustments" USING btree ("case_id") WHERE "recon_adjustments"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "recon_case_transitions_case_idx" ON "recon_case_transitions" USING btree ("case_id","at");--> statement-breakpoint
CREATE UNIQUE INDEX "recon_cases_fingerprint_uq" ON "recon_cases" USING btree ("fingerprint");--> statement-breakpoint
CREATE INDEX "recon_cases_status_idx" ON "recon_cases" USING btree ("status","first_seen_at");--> statement-breakpoint
CREATE INDEX "recon_cases_type_idx" ON "recon_cases" USING btree ("type","status");--> statement-breakpoint
CREATE UNIQUE INDEX "recon_imports_key_uq" ON "recon_imports" USING btree ("import_key");--> statement-breakpoint
CREATE INDEX "recon_imports_started_idx" ON "recon_imports" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "settlement_rows_row_uq" ON "settlement_rows" USING btree ("psp","psp_row_id","occurrence");--> statement-breakpoint
-- Settlement rows are the PSP's word as imported, case history is history, and postings are ledger facts:
-- append-only (refuse_mutation() from 0001). Cases and adjustments are never deleted.
CREATE TRIGGER settlement_rows_append_only
  BEFORE UPDATE OR DELETE ON settlement_rows
  FOR EACH ROW EXECUTE FUNCTION refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER recon_case_transitions_append_only
  BEFORE UPDATE OR DELETE ON recon_case_transitions
  FOR EACH ROW EXECUTE FUNCTION refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER recon_case_transitions_no_truncate
  BEFORE TRUNCATE ON recon_case_transitions
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER recon_cases_no_delete
  BEFORE DELETE ON recon_cases
  FOR EACH ROW EXECUTE FUNCTION refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER recon_adjustments_no_delete
  BEFORE DELETE ON recon_adjustments
  FOR EACH ROW EXECUTE FUNCTION refuse_mutation();
--> statement-breakpoint
-- The default rules: Stripe's card pricing as the sandbox applies it (2.9% rounded half up, plus 30), M-Pesa
-- statements carry no fee. T+3 before an expected movement is missing at the PSP.
INSERT INTO recon_rules (psp, fee_bps, fee_fixed, amount_tolerance, fee_tolerance, date_window_hours, missing_sla_hours)
VALUES ('stripe', 290, 30, 0, 0, 72, 72), ('mpesa', 0, 0, 0, 0, 72, 72);
