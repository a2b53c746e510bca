CREATE TYPE "public"."psp_attempt_outcome" AS ENUM('ok', 'psp_error', 'timeout', 'network_error');--> statement-breakpoint
CREATE TYPE "public"."psp_event_status" AS ENUM('received', 'processed', 'rejected', 'ignored');--> statement-breakpoint
CREATE TYPE "public"."psp_name" AS ENUM('stripe', 'mpesa');--> statement-breakpoint
CREATE TABLE "psp_attempts" (
	"id" text PRIMARY KEY NOT NULL,
	"psp" "psp_name" NOT NULL,
	"operation" text NOT NULL,
	"idempotency_key" text,
	"request" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"outcome" "psp_attempt_outcome" NOT NULL,
	"response_status" integer,
	"error_code" text,
	"psp_object_id" text,
	"psp_request_id" text,
	"latency_ms" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "psp_attempts_latency_nonneg" CHECK ("psp_attempts"."latency_ms" >= 0),
	CONSTRAINT "psp_attempts_status_matches_outcome" CHECK (("psp_attempts"."outcome" in ('ok', 'psp_error')) = ("psp_attempts"."response_status" is not null))
);
--> statement-breakpoint
CREATE TABLE "psp_events" (
	"id" text PRIMARY KEY NOT NULL,
	"psp" "psp_name" NOT NULL,
	"event_id" text NOT NULL,
	"event_type" text NOT NULL,
	"object_id" text,
	"raw_body" text NOT NULL,
	"payload" jsonb NOT NULL,
	"status" "psp_event_status" DEFAULT 'received' NOT NULL,
	"verdict" jsonb,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp with time zone,
	CONSTRAINT "psp_events_processed_at" CHECK (("psp_events"."status" = 'received') = ("psp_events"."processed_at" is null))
);
--> statement-breakpoint
CREATE INDEX "psp_attempts_key_idx" ON "psp_attempts" USING btree ("psp","idempotency_key");--> statement-breakpoint
CREATE INDEX "psp_attempts_object_idx" ON "psp_attempts" USING btree ("psp","psp_object_id");--> statement-breakpoint
CREATE UNIQUE INDEX "psp_events_psp_event_uq" ON "psp_events" USING btree ("psp","event_id");--> statement-breakpoint
CREATE INDEX "psp_events_status_idx" ON "psp_events" USING btree ("status","received_at");--> statement-breakpoint
CREATE INDEX "psp_events_object_idx" ON "psp_events" USING btree ("psp","object_id");