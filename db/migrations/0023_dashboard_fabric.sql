ALTER TYPE "public"."merchant_event_type" ADD VALUE 'webhook_endpoint.test';--> statement-breakpoint
CREATE TABLE "merchant_invitations" (
	"id" text PRIMARY KEY NOT NULL,
	"merchant_id" text NOT NULL,
	"email" text NOT NULL,
	"role" "merchant_role" NOT NULL,
	"token_hash" text NOT NULL,
	"invited_by_user_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"accepted_at" timestamp with time zone,
	"accepted_by_user_id" text,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "merchant_invitations_email_lower" CHECK ("merchant_invitations"."email" = lower("merchant_invitations"."email")),
	CONSTRAINT "merchant_invitations_one_outcome" CHECK ("merchant_invitations"."accepted_at" is null or "merchant_invitations"."revoked_at" is null)
);
--> statement-breakpoint
CREATE TABLE "merchant_logos" (
	"merchant_id" text PRIMARY KEY NOT NULL,
	"content_type" text NOT NULL,
	"data_base64" text NOT NULL,
	"sha256" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "merchant_logos_content_type" CHECK ("merchant_logos"."content_type" in ('image/png', 'image/jpeg', 'image/webp')),
	CONSTRAINT "merchant_logos_size" CHECK (length("merchant_logos"."data_base64") <= 700000)
);
--> statement-breakpoint
CREATE TABLE "api_request_log" (
	"id" text PRIMARY KEY NOT NULL,
	"merchant_id" text NOT NULL,
	"api_key_id" text,
	"mode" text NOT NULL,
	"method" text NOT NULL,
	"path" text NOT NULL,
	"status" integer NOT NULL,
	"idempotency_key" text,
	"request_id" text NOT NULL,
	"latency_ms" integer NOT NULL,
	"error_code" text,
	"checkout_id" text,
	"request_body" jsonb,
	"response_body" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "api_request_log_mode" CHECK ("api_request_log"."mode" in ('test', 'live'))
);
--> statement-breakpoint
CREATE TABLE "webhook_delivery_attempts" (
	"id" text PRIMARY KEY NOT NULL,
	"delivery_id" text NOT NULL,
	"attempt_no" integer NOT NULL,
	"status_code" integer,
	"error" text,
	"duration_ms" integer NOT NULL,
	"response_excerpt" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "merchants" ADD COLUMN "time_zone" text DEFAULT 'UTC' NOT NULL;--> statement-breakpoint
ALTER TABLE "merchants" ADD COLUMN "display_name" text;--> statement-breakpoint
ALTER TABLE "merchants" ADD COLUMN "logo_url" text;--> statement-breakpoint
ALTER TABLE "merchants" ADD COLUMN "accent_color" text;--> statement-breakpoint
ALTER TABLE "merchants" ADD COLUMN "support_email" text;--> statement-breakpoint
ALTER TABLE "payment_orders" ADD COLUMN "position" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "merchant_invitations" ADD CONSTRAINT "merchant_invitations_merchant_id_merchants_id_fk" FOREIGN KEY ("merchant_id") REFERENCES "public"."merchants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "merchant_invitations" ADD CONSTRAINT "merchant_invitations_invited_by_user_id_users_id_fk" FOREIGN KEY ("invited_by_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "merchant_invitations" ADD CONSTRAINT "merchant_invitations_accepted_by_user_id_users_id_fk" FOREIGN KEY ("accepted_by_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "merchant_logos" ADD CONSTRAINT "merchant_logos_merchant_id_merchants_id_fk" FOREIGN KEY ("merchant_id") REFERENCES "public"."merchants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_request_log" ADD CONSTRAINT "api_request_log_merchant_id_merchants_id_fk" FOREIGN KEY ("merchant_id") REFERENCES "public"."merchants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_request_log" ADD CONSTRAINT "api_request_log_api_key_id_api_keys_id_fk" FOREIGN KEY ("api_key_id") REFERENCES "public"."api_keys"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_delivery_attempts" ADD CONSTRAINT "webhook_delivery_attempts_delivery_id_webhook_deliveries_id_fk" FOREIGN KEY ("delivery_id") REFERENCES "public"."webhook_deliveries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "merchant_invitations_token_uq" ON "merchant_invitations" USING btree ("token_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "merchant_invitations_pending_uq" ON "merchant_invitations" USING btree ("merchant_id","email") WHERE "merchant_invitations"."accepted_at" is null and "merchant_invitations"."revoked_at" is null;--> statement-breakpoint
CREATE INDEX "api_request_log_merchant_created_idx" ON "api_request_log" USING btree ("merchant_id","created_at");--> statement-breakpoint
CREATE INDEX "api_request_log_checkout_idx" ON "api_request_log" USING btree ("checkout_id");--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_delivery_attempts_no_uq" ON "webhook_delivery_attempts" USING btree ("delivery_id","attempt_no");--> statement-breakpoint
CREATE INDEX "payment_orders_merchant_created_idx" ON "payment_orders" USING btree ("merchant_id","created_at");--> statement-breakpoint
ALTER TABLE "merchants" ADD CONSTRAINT "merchants_accent_color_format" CHECK ("merchants"."accent_color" ~ '^#[0-9a-f]{6}$');--> statement-breakpoint
ALTER TABLE "merchants" ADD CONSTRAINT "merchants_logo_url_format" CHECK ("merchants"."logo_url" ~ '^(https://|/api/branding/)');--> statement-breakpoint
ALTER TABLE "merchants" ADD CONSTRAINT "merchants_time_zone_not_blank" CHECK (length("merchants"."time_zone") between 1 and 64);