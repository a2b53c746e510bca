CREATE TYPE "public"."api_key_kind" AS ENUM('secret', 'publishable');--> statement-breakpoint
CREATE TYPE "public"."checkout_status" AS ENUM('open', 'processing', 'completed', 'failed', 'review', 'blocked');--> statement-breakpoint
CREATE TYPE "public"."payment_order_status" AS ENUM('NOT_STARTED', 'EXECUTING', 'SUCCESS', 'FAILED');--> statement-breakpoint
CREATE TYPE "public"."risk_outcome" AS ENUM('allow', 'review', 'block');--> statement-breakpoint
CREATE TYPE "public"."risk_rule_kind" AS ENUM('amount_limit', 'velocity', 'blocklist', 'country');--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"merchant_id" text NOT NULL,
	"kind" "api_key_kind" NOT NULL,
	"name" text NOT NULL,
	"public_value" text,
	"key_hash" text NOT NULL,
	"display_hint" text NOT NULL,
	"created_by_user_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_public_value_only_for_publishable" CHECK (("api_keys"."kind" = 'publishable') = ("api_keys"."public_value" is not null))
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"merchant_id" text NOT NULL,
	"key" text NOT NULL,
	"method" text NOT NULL,
	"path" text NOT NULL,
	"request_hash" text NOT NULL,
	"locked_at" timestamp with time zone,
	"recovery_point" text DEFAULT 'started' NOT NULL,
	"recovery_data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"response_status" integer,
	"response_body" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "idempotency_keys_merchant_id_key_pk" PRIMARY KEY("merchant_id","key"),
	CONSTRAINT "idempotency_key_length" CHECK (length("idempotency_keys"."key") between 1 and 255),
	CONSTRAINT "idempotency_finished_has_response" CHECK (("idempotency_keys"."recovery_point" = 'finished') = ("idempotency_keys"."response_status" is not null))
);
--> statement-breakpoint
CREATE TABLE "rate_limit_counters" (
	"bucket" text NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"count" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "rate_limit_counters_bucket_window_start_pk" PRIMARY KEY("bucket","window_start")
);
--> statement-breakpoint
CREATE TABLE "checkouts" (
	"id" text PRIMARY KEY NOT NULL,
	"merchant_id" text NOT NULL,
	"status" "checkout_status" DEFAULT 'open' NOT NULL,
	"currency" text NOT NULL,
	"total_amount" bigint NOT NULL,
	"buyer_info_encrypted" text NOT NULL,
	"buyer_email_hash" text,
	"buyer_ip" text,
	"buyer_country" text,
	"return_url" text NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "checkouts_total_positive" CHECK ("checkouts"."total_amount" > 0),
	CONSTRAINT "checkouts_currency_format" CHECK ("checkouts"."currency" ~ '^[A-Z]{3}$')
);
--> statement-breakpoint
CREATE TABLE "payment_order_transitions" (
	"id" text PRIMARY KEY NOT NULL,
	"payment_order_id" text NOT NULL,
	"from_status" "payment_order_status",
	"to_status" "payment_order_status" NOT NULL,
	"reason" text NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payment_orders" (
	"id" text PRIMARY KEY NOT NULL,
	"payment_order_id" text NOT NULL,
	"merchant_id" text NOT NULL,
	"checkout_id" text NOT NULL,
	"seller_id" text NOT NULL,
	"amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"status" "payment_order_status" DEFAULT 'NOT_STARTED' NOT NULL,
	"version" integer DEFAULT 0 NOT NULL,
	"psp" text,
	"failure_code" text,
	"failure_message" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "payment_orders_amount_positive" CHECK ("payment_orders"."amount" > 0),
	CONSTRAINT "payment_orders_currency_format" CHECK ("payment_orders"."currency" ~ '^[A-Z]{3}$'),
	CONSTRAINT "payment_orders_order_id_format" CHECK ("payment_orders"."payment_order_id" ~ '^[A-Za-z0-9_.:-]{1,64}$')
);
--> statement-breakpoint
CREATE TABLE "risk_decisions" (
	"id" text PRIMARY KEY NOT NULL,
	"checkout_id" text NOT NULL,
	"merchant_id" text NOT NULL,
	"outcome" "risk_outcome" NOT NULL,
	"reasons" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "risk_rules" (
	"id" text PRIMARY KEY NOT NULL,
	"merchant_id" text,
	"kind" "risk_rule_kind" NOT NULL,
	"action" "risk_outcome" NOT NULL,
	"params" jsonb NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_by_user_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "risk_rules_action_not_allow" CHECK ("risk_rules"."action" <> 'allow')
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_merchant_id_merchants_id_fk" FOREIGN KEY ("merchant_id") REFERENCES "public"."merchants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_merchant_id_merchants_id_fk" FOREIGN KEY ("merchant_id") REFERENCES "public"."merchants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "checkouts" ADD CONSTRAINT "checkouts_merchant_id_merchants_id_fk" FOREIGN KEY ("merchant_id") REFERENCES "public"."merchants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_order_transitions" ADD CONSTRAINT "payment_order_transitions_payment_order_id_payment_orders_id_fk" FOREIGN KEY ("payment_order_id") REFERENCES "public"."payment_orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_orders" ADD CONSTRAINT "payment_orders_merchant_id_merchants_id_fk" FOREIGN KEY ("merchant_id") REFERENCES "public"."merchants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_orders" ADD CONSTRAINT "payment_orders_checkout_id_checkouts_id_fk" FOREIGN KEY ("checkout_id") REFERENCES "public"."checkouts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_orders" ADD CONSTRAINT "payment_orders_seller_id_sellers_id_fk" FOREIGN KEY ("seller_id") REFERENCES "public"."sellers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "risk_decisions" ADD CONSTRAINT "risk_decisions_checkout_id_checkouts_id_fk" FOREIGN KEY ("checkout_id") REFERENCES "public"."checkouts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "risk_decisions" ADD CONSTRAINT "risk_decisions_merchant_id_merchants_id_fk" FOREIGN KEY ("merchant_id") REFERENCES "public"."merchants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "risk_rules" ADD CONSTRAINT "risk_rules_merchant_id_merchants_id_fk" FOREIGN KEY ("merchant_id") REFERENCES "public"."merchants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "risk_rules" ADD CONSTRAINT "risk_rules_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_hash_uq" ON "api_keys" USING btree ("key_hash");--> statement-breakpoint
CREATE INDEX "api_keys_merchant_idx" ON "api_keys" USING btree ("merchant_id");--> statement-breakpoint
CREATE INDEX "idempotency_keys_expires_idx" ON "idempotency_keys" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "rate_limit_window_idx" ON "rate_limit_counters" USING btree ("window_start");--> statement-breakpoint
CREATE INDEX "checkouts_merchant_created_idx" ON "checkouts" USING btree ("merchant_id","created_at");--> statement-breakpoint
CREATE INDEX "checkouts_buyer_email_idx" ON "checkouts" USING btree ("buyer_email_hash","created_at");--> statement-breakpoint
CREATE INDEX "payment_order_transitions_order_idx" ON "payment_order_transitions" USING btree ("payment_order_id","at");--> statement-breakpoint
CREATE UNIQUE INDEX "payment_orders_merchant_order_uq" ON "payment_orders" USING btree ("merchant_id","payment_order_id");--> statement-breakpoint
CREATE INDEX "payment_orders_checkout_idx" ON "payment_orders" USING btree ("checkout_id");--> statement-breakpoint
CREATE INDEX "payment_orders_seller_idx" ON "payment_orders" USING btree ("seller_id","created_at");--> statement-breakpoint
CREATE INDEX "risk_decisions_checkout_idx" ON "risk_decisions" USING btree ("checkout_id");--> statement-breakpoint
CREATE INDEX "risk_decisions_merchant_idx" ON "risk_decisions" USING btree ("merchant_id","outcome");--> statement-breakpoint
CREATE INDEX "risk_rules_merchant_idx" ON "risk_rules" USING btree ("merchant_id");