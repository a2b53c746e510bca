import { and, asc, count, desc, eq, inArray, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { doubleCharges, memberships, merchants, opsExceptions, paymentOrders, sellers, users } from "@/db/schema";
import { listAuditLog, type AuditRow } from "@/server/audit/list-audit";
import { AppError } from "@/server/errors";
import { OPEN_STATUSES } from "@/server/exceptions/exception-state";

// Ops drill-down of one merchant (/ops/merchants/<id>): settings and fee, team, balances per currency (from
// the ledger), recent payments, what is open for it (exceptions, double charges) and its latest audit rows.
// Ops see every merchant; an id that names none is not_found. Amounts leave as bigint minor units.

export const MERCHANT_DETAIL_RECENT = 20;
export const MERCHANT_DETAIL_MEMBERS_MAX = 200;
export const MERCHANT_DETAIL_SELLERS_MAX = 200;

export interface CurrencyBalance {
  currency: string;
  pending: bigint;
  available: bigint;
  onHold: bigint;
}

/** The merchant's sellers' wallets summed per currency: credit-normal liabilities, so owed = minus the signed sum. */
async function balancesPerCurrency(db: DbOrTx, merchantId: string): Promise<CurrencyBalance[]> {
  const rows = (await db.execute(sql`
    select a.currency, a.kind::text as kind, (-coalesce(sum(b.balance), 0))::bigint as owed
    from ledger_accounts a
    join sellers s on s.id = a.seller_id
    left join ledger_balances b on b.account_id = a.id
    where s.merchant_id = ${merchantId}
      and a.kind in ('seller_payable_pending', 'seller_payable_available', 'seller_payable_on_hold')
    group by a.currency, a.kind
    order by a.currency`)) as unknown as Array<{ currency: string; kind: string; owed: bigint | string }>;
  const byCurrency = new Map<string, CurrencyBalance>();
  for (const r of rows) {
    const b = byCurrency.get(r.currency) ?? { currency: r.currency, pending: 0n, available: 0n, onHold: 0n };
    const owed = BigInt(r.owed);
    if (r.kind === "seller_payable_pending") b.pending = owed;
    else if (r.kind === "seller_payable_available") b.available = owed;
    else b.onHold = owed;
    byCurrency.set(r.currency, b);
  }
  return [...byCurrency.values()];
}

export async function getOpsMerchantDetail(db: DbOrTx, merchantId: string) {
  const [merchant] = await db.select().from(merchants).where(eq(merchants.id, merchantId));
  if (!merchant) throw new AppError("not_found", "Merchant not found");
  const [members, sellerRows, balances, payments, exceptions, openExceptions, charges, audit] = await Promise.all([
    db
      .select({ userId: users.id, email: users.email, name: users.name, role: memberships.role, since: memberships.createdAt })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(eq(memberships.merchantId, merchantId))
      .orderBy(asc(users.email))
      .limit(MERCHANT_DETAIL_MEMBERS_MAX),
    db
      .select({ id: sellers.id, reference: sellers.reference, name: sellers.name, defaultCurrency: sellers.defaultCurrency })
      .from(sellers)
      .where(eq(sellers.merchantId, merchantId))
      .orderBy(asc(sellers.name))
      .limit(MERCHANT_DETAIL_SELLERS_MAX),
    balancesPerCurrency(db, merchantId),
    db
      .select({
        id: paymentOrders.id,
        paymentOrderId: paymentOrders.paymentOrderId,
        checkoutId: paymentOrders.checkoutId,
        sellerName: sellers.name,
        amount: paymentOrders.amount,
        currency: paymentOrders.currency,
        status: paymentOrders.status,
        psp: paymentOrders.psp,
        createdAt: paymentOrders.createdAt,
      })
      .from(paymentOrders)
      .innerJoin(sellers, eq(sellers.id, paymentOrders.sellerId))
      .where(eq(paymentOrders.merchantId, merchantId))
      .orderBy(desc(paymentOrders.createdAt), desc(paymentOrders.id))
      .limit(MERCHANT_DETAIL_RECENT),
    db
      .select({
        id: opsExceptions.id,
        kind: opsExceptions.kind,
        reason: opsExceptions.reason,
        status: opsExceptions.status,
        subjectType: opsExceptions.subjectType,
        subjectId: opsExceptions.subjectId,
        message: opsExceptions.message,
        lastSeenAt: opsExceptions.lastSeenAt,
      })
      .from(opsExceptions)
      .where(and(eq(opsExceptions.merchantId, merchantId), inArray(opsExceptions.status, [...OPEN_STATUSES])))
      .orderBy(desc(opsExceptions.lastSeenAt), desc(opsExceptions.id))
      .limit(MERCHANT_DETAIL_RECENT),
    db
      .select({ n: count() })
      .from(opsExceptions)
      .where(and(eq(opsExceptions.merchantId, merchantId), inArray(opsExceptions.status, [...OPEN_STATUSES]))),
    db
      .select({
        id: doubleCharges.id,
        checkoutId: doubleCharges.checkoutId,
        psp: doubleCharges.psp,
        pspReference: doubleCharges.pspReference,
        amount: doubleCharges.amount,
        currency: doubleCharges.currency,
        createdAt: doubleCharges.createdAt,
      })
      .from(doubleCharges)
      .where(and(eq(doubleCharges.merchantId, merchantId), eq(doubleCharges.status, "awaiting_refund")))
      .orderBy(asc(doubleCharges.createdAt))
      .limit(MERCHANT_DETAIL_RECENT),
    listAuditLog(db, { merchantId, direction: "next", limit: MERCHANT_DETAIL_RECENT }),
  ]);
  return {
    merchant: {
      id: merchant.id,
      name: merchant.name,
      displayName: merchant.displayName,
      country: merchant.country,
      defaultCurrency: merchant.defaultCurrency,
      platformFeeBps: merchant.platformFeeBps,
      timeZone: merchant.timeZone,
      supportEmail: merchant.supportEmail,
      logoUrl: merchant.logoUrl,
      accentColor: merchant.accentColor,
      createdAt: merchant.createdAt,
    },
    members,
    sellers: sellerRows,
    balances,
    recentPayments: payments,
    openExceptions: { count: openExceptions[0]?.n ?? 0, items: exceptions },
    doubleCharges: charges,
    recentAudit: audit.items satisfies AuditRow[],
  };
}

export type OpsMerchantDetail = Awaited<ReturnType<typeof getOpsMerchantDetail>>;
