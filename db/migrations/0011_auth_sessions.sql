CREATE TABLE "sign_in_throttles" (
	"email" text NOT NULL,
	"client_ip" text NOT NULL,
	"failures" integer DEFAULT 0 NOT NULL,
	"locked_until" timestamp with time zone,
	"last_attempt_at" timestamp with time zone NOT NULL,
	CONSTRAINT "sign_in_throttles_email_client_ip_pk" PRIMARY KEY("email","client_ip"),
	CONSTRAINT "sign_in_throttles_failures_non_negative" CHECK ("sign_in_throttles"."failures" >= 0)
);
--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "session_epoch" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "sign_in_throttles_last_attempt_idx" ON "sign_in_throttles" USING btree ("last_attempt_at");