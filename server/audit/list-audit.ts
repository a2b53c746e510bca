import { and, eq, gte, ilike, lt, type SQL } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { auditLog, merchants, users } from "@/db/schema";
import { readKeysetPage, type KeysetPage } from "@/server/ops/keyset-page";
import type { TListAuditInput } from "./list-audit.schema";

// The read side of the audit log (ops console, /ops/audit): newest first, filtered by actor email, action,
// merchant, target id and UTC day range, keyset paged. Rows are returned as stored; `data` is the JSON the
// writer recorded (record-audit.ts), which never holds secrets or buyer data in clear.

export interface AuditRow {
  id: string;
  createdAt: Date;
  action: string;
  actorUserId: string | null;
  actorEmail: string | null;
  merchantId: string | null;
  merchantName: string | null;
  targetType: string;
  targetId: string;
  data: Record<string, unknown>;
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);
const dayStart = (day: string) => new Date(`${day}T00:00:00.000Z`);
const nextDay = (day: string) => new Date(dayStart(day).getTime() + 86_400_000);

function filters(input: TListAuditInput): SQL[] {
  const where: SQL[] = [];
  if (input.actor) where.push(ilike(users.email, `%${escapeLike(input.actor)}%`));
  if (input.action) where.push(eq(auditLog.action, input.action));
  if (input.merchantId) where.push(eq(auditLog.merchantId, input.merchantId));
  if (input.targetId) where.push(eq(auditLog.targetId, input.targetId));
  if (input.from) where.push(gte(auditLog.createdAt, dayStart(input.from)));
  if (input.to) where.push(lt(auditLog.createdAt, nextDay(input.to)));
  return where;
}

export async function listAuditLog(db: DbOrTx, input: TListAuditInput): Promise<KeysetPage<AuditRow>> {
  const base = filters(input);
  return readKeysetPage(
    db,
    { table: auditLog, at: auditLog.createdAt, id: auditLog.id },
    input,
    ({ where, orderBy, limit }) =>
      db
        .select({
          id: auditLog.id,
          createdAt: auditLog.createdAt,
          action: auditLog.action,
          actorUserId: auditLog.actorUserId,
          actorEmail: users.email,
          merchantId: auditLog.merchantId,
          merchantName: merchants.name,
          targetType: auditLog.targetType,
          targetId: auditLog.targetId,
          data: auditLog.data,
        })
        .from(auditLog)
        .leftJoin(users, eq(users.id, auditLog.actorUserId))
        .leftJoin(merchants, eq(merchants.id, auditLog.merchantId))
        .where(and(...base, where))
        .orderBy(...orderBy)
        .limit(limit),
    (r) => r.id,
  );
}
