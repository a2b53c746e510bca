// Reading payouts: always scoped to the caller's merchant (another merchant's id is not_found, never data).
// Keyset pages on (created_at, id) descending; the cursor names the last payout of the page (opaque to callers).
// Two shapes from one query: the dashboard's PayoutRow (payouts.list) and the public PayoutView (GET /api/v1/payouts).
import { and, desc, eq, gte, lte, sql, type SQL } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { payoutDestinations, payouts, sellers } from "@/db/schema";
import { AppError } from "@/server/errors";
import { formatMoney, money } from "@/server/money";
import { presentPayout } from "./present";
import type { PayoutStatus, PayoutView } from "./types";

export const PAYOUTS_PAGE_MAX = 100;
const CURSOR_PREFIX = "pc1.";
const PAYOUT_ID = /^pyo_[0-9A-HJKMNP-TV-Z]{26}$/;

/** One line of the dashboard's payouts list. Amounts are decimal strings in major units ("125.00"); times ISO. */
export interface PayoutRow {
  id: string;
  sellerId: string;
  sellerName: string;
  sellerReference: string;
  amount: string;
  currency: string;
  status: PayoutStatus;
  origin: "scheduled" | "manual" | "api";
  createdAt: string;
  arrivalDate: string | null;
}

export interface ListPayoutsFilter {
  sellerId?: string;
  /** The merchant's seller reference (the API's seller_account). */
  sellerReference?: string;
  status?: PayoutStatus;
  currency?: string;
  createdGte?: Date;
  createdLte?: Date;
  cursor?: string;
  limit: number;
}

export function encodePayoutCursor(payoutId: string): string {
  return CURSOR_PREFIX + Buffer.from(payoutId, "utf8").toString("base64url");
}

const badCursor = () =>
  new AppError("validation_failed", "Invalid input: cursor: not a page cursor of this list; start again from the first page.", { details: { fields: [{ path: "cursor", message: "Not a page cursor of this list." }] } });

function decodePayoutCursor(cursor: string): string {
  if (!cursor.startsWith(CURSOR_PREFIX) || cursor.length > 100) throw badCursor();
  const id = Buffer.from(cursor.slice(CURSOR_PREFIX.length), "base64url").toString("utf8");
  if (!PAYOUT_ID.test(id)) throw badCursor();
  return id;
}

const selection = {
  payout: payouts,
  sellerName: sellers.name,
  sellerReference: sellers.reference,
  destination: { psp: payoutDestinations.psp, stripeAccountId: payoutDestinations.stripeAccountId, phoneLast3: payoutDestinations.phoneLast3 },
};

type Joined = { payout: typeof payouts.$inferSelect; sellerName: string; sellerReference: string; destination: { psp: "stripe" | "mpesa"; stripeAccountId: string | null; phoneLast3: string | null } };

export function payoutBaseQuery(db: DbOrTx, where: SQL) {
  return db
    .select(selection)
    .from(payouts)
    .innerJoin(sellers, eq(sellers.id, payouts.sellerId))
    .innerJoin(payoutDestinations, eq(payoutDestinations.id, payouts.destinationId))
    .where(where);
}

/** One payout of this merchant with its seller and destination (another merchant's id: not_found). */
export async function loadMerchantPayout(db: DbOrTx, merchantId: string, payoutId: string): Promise<Joined> {
  if (!PAYOUT_ID.test(payoutId)) throw new AppError("not_found", "Payout not found");
  const [row] = await payoutBaseQuery(db, and(eq(payouts.merchantId, merchantId), eq(payouts.id, payoutId))!);
  if (!row) throw new AppError("not_found", "Payout not found");
  return row;
}

async function listJoined(db: DbOrTx, merchantId: string, input: ListPayoutsFilter): Promise<{ rows: Joined[]; hasMore: boolean; nextCursor: string | null }> {
  const limit = Math.max(1, Math.min(PAYOUTS_PAGE_MAX, Math.floor(input.limit) || 1));
  const where: SQL[] = [eq(payouts.merchantId, merchantId)];
  if (input.sellerId) where.push(eq(payouts.sellerId, input.sellerId));
  if (input.sellerReference !== undefined) where.push(eq(sellers.reference, input.sellerReference));
  if (input.status) where.push(eq(payouts.status, input.status));
  if (input.currency) where.push(eq(payouts.currency, input.currency));
  if (input.createdGte) where.push(gte(payouts.createdAt, input.createdGte));
  if (input.createdLte) where.push(lte(payouts.createdAt, input.createdLte));
  if (input.cursor) {
    const after = decodePayoutCursor(input.cursor);
    const [anchor] = await db.select({ id: payouts.id }).from(payouts).where(and(eq(payouts.merchantId, merchantId), eq(payouts.id, after)));
    if (!anchor) throw badCursor();
    where.push(sql`(${payouts.createdAt}, ${payouts.id}) < (select p.created_at, p.id from payouts p where p.id = ${after})`);
  }
  const rows = await payoutBaseQuery(db, and(...where)!)
    .orderBy(desc(payouts.createdAt), desc(payouts.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const hasMore = rows.length > limit;
  return { rows: page, hasMore, nextCursor: hasMore ? encodePayoutCursor(page[page.length - 1]!.payout.id) : null };
}

export function toPayoutRow(r: Joined): PayoutRow {
  const p = r.payout;
  return {
    id: p.id,
    sellerId: p.sellerId,
    sellerName: r.sellerName,
    sellerReference: r.sellerReference,
    amount: formatMoney(money(p.amount, p.currency)),
    currency: p.currency,
    status: p.status,
    origin: p.origin,
    createdAt: p.createdAt.toISOString(),
    arrivalDate: p.arrivalDate?.toISOString() ?? null,
  };
}

export function toPayoutView(r: Joined): PayoutView {
  return presentPayout(r.payout, { sellerReference: r.sellerReference, destination: r.destination });
}

/** The dashboard's list (payouts.list), newest first. */
export async function listPayoutRows(db: DbOrTx, merchantId: string, input: ListPayoutsFilter): Promise<{ items: PayoutRow[]; nextCursor: string | null }> {
  const page = await listJoined(db, merchantId, input);
  return { items: page.rows.map(toPayoutRow), nextCursor: page.nextCursor };
}

/** The public list (GET /api/v1/payouts), newest first, without items. */
export async function listPayoutViews(db: DbOrTx, merchantId: string, input: ListPayoutsFilter): Promise<{ data: PayoutView[]; hasMore: boolean }> {
  const page = await listJoined(db, merchantId, input);
  return { data: page.rows.map(toPayoutView), hasMore: page.hasMore };
}
