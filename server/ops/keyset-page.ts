import { asc, desc, eq, sql, type SQL } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import type { DbOrTx } from "@/db/client";
import { AppError } from "@/server/errors";

// Keyset paging for the ops console's newest-first lists (audit log, engine runs, dead letters). The cursor is
// a row's id; the comparison reads that row's timestamp in SQL, so the database's microsecond precision is kept
// (a JS Date would round it to milliseconds and skip or repeat rows that share a millisecond). Both directions:
// "next" pages towards older rows, "prev" back towards newer ones.

export const PAGE_DIRECTIONS = ["next", "prev"] as const;
export type PageDirection = (typeof PAGE_DIRECTIONS)[number];

export interface KeysetInput {
  /** The id of the row the page starts after ("next") or before ("prev"); none for the first page. */
  cursor?: string;
  direction?: PageDirection;
  limit: number;
}

export interface KeysetPage<T> {
  items: T[];
  /** Pass with direction "next" for the older page; null on the last page. */
  nextCursor: string | null;
  /** Pass with direction "prev" for the newer page; null on the first page. */
  prevCursor: string | null;
}

export interface KeysetColumns {
  table: PgTable;
  at: PgColumn;
  id: PgColumn;
}

/** Refuses a cursor that names no row (a 400: not one this list returned), before any page is read. */
export async function assertCursor(db: DbOrTx, cols: KeysetColumns, cursor: string | undefined): Promise<void> {
  if (!cursor) return;
  const [row] = await db.select({ id: cols.id }).from(cols.table).where(eq(cols.id, cursor)).limit(1);
  if (!row) {
    throw new AppError("validation_failed", "The cursor is not one this list returned.", { details: { fields: [{ field: "cursor", message: "not a cursor of this list" }] } });
  }
}

/** The WHERE part and ORDER BY of one page (ask for `limit + 1` rows, then hand them to `toKeysetPage`). */
export function keysetWindow(cols: KeysetColumns, input: KeysetInput): { where: SQL | undefined; orderBy: SQL[] } {
  const direction = input.direction ?? "next";
  if (!input.cursor) return { where: undefined, orderBy: [desc(cols.at), desc(cols.id)] };
  const key = sql`(select ${cols.at}, ${cols.id} from ${cols.table} where ${cols.id} = ${input.cursor})`;
  return direction === "next"
    ? { where: sql`(${cols.at}, ${cols.id}) < ${key}`, orderBy: [desc(cols.at), desc(cols.id)] }
    : { where: sql`(${cols.at}, ${cols.id}) > ${key}`, orderBy: [asc(cols.at), asc(cols.id)] };
}

/**
 * One page: checks the cursor, reads `limit + 1` rows through `read` (which ANDs `where` with its filters and
 * orders by `orderBy`), and works out both cursors. A "prev" page that reaches the newest row is the first page,
 * read again without a cursor, so going back always ends on a full first page.
 */
export async function readKeysetPage<T>(
  db: DbOrTx,
  cols: KeysetColumns,
  input: KeysetInput,
  read: (window: { where: SQL | undefined; orderBy: SQL[]; limit: number }) => Promise<T[]>,
  idOf: (row: T) => string,
): Promise<KeysetPage<T>> {
  await assertCursor(db, cols, input.cursor);
  const rows = await read({ ...keysetWindow(cols, input), limit: input.limit + 1 });
  if (input.direction === "prev" && input.cursor && rows.length <= input.limit) {
    const first = { limit: input.limit };
    return toKeysetPage(await read({ ...keysetWindow(cols, first), limit: input.limit + 1 }), first, idOf);
  }
  return toKeysetPage(rows, input, idOf);
}

/** Trims the extra row, restores newest-first order and works out both cursors. */
export function toKeysetPage<T>(rows: T[], input: KeysetInput, idOf: (row: T) => string): KeysetPage<T> {
  // "prev" without a cursor is the first page, read as "next" from the start (keysetWindow orders it so).
  const direction = input.cursor ? (input.direction ?? "next") : "next";
  const more = rows.length > input.limit;
  const items = rows.slice(0, input.limit);
  if (direction === "prev") items.reverse();
  const first = items[0];
  const last = items[items.length - 1];
  const hasNext = direction === "next" ? more : Boolean(input.cursor);
  const hasPrev = direction === "next" ? Boolean(input.cursor) : more;
  return {
    items,
    nextCursor: hasNext && last ? idOf(last) : null,
    prevCursor: hasPrev && first ? idOf(first) : null,
  };
}
