CREATE TYPE "public"."double_charge_status" AS ENUM('awaiting_refund', 'refunded');--> statement-breakpoint
ALTER TYPE "public"."ledger_account_kind" ADD VALUE 'buyer_refunds_payable';--> statement-breakpoint
CREATE TABLE "double_charges" (
	"id" text PRIMARY KEY NOT NULL,
	"merchant_id" text NOT NULL,
	"checkout_id" text NOT NULL,
	"attempt_id" text NOT NULL,
	"paid_by_attempt_id" text,
	"psp" text NOT NULL,
	"psp_reference" text NOT NULL,
	"receipt" text,
	"amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"status" "double_charge_status" DEFAULT 'awaiting_refund' NOT NULL,
	"resolved_by" text,
	"resolution_note" text,
	"resolved_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "double_charges_amount_positive" CHECK ("double_charges"."amount" > 0)
);
--> statement-breakpoint
ALTER TABLE "double_charges" ADD CONSTRAINT "double_charges_merchant_id_merchants_id_fk" FOREIGN KEY ("merchant_id") REFERENCES "public"."merchants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "double_charges" ADD CONSTRAINT "double_charges_checkout_id_checkouts_id_fk" FOREIGN KEY ("checkout_id") REFERENCES "public"."checkouts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "double_charges" ADD CONSTRAINT "double_charges_attempt_id_payment_attempts_id_fk" FOREIGN KEY ("attempt_id") REFERENCES "public"."payment_attempts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "double_charges" ADD CONSTRAINT "double_charges_paid_by_attempt_id_payment_attempts_id_fk" FOREIGN KEY ("paid_by_attempt_id") REFERENCES "public"."payment_attempts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "double_charges_attempt_uq" ON "double_charges" USING btree ("attempt_id");--> statement-breakpoint
CREATE UNIQUE INDEX "double_charges_psp_ref_uq" ON "double_charges" USING btree ("psp","psp_reference");--> statement-breakpoint
CREATE INDEX "double_charges_merchant_idx" ON "double_charges" USING btree ("merchant_id","created_at");--> statement-breakpoint
CREATE INDEX "double_charges_open_idx" ON "double_charges" USING btree ("created_at") WHERE "double_charges"."status" = 'awaiting_refund';--> statement-breakpoint
CREATE UNIQUE INDEX "payment_attempts_receipt_uq" ON "payment_attempts" USING btree ("psp","receipt") WHERE "payment_attempts"."receipt" is not null;