ALTER TABLE "idempotency_keys" ADD COLUMN "response_text" text;--> statement-breakpoint
-- Records stored before: their jsonb text (keys in jsonb's order) is what they replay from now on.
UPDATE "idempotency_keys" SET "response_text" = "response_body"::text WHERE "response_body" IS NOT NULL;
