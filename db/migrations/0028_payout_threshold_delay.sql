ALTER TABLE "merchants" ADD COLUMN "payout_approval_threshold_next" bigint;--> statement-breakpoint
ALTER TABLE "merchants" ADD COLUMN "payout_approval_threshold_next_at" timestamp with time zone;