CREATE TYPE "public"."payment_attempt_status" AS ENUM('created', 'pending', 'succeeded', 'failed', 'canceled');--> statement-breakpoint
CREATE TYPE "public"."payment_method" AS ENUM('card', 'mpesa');--> statement-breakpoint
CREATE TABLE "payment_attempts" (
	"id" text PRIMARY KEY NOT NULL,
	"checkout_id" text NOT NULL,
	"attempt_no" integer NOT NULL,
	"method" "payment_method" NOT NULL,
	"psp" text NOT NULL,
	"status" "payment_attempt_status" DEFAULT 'created' NOT NULL,
	"idempotency_key" text NOT NULL,
	"psp_reference" text,
	"client_secret" text,
	"phone_encrypted" text,
	"phone_hint" text,
	"receipt" text,
	"failure_code" text,
	"failure_message" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "merchants" ADD COLUMN "platform_fee_bps" integer DEFAULT 200 NOT NULL;--> statement-breakpoint
ALTER TABLE "payment_attempts" ADD CONSTRAINT "payment_attempts_checkout_id_checkouts_id_fk" FOREIGN KEY ("checkout_id") REFERENCES "public"."checkouts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "payment_attempts_checkout_no_uq" ON "payment_attempts" USING btree ("checkout_id","attempt_no");--> statement-breakpoint
CREATE UNIQUE INDEX "payment_attempts_one_active_uq" ON "payment_attempts" USING btree ("checkout_id") WHERE "payment_attempts"."status" in ('created', 'pending');--> statement-breakpoint
CREATE UNIQUE INDEX "payment_attempts_idempotency_uq" ON "payment_attempts" USING btree ("idempotency_key");--> statement-breakpoint
CREATE INDEX "payment_attempts_psp_ref_idx" ON "payment_attempts" USING btree ("psp","psp_reference");--> statement-breakpoint
ALTER TABLE "merchants" ADD CONSTRAINT "merchants_fee_bps_range" CHECK ("merchants"."platform_fee_bps" between 0 and 10000);