import type { DbOrTx } from "@/db/client";
import { AppError } from "@/server/errors";
import { formatMoney, money } from "@/server/money";
import { consumeWindow } from "@/server/rate-limit/window";
import { paymentFilterConditions, selectOrderPage, type OrderPageRow, type SortPosition } from "./list-payment-orders";
import type { TPaymentFilters } from "./list-payment-orders.schema";
import { merchantTimeZone } from "@/server/merchants/time-zone";

// The payments list as CSV: exactly the rows the list shows for the same filters, in the same order, all pages.
// Read in keyset batches of EXPORT_BATCH_ROWS through the list's own query, one batch only when the reader asks
// for more (a pull stream), so an export of any size holds one batch in memory and no transaction open.

export const EXPORT_BATCH_ROWS = 1000;
/** Exports a merchant may start per minute (shared by every app instance): each can read 100,000+ rows. */
export const EXPORTS_PER_MERCHANT_PER_MIN = 30;

/**
 * Refuses (rate_limited, with the seconds to wait) a merchant that started too many exports of this kind this minute
 * (payments by default; the payout composition CSV has its own bucket and limit: server/payouts/export-items.ts).
 */
export async function admitExport(db: DbOrTx, merchantId: string, kind: { bucket: string; perMinute: number } = { bucket: "payments-export", perMinute: EXPORTS_PER_MERCHANT_PER_MIN }): Promise<void> {
  const r = await consumeWindow(db, { bucket: `${kind.bucket}:${merchantId}`, limit: kind.perMinute, windowMs: 60_000 });
  if (!r.allowed) throw new AppError("rate_limited", `Too many exports this minute. Try again in ${r.resetS} s.`, { details: { retryAfterS: r.resetS } });
}

export const CSV_COLUMNS = ["payment_order_id", "checkout_id", "seller", "status", "amount", "currency", "psp", "created_at", "created_local", "failure_code"] as const;

/** A cell a spreadsheet would run as a formula (=, +, -, @, or a leading tab / CR) is written as text. */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV cell (RFC 4180): quoted when it holds a quote, comma, semicolon (the separator spreadsheets use in many
 * locales: unquoted, "x;=HYPERLINK(…)" would split into a formula cell) or line break; formulas defused with a '.
 */
export function csvCell(value: string | null | undefined): string {
  let v = value ?? "";
  if (FORMULA_START.test(v)) v = `'${v}`;
  return /[",;\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

export function csvLine(cells: readonly (string | null | undefined)[]): string {
  return `${cells.map(csvCell).join(",")}\r\n`;
}

/** `2026-03-01T18:04:05+03:00`: the wall-clock time in `timeZone` with its offset at that instant. */
export function localIsoFormatter(timeZone: string): (d: Date) => string {
  const f = new Intl.DateTimeFormat("en-US", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
    timeZoneName: "longOffset",
  });
  return (d) => {
    const p = Object.fromEntries(f.formatToParts(d).map((x) => [x.type, x.value]));
    const offset = (p.timeZoneName ?? "GMT").replace("GMT", "") || "+00:00";
    return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}${offset}`;
  };
}

function rowLine(r: OrderPageRow, local: (d: Date) => string): string {
  return csvLine([r.paymentOrderId, r.checkoutId, r.sellerReference, r.status, formatMoney(money(r.amount, r.currency)), r.currency, r.psp, r.createdAt.toISOString(), local(r.createdAt), r.failureCode]);
}

export interface ExportOptions {
  batchRows?: number;
  /** Called with each batch's row count as it is read (tests: the export reads in batches). */
  onBatch?: (rows: number) => void;
  /** The merchant's time zone, when the caller has already read it. */
  timeZone?: string;
}

/**
 * The CSV text, chunk by chunk: the header with the first batch, then one chunk per batch. Lazy: a batch is read
 * only when the caller asks for the next chunk, so the first `next()` also surfaces a failing query.
 */
export async function* paymentOrdersCsv(db: DbOrTx, merchantId: string, filters: TPaymentFilters, opts: ExportOptions = {}): AsyncGenerator<string> {
  const batchRows = opts.batchRows ?? EXPORT_BATCH_ROWS;
  const timeZone = opts.timeZone ?? (await merchantTimeZone(db, merchantId));
  const local = localIsoFormatter(timeZone);
  const where = paymentFilterConditions(merchantId, filters, timeZone);
  let header = csvLine(CSV_COLUMNS);
  let after: SortPosition | undefined;
  for (;;) {
    const rows = await selectOrderPage(db, { where, sort: filters.sort, dir: filters.dir, from: after && { kind: "after", ...after }, limit: batchRows });
    opts.onBatch?.(rows.length);
    if (rows.length > 0 || header) yield header + rows.map((r) => rowLine(r, local)).join("");
    header = "";
    if (rows.length < batchRows) return;
    after = rows[rows.length - 1]!.sortKey;
  }
}

/** `payments-2026-03-01.csv`, dated in the merchant's time zone. */
export function exportFilename(now: Date, timeZone: string): string {
  return `payments-${localIsoFormatter(timeZone)(now).slice(0, 10)}.csv`;
}

/** The CSV as a byte stream that pulls one batch per read; its first chunk is already read (errors surface here). */
export async function exportPaymentOrders(db: DbOrTx, merchantId: string, filters: TPaymentFilters, opts: ExportOptions = {}): Promise<{ filename: string; body: ReadableStream<Uint8Array> }> {
  const timeZone = await merchantTimeZone(db, merchantId);
  const chunks = paymentOrdersCsv(db, merchantId, filters, { ...opts, timeZone });
  const first = await chunks.next();
  const filename = exportFilename(new Date(), timeZone);
  const encoder = new TextEncoder();
  let pending: string | undefined = first.done ? undefined : first.value;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (pending !== undefined) {
          controller.enqueue(encoder.encode(pending));
          pending = undefined;
          return;
        }
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      },
      async cancel() {
        await chunks.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
  return { filename, body };
}
