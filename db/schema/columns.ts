import { jsonb, type PgEnum, text, timestamp } from "drizzle-orm/pg-core";

// Shared column helpers: every timestamp is timezone-aware.
export const createdAt = () => timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();
export const updatedAt = () =>
  timestamp("updated_at", { withTimezone: true, mode: "date" })
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date());

/**
 * The columns of an entity's `<entity>_transitions` history (append-only by trigger): the move, why, its data
 * and when. The entity's own id column (a foreign key) sits beside them.
 */
export const transitionColumns = <T extends [string, ...string[]]>(status: PgEnum<T>) => ({
  fromStatus: status("from_status"),
  toStatus: status("to_status").notNull(),
  reason: text("reason").notNull(),
  data: jsonb("data").$type<Record<string, unknown>>().notNull().default({}),
  at: timestamp("at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});
