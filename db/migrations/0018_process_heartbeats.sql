CREATE TABLE "process_heartbeats" (
	"name" text NOT NULL,
	"instance_id" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"beat_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "process_heartbeats_name_instance_id_pk" PRIMARY KEY("name","instance_id"),
	CONSTRAINT "process_heartbeats_name_not_blank" CHECK (length(btrim("process_heartbeats"."name")) > 0)
);
--> statement-breakpoint
CREATE INDEX "process_heartbeats_name_beat_idx" ON "process_heartbeats" USING btree ("name","beat_at");