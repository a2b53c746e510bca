import { and, desc, eq, inArray, isNull, sql, type SQL } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { disputeReminders, disputes, paymentOrders, sellers } from "@/db/schema";
import { AppError } from "@/server/errors";
import { formatMoney, money } from "@/server/money";
import { presentDispute, type DisputeOrderRef } from "./present";
import { DISPUTE_RESPONDABLE_STATUSES } from "./state-machine";
import type { Dispute, DisputePage, DisputeView, ListDisputesInput } from "./types";

// Merchant-scoped reads of disputes: one (getDisputeView), a keyset-paged list (listDisputes), the dashboard's
// deadline notices (listDisputeNotices / dismissDisputeNotice). Another merchant's dispute is not_found, never data.

export const MAX_DISPUTES_PAGE = 100;

/** The orders the disputes' allocations name, with the merchant's ids for them. */
export async function loadDisputeOrders(db: DbOrTx, list: readonly Dispute[]): Promise<DisputeOrderRef[]> {
  const ids = [...new Set(list.flatMap((d) => d.allocation.map((a) => a.paymentOrderId)))];
  if (ids.length === 0) return [];
  return db
    .select({ paymentOrderInternalId: paymentOrders.id, paymentOrderId: paymentOrders.paymentOrderId, sellerReference: sellers.reference })
    .from(paymentOrders)
    .innerJoin(sellers, eq(sellers.id, paymentOrders.sellerId))
    .where(inArray(paymentOrders.id, ids));
}

export async function presentDisputes(db: DbOrTx, list: readonly Dispute[], now: Date = new Date()): Promise<DisputeView[]> {
  const orders = await loadDisputeOrders(db, list);
  return list.map((d) => presentDispute(d, orders, now));
}

/** The merchant's dispute row, or not_found (also for another merchant's id). */
export async function loadMerchantDispute(db: DbOrTx, merchantId: string, disputeId: string): Promise<Dispute> {
  const [row] = await db
    .select()
    .from(disputes)
    .where(and(eq(disputes.id, disputeId), eq(disputes.merchantId, merchantId)));
  if (!row) throw new AppError("not_found", `Dispute ${disputeId} not found`);
  return row;
}

export async function getDisputeView(db: DbOrTx, merchantId: string, disputeId: string): Promise<DisputeView> {
  const row = await loadMerchantDispute(db, merchantId, disputeId);
  const [view] = await presentDisputes(db, [row]);
  return view!;
}

const respondable = sql`(${disputes.status} in ('needs_response', 'warning_needs_response'))`;
/** due_by sort key: open ones first, then soonest deadline (none last), then id. */
const dueKey = sql`(case when ${respondable} then 0 else 1 end, coalesce(${disputes.evidenceDueBy}, 'infinity'::timestamptz), ${disputes.id})`;
const createdKey = sql`(${disputes.createdAt}, ${disputes.id})`;

const badCursor = () =>
  new AppError("validation_failed", "Invalid input: cursor: not a page cursor of this list; start again from the first page.", {
    details: { fields: [{ path: "cursor", message: "Not a page cursor of this list." }] },
  });

/** A cursor is the last row's id (dsp_…) tagged with its sort: the row's sort key is read back in SQL (exact, no rounding). */
export function encodeCursor(sort: ListDisputesInput["sort"], id: string): string {
  return Buffer.from(`${sort}:${id}`).toString("base64url");
}

function decodeCursor(text: string, sort: ListDisputesInput["sort"]): string {
  const raw = Buffer.from(text, "base64url").toString("utf8");
  const m = /^(due_by|created):(dsp_[0-9A-Za-z]{1,40})$/.exec(raw);
  if (!m || m[1] !== sort) throw badCursor();
  return m[2]!;
}

