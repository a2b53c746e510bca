import { sql } from "drizzle-orm";
import { check, index, primaryKey, pgTable, text, timestamp } from "drizzle-orm/pg-core";

// Liveness of the platform's background processes (docs/operations.md#observability): each instance of a
// process (the outbox dispatcher today) upserts its row every few seconds; /api/health reports the age of the
// freshest beat per process name. A stopped instance's row simply ages; rows a day old are pruned by the beaters.

export const processHeartbeats = pgTable(
  "process_heartbeats",
  {
    /** The process kind: "outbox-dispatcher". */
    name: text("name").notNull(),
    /** One per running instance (host, pid and a random suffix). */
    instanceId: text("instance_id").notNull(),
    startedAt: timestamp("started_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    beatAt: timestamp("beat_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.name, t.instanceId] }),
    index("process_heartbeats_name_beat_idx").on(t.name, t.beatAt),
    check("process_heartbeats_name_not_blank", sql`length(btrim(${t.name})) > 0`),
  ],
);
