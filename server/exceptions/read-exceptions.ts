import { and, asc, desc, eq, ilike, inArray, lt, min, or, sql, type SQL } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { auditLog, OPS_EXCEPTION_KINDS, opsExceptions, type OpsExceptionKind, type OpsExceptionStatus } from "@/db/schema";
import { AppError } from "@/server/errors";
import { OPEN_STATUSES, type OpsException } from "./exception-state";
import { EXCEPTIONS_PAGE_MAX, EXCEPTIONS_PAGE_SIZE } from "./limits";

// The ops queue's read models: a page of exceptions (newest last_seen_at first, keyset cursor), one exception
// with its audit trail, and the counts the queue's header and /metrics show.

/** The audit target of an exception's rows (exception.retried, exception.resolved). */
export const EXCEPTION_AUDIT_TARGET = "exception";

export type ExceptionStatusFilter = OpsExceptionStatus | "all";

export interface ListExceptionsInput {
  /** Default "open". */
  status?: ExceptionStatusFilter;
  kind?: OpsExceptionKind;
  /** Case-insensitive substring of subject_id, code, run_id, merchant_id or message (the page's placeholder names these). */
  search?: string;
  cursor?: string;
  limit?: number;
}

export interface ExceptionPage {
  items: OpsException[];
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

function encodeCursor(row: OpsException): string {
  return Buffer.from(JSON.stringify([row.lastSeenAt.toISOString(), row.id])).toString("base64url");
}

function decodeCursor(cursor: string): { lastSeenAt: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown[];
    const lastSeenAt = new Date(String(at));
    if (typeof at !== "string" || typeof id !== "string" || Number.isNaN(lastSeenAt.getTime())) throw new Error("bad cursor");
    return { lastSeenAt, id };
  } catch {
    throw new AppError("validation_failed", "The cursor is not one this list returned.", { details: { fields: [{ field: "cursor", message: "not a cursor of this list" }] } });
  }
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export async function listExceptions(db: DbOrTx, input: ListExceptionsInput = {}): Promise<ExceptionPage> {
  const limit = Math.min(Math.max(input.limit ?? EXCEPTIONS_PAGE_SIZE, 1), EXCEPTIONS_PAGE_MAX);
  const status = input.status ?? "open";
  const where: SQL[] = [];
  if (status !== "all") where.push(eq(opsExceptions.status, status));
  if (input.kind) where.push(eq(opsExceptions.kind, input.kind));
  const search = input.search?.trim();
  if (search) {
    const p = `%${escapeLike(search)}%`;
    where.push(or(ilike(opsExceptions.subjectId, p), ilike(opsExceptions.code, p), ilike(opsExceptions.runId, p), ilike(opsExceptions.merchantId, p), ilike(opsExceptions.message, p))!);
  }
  if (input.cursor) {
    const c = decodeCursor(input.cursor);
    where.push(or(lt(opsExceptions.lastSeenAt, c.lastSeenAt), and(eq(opsExceptions.lastSeenAt, c.lastSeenAt), lt(opsExceptions.id, c.id)))!);
  }
  const rows = await db
    .select()
    .from(opsExceptions)
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(opsExceptions.lastSeenAt), desc(opsExceptions.id))
    .limit(limit + 1);
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1]!) : null };
}

export interface ExceptionAuditEntry {
  id: string;
  action: string;
  actorUserId: string | null;
  data: Record<string, unknown>;
  createdAt: Date;
}

export interface ExceptionDetail {
  exception: OpsException;
  /** exception.retried / exception.resolved rows, oldest first. */
  audit: ExceptionAuditEntry[];
}

export async function getException(db: DbOrTx, id: string): Promise<ExceptionDetail> {
  const [exception] = await db.select().from(opsExceptions).where(eq(opsExceptions.id, id));
  if (!exception) throw new AppError("not_found", `No exception ${id}`);
  const audit = await db
    .select({ id: auditLog.id, action: auditLog.action, actorUserId: auditLog.actorUserId, data: auditLog.data, createdAt: auditLog.createdAt })
    .from(auditLog)
    .where(and(eq(auditLog.targetType, EXCEPTION_AUDIT_TARGET), eq(auditLog.targetId, id)))
    .orderBy(asc(auditLog.createdAt), asc(auditLog.id));
  return { exception, audit };
}

export interface ExceptionSummary {
  /** Every kind, open and retrying counts (0 when none). */
  byKind: Record<OpsExceptionKind, { open: number; retrying: number }>;
  open: number;
  retrying: number;
  /** The oldest last_seen_at among open and retrying exceptions; null when there are none. */
  oldestOpenLastSeenAt: Date | null;
}

export async function summarizeExceptions(db: DbOrTx): Promise<ExceptionSummary> {
  const rows = await db
    .select({ kind: opsExceptions.kind, status: opsExceptions.status, n: sql<number>`count(*)::int`, oldest: min(opsExceptions.lastSeenAt) })
    .from(opsExceptions)
    .where(inArray(opsExceptions.status, [...OPEN_STATUSES]))
    .groupBy(opsExceptions.kind, opsExceptions.status);
  const byKind = Object.fromEntries(OPS_EXCEPTION_KINDS.map((k) => [k, { open: 0, retrying: 0 }])) as ExceptionSummary["byKind"];
  let oldest: Date | null = null;
  for (const r of rows) {
    if (r.status === "open" || r.status === "retrying") byKind[r.kind][r.status] = Number(r.n);
    const at = r.oldest ? new Date(r.oldest) : null;
    if (at && (!oldest || at < oldest)) oldest = at;
  }
  const total = (s: "open" | "retrying") => Object.values(byKind).reduce((n, k) => n + k[s], 0);
  return { byKind, open: total("open"), retrying: total("retrying"), oldestOpenLastSeenAt: oldest };
}
