CREATE TABLE "checkout_transitions" (
	"id" text PRIMARY KEY NOT NULL,
	"checkout_id" text NOT NULL,
	"from_status" "checkout_status",
	"to_status" "checkout_status" NOT NULL,
	"reason" text NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payment_attempt_transitions" (
	"id" text PRIMARY KEY NOT NULL,
	"attempt_id" text NOT NULL,
	"from_status" "payment_attempt_status",
	"to_status" "payment_attempt_status" NOT NULL,
	"reason" text NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "checkout_transitions" ADD CONSTRAINT "checkout_transitions_checkout_id_checkouts_id_fk" FOREIGN KEY ("checkout_id") REFERENCES "public"."checkouts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_attempt_transitions" ADD CONSTRAINT "payment_attempt_transitions_attempt_id_payment_attempts_id_fk" FOREIGN KEY ("attempt_id") REFERENCES "public"."payment_attempts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "checkout_transitions_checkout_idx" ON "checkout_transitions" USING btree ("checkout_id","at");--> statement-breakpoint
CREATE INDEX "payment_attempt_transitions_attempt_idx" ON "payment_attempt_transitions" USING btree ("attempt_id","at");