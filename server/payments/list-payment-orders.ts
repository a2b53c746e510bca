import { and, asc, desc, eq, inArray, or, sql, type SQL } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { checkouts, paymentOrders, sellers } from "@/db/schema";
import { lookupHash } from "@/server/crypto/field";
import { AppError } from "@/server/errors";
import { doubleChargeStatusByCheckout, type DoubleCharge } from "./double-charges";
import {
  amountFilterMinor,
  isDateOnly,
  type PaymentSort,
  type SortDirection,
  type TListPaymentOrdersInput,
  type TPaymentFilters,
} from "./list-payment-orders.schema";
import { presentOrder, type PaymentOrderView } from "./present";
import { merchantTimeZone } from "@/server/merchants/time-zone";

// The merchant's payments list (payments.list) and the query its CSV export pages through
// (export-payment-orders.ts): filters, a sort, and keyset pages on (sort value, id), so a page never skips or
// repeats a row whatever the sort, and no page costs more than its own rows. Always scoped to one merchant.

export { PAYMENT_LIST_PAGE_MAX, ZListPaymentOrdersInput, type TListPaymentOrdersInput } from "./list-payment-orders.schema";

/**
 * The dashboard's row: the public API's shape plus our internal id, the amount in minor units (for formatting),
 * the PSP that took it (null before an attempt started) and whether the order's checkout was charged twice (its
 * double-charge status, for a badge). The REST API's shape is unchanged.
 */
export type PaymentOrderListItem = PaymentOrderView & { id: string; amount_minor: string; psp: string | null; doubleCharge: DoubleCharge["status"] | null };

/** A row's place in the sort: its sort value (exact, as text) and its id, the tie-break. */
export interface SortPosition {
  value: string;
  id: string;
}
/** `after`: the rows that follow a position in the sort (the next page); `before`: those that precede it. */
export interface PageCursor extends SortPosition {
  sort: PaymentSort;
  dir: SortDirection;
  kind: "after" | "before";
}

const CREATED_AT_KEY = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const AMOUNT_KEY = /^[1-9][0-9]{0,18}$/;
const ORDER_ID = /^po_[0-9A-Z]{26}$/;

export function encodeCursor(c: PageCursor): string {
  return Buffer.from(JSON.stringify([c.sort, c.dir, c.kind, c.value, c.id])).toString("base64url");
}

const badCursor = () => new AppError("validation_failed", "Invalid input: cursor: not a page cursor of this list for this sort; start again from the first page.", { details: { fields: [{ path: "cursor", message: "Not a page cursor of this list for this sort." }] } });

/** The cursor's position, if it was made by encodeCursor for this sort; else a 400 (it names no row of ours). */
export function decodeCursor(text: string, sort: PaymentSort, dir: SortDirection): PageCursor {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  } catch {
    throw badCursor();
  }
  if (!Array.isArray(parts) || parts.length !== 5 || !parts.every((p) => typeof p === "string")) throw badCursor();
  const [s, d, kind, value, id] = parts as string[];
  const valueOk = sort === "created" ? CREATED_AT_KEY.test(value!) : AMOUNT_KEY.test(value!);
  if (s !== sort || d !== dir || (kind !== "after" && kind !== "before") || !valueOk || !ORDER_ID.test(id!)) throw badCursor();
  return { sort, dir, kind, value: value!, id: id! };
}

/** The instant a local time in `timeZone` names, computed by Postgres (its zone rules, DST included). */
const localInstant = (local: string, timeZone: string) => sql`(${local}::timestamp at time zone ${timeZone})`;

/** The WHERE of a filtered list: the merchant's orders, then each filter given. Search never decrypts. */
export function paymentFilterConditions(merchantId: string, f: TPaymentFilters, timeZone: string): SQL[] {
  const where: SQL[] = [eq(paymentOrders.merchantId, merchantId)];
  if (f.q) {
    const matches = [eq(paymentOrders.paymentOrderId, f.q), eq(paymentOrders.checkoutId, f.q)];
    if (f.q.includes("@")) {
      const byEmail = sql`(select ${checkouts.id} from ${checkouts} where ${checkouts.merchantId} = ${merchantId} and ${checkouts.buyerEmailHash} = ${lookupHash(f.q)})`;
      matches.push(inArray(paymentOrders.checkoutId, byEmail));
    }
    where.push(or(...matches)!);
  }
  if (f.status) where.push(eq(paymentOrders.status, f.status));
  if (f.seller) where.push(eq(sellers.reference, f.seller));
  if (f.currency) where.push(eq(paymentOrders.currency, f.currency));
  if (f.psp) where.push(eq(paymentOrders.psp, f.psp));
  if (f.from) where.push(sql`${paymentOrders.createdAt} >= ${localInstant(f.from, timeZone)}`);
  if (f.to) {
    // A date-only end includes its whole day: before the next day's midnight, in the merchant's zone; a
    // minute ("…T10:30") its whole minute and a second ("…T10:30:15") its whole second, as the table shows times
    // to the second.
    where.push(isDateOnly(f.to) ? sql`${paymentOrders.createdAt} < ((${f.to}::date + 1)::timestamp at time zone ${timeZone})` : sql`${paymentOrders.createdAt} < (${localInstant(f.to, timeZone)} + ${/T\d{2}:\d{2}$/.test(f.to) ? sql`interval '1 minute'` : sql`interval '1 second'`})`);
  }
  for (const [key, op] of [["amountMin", ">="], ["amountMax", "<="]] as const) {
    const text = f[key];
    if (text === undefined || !f.currency) continue; // the schema refuses an amount without a currency
    const minor = amountFilterMinor(text, f.currency);
    if (typeof minor === "string") throw new AppError("validation_failed", `Invalid input: ${key}: ${minor}`);
    where.push(sql`${paymentOrders.amount} ${sql.raw(op)} ${minor}`);
  }
  return where;
}

