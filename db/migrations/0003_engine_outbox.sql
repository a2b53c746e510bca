CREATE SEQUENCE "public"."engine_step_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1;--> statement-breakpoint
CREATE TABLE "engine_apps" (
	"id" text PRIMARY KEY NOT NULL,
	"url" text NOT NULL,
	"sdk" text,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "engine_attempts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_id" text NOT NULL,
	"step_id" text,
	"attempt" integer NOT NULL,
	"outcome" text NOT NULL,
	"status_code" integer,
	"error" jsonb,
	"duration_ms" integer NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "engine_crons" (
	"function_id" text NOT NULL,
	"schedule" text NOT NULL,
	"next_at" timestamp with time zone NOT NULL,
	CONSTRAINT "engine_crons_function_id_schedule_pk" PRIMARY KEY("function_id","schedule")
);
--> statement-breakpoint
CREATE TABLE "engine_dead_letters" (
	"run_id" text PRIMARY KEY NOT NULL,
	"function_id" text NOT NULL,
	"error" jsonb NOT NULL,
	"failed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"replayed_run_id" text,
	"replayed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "engine_dedupe_keys" (
	"key" text PRIMARY KEY NOT NULL,
	"ref" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "engine_events" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"payload" jsonb NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "engine_functions" (
	"id" text PRIMARY KEY NOT NULL,
	"app_id" text NOT NULL,
	"name" text NOT NULL,
	"url" text NOT NULL,
	"config" jsonb NOT NULL,
	"active" integer DEFAULT 1 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "engine_jobs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_id" text NOT NULL,
	"kind" text NOT NULL,
	"step_id" text,
	"attempt" integer DEFAULT 0 NOT NULL,
	"run_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lease_until" timestamp with time zone,
	"lease_token" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "engine_jobs_one_per_step_uq" UNIQUE NULLS NOT DISTINCT("run_id","kind","step_id"),
	CONSTRAINT "engine_jobs_kind" CHECK ("engine_jobs"."kind" in ('call','sleep','wait_timeout','invoke_timeout')),
	CONSTRAINT "engine_jobs_attempt" CHECK ("engine_jobs"."attempt" >= 0)
);
--> statement-breakpoint
CREATE TABLE "engine_runs" (
	"id" text PRIMARY KEY NOT NULL,
	"function_id" text NOT NULL,
	"event_id" text NOT NULL,
	"event" jsonb NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"output" jsonb,
	"error" jsonb,
	"parent_run_id" text,
	"parent_step_id" text,
	"replay_of" text,
	"concurrency_key" text,
	"singleton_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "engine_runs_status" CHECK ("engine_runs"."status" in ('running','completed','failed','cancelled')),
	CONSTRAINT "engine_runs_ended" CHECK (("engine_runs"."status" = 'running') = ("engine_runs"."ended_at" is null))
);
--> statement-breakpoint
CREATE TABLE "engine_steps" (
	"run_id" text NOT NULL,
	"step_id" text NOT NULL,
	"op" text NOT NULL,
	"name" text,
	"status" text NOT NULL,
	"result" jsonb,
	"attempts" integer DEFAULT 0 NOT NULL,
	"completed_seq" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "engine_steps_run_id_step_id_pk" PRIMARY KEY("run_id","step_id"),
	CONSTRAINT "engine_steps_status" CHECK ("engine_steps"."status" in ('planned','sleeping','waiting','invoking','completed','failed')),
	CONSTRAINT "engine_steps_result" CHECK (("engine_steps"."status" in ('completed','failed')) = ("engine_steps"."result" is not null))
);
--> statement-breakpoint
CREATE TABLE "engine_waits" (
	"run_id" text NOT NULL,
	"step_id" text NOT NULL,
	"event_name" text NOT NULL,
	"expression" text,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "engine_waits_run_id_step_id_pk" PRIMARY KEY("run_id","step_id")
);
--> statement-breakpoint
CREATE TABLE "outbox_events" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"data" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "outbox_events_id_not_blank" CHECK (length(btrim("outbox_events"."id")) > 0),
	CONSTRAINT "outbox_events_name_not_blank" CHECK (length(btrim("outbox_events"."name")) > 0)
);
--> statement-breakpoint
ALTER TABLE "engine_attempts" ADD CONSTRAINT "engine_attempts_run_id_engine_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."engine_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "engine_crons" ADD CONSTRAINT "engine_crons_function_id_engine_functions_id_fk" FOREIGN KEY ("function_id") REFERENCES "public"."engine_functions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "engine_dead_letters" ADD CONSTRAINT "engine_dead_letters_run_id_engine_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."engine_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "engine_functions" ADD CONSTRAINT "engine_functions_app_id_engine_apps_id_fk" FOREIGN KEY ("app_id") REFERENCES "public"."engine_apps"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "engine_jobs" ADD CONSTRAINT "engine_jobs_run_id_engine_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."engine_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "engine_runs" ADD CONSTRAINT "engine_runs_function_id_engine_functions_id_fk" FOREIGN KEY ("function_id") REFERENCES "public"."engine_functions"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "engine_steps" ADD CONSTRAINT "engine_steps_run_id_engine_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."engine_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "engine_waits" ADD CONSTRAINT "engine_waits_run_id_engine_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."engine_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "engine_attempts_run_idx" ON "engine_attempts" USING btree ("run_id","id");--> statement-breakpoint
CREATE INDEX "engine_events_name_idx" ON "engine_events" USING btree ("name","received_at");--> statement-breakpoint
CREATE INDEX "engine_jobs_due_idx" ON "engine_jobs" USING btree ("run_at");--> statement-breakpoint
CREATE INDEX "engine_runs_fn_status_idx" ON "engine_runs" USING btree ("function_id","status");--> statement-breakpoint
CREATE INDEX "engine_runs_created_idx" ON "engine_runs" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "engine_waits_event_idx" ON "engine_waits" USING btree ("event_name");--> statement-breakpoint
CREATE INDEX "outbox_events_pending_idx" ON "outbox_events" USING btree ("next_attempt_at") WHERE "outbox_events"."sent_at" is null;