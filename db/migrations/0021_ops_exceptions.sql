CREATE TABLE "ops_exceptions" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"subject_type" text NOT NULL,
	"subject_id" text NOT NULL,
	"merchant_id" text,
	"reason" text NOT NULL,
	"code" text,
	"message" text NOT NULL,
	"function_id" text,
	"run_id" text,
	"retry_event" jsonb,
	"status" text DEFAULT 'open' NOT NULL,
	"occurrences" integer DEFAULT 1 NOT NULL,
	"first_seen_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"retry_count" integer DEFAULT 0 NOT NULL,
	"retried_at" timestamp (3) with time zone,
	"last_retry_event_id" text,
	"resolved_at" timestamp (3) with time zone,
	"resolved_by" text,
	"resolution_note" text,
	"fingerprint" text NOT NULL,
	CONSTRAINT "ops_exceptions_kind_known" CHECK ("ops_exceptions"."kind" in ('payment_attempt', 'payment_cancel', 'psp_event', 'merchant_webhook', 'refund', 'payout', 'job')),
	CONSTRAINT "ops_exceptions_reason_known" CHECK ("ops_exceptions"."reason" in ('run_failed', 'retries_exhausted', 'outcome_unknown', 'double_charge', 'amount_mismatch', 'stuck', 'cancelled')),
	CONSTRAINT "ops_exceptions_status_known" CHECK ("ops_exceptions"."status" in ('open', 'retrying', 'resolved', 'ignored')),
	CONSTRAINT "ops_exceptions_fingerprint_format" CHECK ("ops_exceptions"."fingerprint" = "ops_exceptions"."subject_type" || ':' || "ops_exceptions"."subject_id" || ':' || "ops_exceptions"."reason"),
	CONSTRAINT "ops_exceptions_occurrences_positive" CHECK ("ops_exceptions"."occurrences" >= 1),
	CONSTRAINT "ops_exceptions_retry_count_nonneg" CHECK ("ops_exceptions"."retry_count" >= 0),
	CONSTRAINT "ops_exceptions_closed_consistent" CHECK (("ops_exceptions"."status" in ('resolved', 'ignored')) = ("ops_exceptions"."resolved_at" is not null)),
	CONSTRAINT "ops_exceptions_subject_not_blank" CHECK (length(btrim("ops_exceptions"."subject_type")) > 0 and length(btrim("ops_exceptions"."subject_id")) > 0)
);
--> statement-breakpoint
ALTER TABLE "ops_exceptions" ADD CONSTRAINT "ops_exceptions_merchant_id_merchants_id_fk" FOREIGN KEY ("merchant_id") REFERENCES "public"."merchants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ops_exceptions" ADD CONSTRAINT "ops_exceptions_resolved_by_users_id_fk" FOREIGN KEY ("resolved_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "ops_exceptions_open_fingerprint_uq" ON "ops_exceptions" USING btree ("fingerprint") WHERE "ops_exceptions"."status" in ('open', 'retrying');--> statement-breakpoint
CREATE INDEX "ops_exceptions_list_idx" ON "ops_exceptions" USING btree ("status","last_seen_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "ops_exceptions_all_idx" ON "ops_exceptions" USING btree ("last_seen_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "ops_exceptions_merchant_idx" ON "ops_exceptions" USING btree ("merchant_id","last_seen_at");--> statement-breakpoint
CREATE INDEX "ops_exceptions_subject_idx" ON "ops_exceptions" USING btree ("subject_type","subject_id");--> statement-breakpoint
CREATE INDEX "audit_log_target_idx" ON "audit_log" USING btree ("target_type","target_id","created_at");