export async function listDisputes(db: DbOrTx, merchantId: string, input: ListDisputesInput): Promise<DisputePage> {
  const limit = Math.trunc(input.limit);
  if (!Number.isFinite(limit) || limit < 1 || limit > MAX_DISPUTES_PAGE) {
    throw new AppError("validation_failed", `Invalid input: limit: must be 1..${MAX_DISPUTES_PAGE}.`, { details: { fields: [{ path: "limit", message: `Must be 1..${MAX_DISPUTES_PAGE}.` }] } });
  }
  const sort = input.sort === "created" ? "created" : "due_by";
  const where: SQL[] = [eq(disputes.merchantId, merchantId)];
  if (input.status) where.push(eq(disputes.status, input.status));
  if (input.cursor) {
    const id = decodeCursor(input.cursor, sort);
    const [at] = await db.select({ id: disputes.id }).from(disputes).where(and(eq(disputes.id, id), eq(disputes.merchantId, merchantId)));
    if (!at) throw badCursor();
    where.push(
      sort === "due_by"
        ? sql`${dueKey} > (select case when d.status in ('needs_response', 'warning_needs_response') then 0 else 1 end, coalesce(d.evidence_due_by, 'infinity'::timestamptz), d.id from ${disputes} d where d.id = ${id})`
        : sql`${createdKey} < (select d.created_at, d.id from ${disputes} d where d.id = ${id})`,
    );
  }
  const order =
    sort === "due_by"
      ? [sql`case when ${respondable} then 0 else 1 end`, sql`coalesce(${disputes.evidenceDueBy}, 'infinity'::timestamptz)`, disputes.id]
      : [desc(disputes.createdAt), desc(disputes.id)];
  const rows = await db
    .select()
    .from(disputes)
    .where(and(...where))
    .orderBy(...order)
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const hasMore = rows.length > limit;
  return { data: await presentDisputes(db, page), hasMore, nextCursor: hasMore ? encodeCursor(sort, page[page.length - 1]!.id) : null };
}

export interface DisputeNotice {
  reminderId: string;
  disputeId: string;
  kind: "72h" | "24h";
  dueBy: Date;
  amount: string;
  currency: string;
}

/**
 * Reminders not dismissed, of disputes still needing a response: the dashboard notice. One per dispute (its latest
 * reminder: the 24 h one once sent), soonest deadline first.
 */
export async function listDisputeNotices(db: DbOrTx, merchantId: string): Promise<DisputeNotice[]> {
  const rows = await db
    .selectDistinctOn([disputeReminders.disputeId], {
      reminderId: disputeReminders.id,
      disputeId: disputeReminders.disputeId,
      kind: disputeReminders.kind,
      dueBy: disputeReminders.dueBy,
      dismissedAt: disputeReminders.dismissedAt,
      amount: disputes.amount,
      currency: disputes.currency,
    })
    .from(disputeReminders)
    .innerJoin(disputes, eq(disputes.id, disputeReminders.disputeId))
    .where(
      and(
        eq(disputeReminders.merchantId, merchantId),
        eq(disputes.merchantId, merchantId),
        inArray(disputes.status, [...DISPUTE_RESPONDABLE_STATUSES]),
        isNull(disputes.evidenceSubmittedAt),
        isNull(disputes.acceptedAt),
        // The current deadline's reminders only (a PSP may move due_by).
        sql`${disputeReminders.dueBy} = ${disputes.evidenceDueBy}`,
        sql`${disputes.evidenceDueBy} > now()`,
      ),
    )
    .orderBy(disputeReminders.disputeId, desc(disputeReminders.sentAt), desc(disputeReminders.id));
  return rows
    .filter((r) => !r.dismissedAt)
    .sort((a, b) => a.dueBy.getTime() - b.dueBy.getTime())
    .map((r) => ({ reminderId: r.reminderId, disputeId: r.disputeId, kind: r.kind, dueBy: r.dueBy, amount: formatMoney(money(r.amount, r.currency)), currency: r.currency }));
}

/** Hides a notice (the merchant's own reminders only: another merchant's id is not_found). Idempotent. */
export async function dismissDisputeNotice(db: DbOrTx, merchantId: string, reminderId: string): Promise<{ dismissed: true }> {
  const [row] = await db
    .select({ id: disputeReminders.id, dismissedAt: disputeReminders.dismissedAt })
    .from(disputeReminders)
    .where(and(eq(disputeReminders.id, reminderId), eq(disputeReminders.merchantId, merchantId)));
  if (!row) throw new AppError("not_found", `Notice ${reminderId} not found`);
  if (!row.dismissedAt) await db.update(disputeReminders).set({ dismissedAt: new Date() }).where(eq(disputeReminders.id, reminderId));
  return { dismissed: true };
}
