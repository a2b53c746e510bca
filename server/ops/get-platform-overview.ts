import { and, asc, count, desc, eq, inArray, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { merchants, reconCases, sellers, type ReconCaseType } from "@/db/schema";

export const OPS_MERCHANT_LIST_LIMIT = 100;
/** Invariant breaches listed by name on the ops home page (the count covers them all). */
export const OPS_INVARIANT_BREACHES_SHOWN = 5;

const OPEN_RECON_STATUSES = ["open", "acknowledged"] as const;

export interface ReconOverview {
  /** Open or acknowledged reconciliation cases. */
  open: number;
  byType: Array<{ type: ReconCaseType; count: number }>;
  /** Amount at risk of the open cases, minor units per currency (a decimal string: bigint-safe over the wire). */
  amountAtRisk: Array<{ currency: string; amount: string }>;
  /** Open invariant cases: a broken balance equation is shown first, whatever else is open. */
  invariantBreaches: number;
  invariants: Array<{ id: string; reference: string; detail: string; firstSeenAt: Date }>;
}

/** Open reconciliation cases by type and amount at risk, and the invariant breaches among them (ops home page, nav badge). */
export async function getReconOverview(db: DbOrTx): Promise<ReconOverview> {
  const openCases = inArray(reconCases.status, [...OPEN_RECON_STATUSES]);
  const [groups, invariants] = await Promise.all([
    db
      .select({ type: reconCases.type, currency: reconCases.currency, count: count(), amount: sql<string>`coalesce(sum(${reconCases.amountAtRisk}), 0)::text` })
      .from(reconCases)
      .where(openCases)
      .groupBy(reconCases.type, reconCases.currency),
    db
      .select({ id: reconCases.id, reference: reconCases.reference, detail: reconCases.detail, firstSeenAt: reconCases.firstSeenAt })
      .from(reconCases)
      .where(and(openCases, eq(reconCases.type, "invariant")))
      .orderBy(desc(reconCases.firstSeenAt))
      .limit(OPS_INVARIANT_BREACHES_SHOWN),
  ]);
  const byType = new Map<ReconCaseType, number>();
  const atRisk = new Map<string, bigint>();
  for (const g of groups) {
    byType.set(g.type, (byType.get(g.type) ?? 0) + g.count);
    atRisk.set(g.currency, (atRisk.get(g.currency) ?? 0n) + BigInt(g.amount));
  }
  return {
    open: groups.reduce((n, g) => n + g.count, 0),
    byType: [...byType].map(([type, n]) => ({ type, count: n })).sort((a, b) => b.count - a.count || a.type.localeCompare(b.type)),
    amountAtRisk: [...atRisk].filter(([, a]) => a > 0n).map(([currency, a]) => ({ currency, amount: a.toString() })).sort((a, b) => a.currency.localeCompare(b.currency)),
    invariantBreaches: byType.get("invariant") ?? 0,
    invariants,
  };
}

/** Cross-merchant view for ops: merchants with their seller and member counts and fee (each opens /ops/merchants/<id>), and the reconciliation summary. */
export async function getPlatformOverview(db: DbOrTx) {
  const [rows, reconciliation] = await Promise.all([
    db
      .select({
        id: merchants.id,
        name: merchants.name,
        country: merchants.country,
        defaultCurrency: merchants.defaultCurrency,
        platformFeeBps: merchants.platformFeeBps,
        createdAt: merchants.createdAt,
        sellerCount: count(sellers.id),
        memberCount: sql<number>`(select count(*)::int from memberships m where m.merchant_id = ${merchants.id})`,
      })
      .from(merchants)
      .leftJoin(sellers, eq(sellers.merchantId, merchants.id))
      .groupBy(merchants.id)
      .orderBy(asc(merchants.name))
      .limit(OPS_MERCHANT_LIST_LIMIT),
    getReconOverview(db),
  ]);
  return { merchants: rows, reconciliation };
}
