// The import record (recon_imports): one per file (key = source + SHA-256 of its bytes) or API window, the only
// writer of its status. running -> completed | failed; a failed or crashed (still running) import with the same
// key is resumed: an API import after its committed cursor, a file import from the start (its rows commit in one
// transaction with its completion, so a crash left none).
import { createHash } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import type postgres from "postgres";
import type { DbOrTx } from "@/db/client";
import { type ReconImportStatus, type ReconSource, reconImports } from "@/db/schema";

/** An error text kept on a failed import is cut to this many characters. */
export const IMPORT_ERROR_CHARS_MAX = 2_000;

export interface BeginImportInput {
  psp: "stripe" | "mpesa";
  source: ReconSource;
  importKey: string;
  label: string;
  userId?: string | null;
}

export interface BegunImport {
  id: string;
  status: ReconImportStatus;
  /** The last page boundary committed (API imports); null at the start. */
  cursor: string | null;
  /** A completed import had this key: nothing to do. */
  alreadyImported: boolean;
  rowsSeen: number;
  rowsAdded: number;
}

/** The key of a file: its source and the SHA-256 of its bytes (the same file twice is one import). */
export function fileImportKey(source: ReconSource, bytes: string | Buffer): string {
  return `${source}:sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** Creates the import, or finds the one with this key: completed => alreadyImported; failed => running again. */
export async function beginImport(db: DbOrTx, input: BeginImportInput): Promise<BegunImport> {
  await db
    .insert(reconImports)
    .values({ psp: input.psp, source: input.source, importKey: input.importKey, label: input.label, createdByUserId: input.userId ?? null })
    .onConflictDoNothing({ target: reconImports.importKey });
  const [row] = await db.select().from(reconImports).where(eq(reconImports.importKey, input.importKey));
  if (!row) throw new Error(`recon import ${input.importKey} vanished`);
  if (row.source !== input.source || row.psp !== input.psp) throw new Error(`import key ${input.importKey} belongs to a ${row.psp} ${row.source} import`);
  if (row.status === "failed") await db.update(reconImports).set({ status: "running", error: null, finishedAt: null }).where(eq(reconImports.id, row.id));
  const status = row.status === "failed" ? "running" : row.status;
  return { id: row.id, status, cursor: row.cursor, alreadyImported: status === "completed", rowsSeen: row.rowsSeen, rowsAdded: row.rowsAdded };
}

/** Locks the import row for a unit of work (a page or a file) so two runners of one key take turns. */
export async function lockImport(tx: DbOrTx, importId: string): Promise<{ status: ReconImportStatus; cursor: string | null }> {
  const [row] = await tx.select({ status: reconImports.status, cursor: reconImports.cursor }).from(reconImports).where(eq(reconImports.id, importId)).for("update");
  if (!row) throw new Error(`recon import ${importId} not found`);
  return row;
}

/** A committed page: its rows and the cursor after it, in the caller's transaction. */
export async function advanceImport(tx: DbOrTx, importId: string, page: { cursor: string | null; rowsSeen: number; rowsAdded: number }): Promise<void> {
  await tx
    .update(reconImports)
    .set({ cursor: page.cursor, rowsSeen: sql`${reconImports.rowsSeen} + ${page.rowsSeen}`, rowsAdded: sql`${reconImports.rowsAdded} + ${page.rowsAdded}` })
    .where(eq(reconImports.id, importId));
}

/** Completed. `totals` (a file import) sets the counts; without it the pages' sums stand. */
export async function finishImport(db: DbOrTx, importId: string, totals?: { rowsSeen: number; rowsAdded: number }): Promise<{ rowsSeen: number; rowsAdded: number }> {
  const [row] = await db
    .update(reconImports)
    .set({ status: "completed", finishedAt: new Date(), error: null, ...(totals ? { rowsSeen: totals.rowsSeen, rowsAdded: totals.rowsAdded } : {}) })
    .where(eq(reconImports.id, importId))
    .returning({ rowsSeen: reconImports.rowsSeen, rowsAdded: reconImports.rowsAdded });
  if (!row) throw new Error(`recon import ${importId} not found`);
  return row;
}

/** Failed with the error (a completed import stays completed). Its committed pages stay; a re-run resumes. */
export async function failImport(db: DbOrTx, importId: string, err: unknown): Promise<void> {
  const text = (err instanceof Error ? err.message : String(err)).slice(0, IMPORT_ERROR_CHARS_MAX);
  await db
    .update(reconImports)
    .set({ status: "failed", error: text, finishedAt: new Date() })
    .where(sql`${reconImports.id} = ${importId} and ${reconImports.status} <> 'completed'`);
}

// The same two steps on a raw postgres.js transaction (the bulk COPY path runs on db.$client, not through Drizzle).

export async function lockImportSql(tx: postgres.TransactionSql, importId: string): Promise<{ status: ReconImportStatus }> {
  const [row] = await tx<{ status: ReconImportStatus }[]>`select status from recon_imports where id = ${importId} for update`;
  if (!row) throw new Error(`recon import ${importId} not found`);
  return row;
}

export async function finishImportSql(tx: postgres.TransactionSql, importId: string, totals: { rowsSeen: number; rowsAdded: number }): Promise<void> {
  await tx`update recon_imports set status = 'completed', finished_at = now(), error = null, rows_seen = ${totals.rowsSeen}, rows_added = ${totals.rowsAdded} where id = ${importId}`;
}
