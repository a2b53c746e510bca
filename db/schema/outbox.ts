import { sql } from "drizzle-orm";
import { check, index, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { createdAt } from "./columns";

// Transactional outbox: domain code writes the event row in the same transaction as the state change
// (server/outbox/enqueue-event.ts); the dispatcher sends it to Inngest and marks it sent. The id is the
// Inngest event id, so a re-send after a crash is deduplicated by Inngest (or the local engine).

export const outboxEvents = pgTable(
  "outbox_events",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    data: jsonb("data").$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
    sentAt: timestamp("sent_at", { withTimezone: true, mode: "date" }),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    check("outbox_events_id_not_blank", sql`length(btrim(${t.id})) > 0`),
    check("outbox_events_name_not_blank", sql`length(btrim(${t.name})) > 0`),
    index("outbox_events_pending_idx").on(t.nextAttemptAt).where(sql`${t.sentAt} is null`),
    // Retention (server/maintenance/retention.ts) deletes events sent long ago.
    index("outbox_events_sent_idx").on(t.sentAt).where(sql`${t.sentAt} is not null`),
  ],
);
