import { and, desc, eq, gte, ne, or, sql, type SQL } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { checkouts, merchants, riskDecisions } from "@/db/schema";
import { AppError } from "@/server/errors";

// A held checkout's buyer, as risk review sees them (/ops/risk): the other checkouts of the last 30 days with the
// same buyer email (by the keyed lookup hash stored at creation) or the same IP, across merchants, with their
// statuses and totals, and the earlier manual review decisions on them. Nothing is decrypted: the match is on the
// hash and the IP column, and no buyer detail leaves here (ops.buyerDetails reveals one checkout's, audited).

export const BUYER_HISTORY_DAYS = 30;
export const BUYER_HISTORY_RECENT_MAX = 25;
export const BUYER_HISTORY_REVIEWS_MAX = 25;

export type HistoryMatch = "email" | "ip";

export interface HistorySummary {
  /** Other checkouts in the window (the held one excluded). */
  count: number;
  byStatus: Record<string, number>;
  /** Totals per currency, minor units. */
  totals: { currency: string; amount: bigint }[];
  lastSeenAt: Date | null;
}

async function summarize(db: DbOrTx, match: SQL, since: Date, exclude: string): Promise<HistorySummary> {
  const rows = await db
    .select({ status: checkouts.status, currency: checkouts.currency, n: sql<number>`count(*)::int`, amount: sql<string>`sum(${checkouts.totalAmount})::text`, last: sql<Date>`max(${checkouts.createdAt})` })
    .from(checkouts)
    .where(and(match, gte(checkouts.createdAt, since), ne(checkouts.id, exclude)))
    .groupBy(checkouts.status, checkouts.currency);
  const byStatus: Record<string, number> = {};
  const totals = new Map<string, bigint>();
  let last: Date | null = null;
  for (const r of rows) {
    byStatus[r.status] = (byStatus[r.status] ?? 0) + r.n;
    totals.set(r.currency, (totals.get(r.currency) ?? 0n) + BigInt(r.amount));
    const at = new Date(r.last);
    if (!last || at > last) last = at;
  }
  return {
    count: rows.reduce((n, r) => n + r.n, 0),
    byStatus,
    totals: [...totals].map(([currency, amount]) => ({ currency, amount })).sort((a, b) => a.currency.localeCompare(b.currency)),
    lastSeenAt: last,
  };
}

export async function getBuyerHistory(db: DbOrTx, checkoutId: string, now: Date = new Date()) {
  const [held] = await db
    .select({ id: checkouts.id, emailHash: checkouts.buyerEmailHash, ip: checkouts.buyerIp })
    .from(checkouts)
    .where(eq(checkouts.id, checkoutId));
  if (!held) throw new AppError("not_found", "Checkout not found");
  const since = new Date(now.getTime() - BUYER_HISTORY_DAYS * 86_400_000);
  const byEmail = held.emailHash ? eq(checkouts.buyerEmailHash, held.emailHash) : undefined;
  const byIp = held.ip ? eq(checkouts.buyerIp, held.ip) : undefined;
  const empty: HistorySummary = { count: 0, byStatus: {}, totals: [], lastSeenAt: null };
  const either = or(byEmail, byIp);
  if (!either) return { checkoutId, days: BUYER_HISTORY_DAYS, hasEmail: false, hasIp: false, email: empty, ip: empty, recent: [], reviews: [] };

  const [email, ip, recentRows] = await Promise.all([
    byEmail ? summarize(db, byEmail, since, held.id) : empty,
    byIp ? summarize(db, byIp, since, held.id) : empty,
    db
      .select({
        checkoutId: checkouts.id,
        merchantId: checkouts.merchantId,
        merchantName: merchants.name,
        status: checkouts.status,
        amount: checkouts.totalAmount,
        currency: checkouts.currency,
        createdAt: checkouts.createdAt,
        sameEmail: byEmail ? sql<boolean>`${byEmail}` : sql<boolean>`false`,
        sameIp: byIp ? sql<boolean>`${byIp}` : sql<boolean>`false`,
      })
      .from(checkouts)
      .innerJoin(merchants, eq(merchants.id, checkouts.merchantId))
      .where(and(either, gte(checkouts.createdAt, since), ne(checkouts.id, held.id)))
      .orderBy(desc(checkouts.createdAt), desc(checkouts.id))
      .limit(BUYER_HISTORY_RECENT_MAX),
  ]);
  // Manual decisions (server/risk/review-checkout.ts writes them with ruleId "manual") on the buyer's other checkouts.
  const reviewRows = await db
    .select({ checkoutId: riskDecisions.checkoutId, outcome: riskDecisions.outcome, reasons: riskDecisions.reasons, at: riskDecisions.createdAt })
    .from(riskDecisions)
    .innerJoin(checkouts, eq(checkouts.id, riskDecisions.checkoutId))
    .where(and(either, gte(checkouts.createdAt, since), ne(checkouts.id, held.id), sql`${riskDecisions.reasons} @> '[{"ruleId":"manual"}]'::jsonb`))
    .orderBy(desc(riskDecisions.createdAt), desc(riskDecisions.id))
    .limit(BUYER_HISTORY_REVIEWS_MAX);
  const reviews = reviewRows.map((r) => ({
    checkoutId: r.checkoutId,
    outcome: r.outcome === "allow" ? ("approved" as const) : ("rejected" as const),
    note: r.reasons.find((x) => x.ruleId === "manual")?.reason ?? "",
    at: r.at,
  }));
  const lastReview = new Map<string, (typeof reviews)[number]>();
  for (const r of reviews) if (!lastReview.has(r.checkoutId)) lastReview.set(r.checkoutId, r);
  const recent = recentRows.map((r) => ({
    ...r,
    matchedBy: [...(r.sameEmail ? ["email" as const] : []), ...(r.sameIp ? ["ip" as const] : [])] satisfies HistoryMatch[],
    review: lastReview.get(r.checkoutId)?.outcome ?? null,
  }));
  return { checkoutId, days: BUYER_HISTORY_DAYS, hasEmail: Boolean(byEmail), hasIp: Boolean(byIp), email, ip, recent, reviews };
}

export type BuyerHistory = Awaited<ReturnType<typeof getBuyerHistory>>;