export type OrderPageRow = typeof paymentOrders.$inferSelect & { sellerReference: string; sortKey: SortPosition };

/** created_at as text with its microseconds: a JS Date would drop them and break the keyset. */
const createdAtKey = sql<string>`to_char(${paymentOrders.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * Up to `limit` rows in the sort, after (or before) a position: keyset on (sort value, id). Rows before a
 * position come back in the sort's order too.
 */
export async function selectOrderPage(
  db: DbOrTx,
  opts: { where: SQL[]; sort: PaymentSort; dir: SortDirection; from?: Pick<PageCursor, "kind" | "value" | "id">; limit: number },
): Promise<OrderPageRow[]> {
  const column = opts.sort === "amount" ? paymentOrders.amount : paymentOrders.createdAt;
  const backwards = opts.from?.kind === "before";
  const descending = (opts.dir === "desc") !== backwards;
  const where = [...opts.where];
  if (opts.from) {
    const value = opts.sort === "amount" ? sql`${opts.from.value}::bigint` : sql`${opts.from.value}::timestamptz`;
    where.push(sql`(${column}, ${paymentOrders.id}) ${sql.raw(descending ? "<" : ">")} (${value}, ${opts.from.id})`);
  }
  const order = descending ? [desc(column), desc(paymentOrders.id)] : [asc(column), asc(paymentOrders.id)];
  const rows = await db
    .select({ order: paymentOrders, sellerReference: sellers.reference, createdAtKey })
    .from(paymentOrders)
    .innerJoin(sellers, eq(sellers.id, paymentOrders.sellerId))
    .where(and(...where))
    .orderBy(...order)
    .limit(opts.limit);
  const out = rows.map((r) => ({
    ...r.order,
    sellerReference: r.sellerReference,
    sortKey: { value: opts.sort === "amount" ? r.order.amount.toString() : r.createdAtKey, id: r.order.id },
  }));
  return backwards ? out.reverse() : out;
}

export interface PaymentOrderPage {
  items: PaymentOrderListItem[];
  /** The next page's cursor, null on the last page. */
  nextCursor: string | null;
  /** The previous page's cursor; null on the first page (and on an empty page past the end: go to the first). */
  prevCursor: string | null;
}

export async function listPaymentOrders(db: DbOrTx, merchantId: string, input: TListPaymentOrdersInput): Promise<PaymentOrderPage> {
  const { sort, dir, limit } = input;
  const cursor = input.cursor ? decodeCursor(input.cursor, sort, dir) : undefined;
  const timeZone = input.from || input.to ? await merchantTimeZone(db, merchantId) : "UTC";
  const where = paymentFilterConditions(merchantId, input, timeZone);
  const rows = await selectOrderPage(db, { where, sort, dir, from: cursor, limit: limit + 1 });
  const more = rows.length > limit;
  // Going back reached the start: that is the first page, which may hold more rows than were left before.
  if (cursor?.kind === "before" && !more) return listPaymentOrders(db, merchantId, { ...input, cursor: undefined });
  const page = cursor?.kind === "before" ? rows.slice(rows.length - limit) : rows.slice(0, limit);
  const at = (kind: PageCursor["kind"], row: OrderPageRow) => encodeCursor({ sort, dir, kind, ...row.sortKey });
  const first = page[0];
  const last = page[page.length - 1];
  const doubleCharged = await doubleChargeStatusByCheckout(db, { merchantId, checkoutIds: page.map((r) => r.checkoutId) });
  return {
    items: page.map((r) => ({ ...presentOrder(r), id: r.id, amount_minor: r.amount.toString(), psp: r.psp, doubleCharge: doubleCharged.get(r.checkoutId) ?? null })),
    nextCursor: last && (more || cursor?.kind === "before") ? at("after", last) : null,
    prevCursor: first && cursor ? at("before", first) : null,
  };
}
