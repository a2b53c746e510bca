// Settlement rows in: parsing of PSP amounts (decimal text -> integer minor units, string arithmetic only) and
// the two set-based insert paths. Occurrence = the row's rank among this import's rows with the same
// (psp, psp_row_id): a row the PSP lists twice in one import is kept twice (occurrence 2, a duplicate case),
// while the same row from another import or source conflicts on (psp, psp_row_id, occurrence) and adds nothing.
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { sql } from "drizzle-orm";
import type postgres from "postgres";
import type { Db, DbOrTx } from "@/db/client";
import type { SettlementCategory } from "@/db/schema";
import { AppError } from "@/server/errors";
import { CURRENCIES, type CurrencyCode, isCurrencyCode } from "@/server/money";
import type { ParsedSettlementRow } from "../types";

/** Rows per INSERT statement on the small path (one JSON parameter each). */
export const INSERT_BATCH_ROWS_MAX = 5_000;
/** Digits of an amount's integer part at most (bigint minor units stay far from overflow). */
export const AMOUNT_INTEGER_DIGITS_MAX = 15;

/** What a Stripe reporting_category is to us (the report CSV and the API alike); anything else is `other`. */
export const STRIPE_CATEGORIES: Readonly<Record<string, SettlementCategory>> = Object.freeze({
  charge: "charge",
  refund: "refund",
  refund_failure: "refund_failure",
  transfer: "transfer",
  transfer_reversal: "transfer_reversal",
  payout: "payout",
  payout_reversal: "payout_failure",
  dispute: "dispute",
  dispute_reversal: "dispute",
});

/** Where a value came from, for the error message: line 12 of a file, or an API object's id. */
export interface CellRef {
  line: number | string;
  column: string;
}

export const invalidCell = (at: CellRef, problem: string): AppError =>
  new AppError("validation_failed", `${typeof at.line === "number" ? `line ${at.line}, column` : `${at.line}, field`} ${at.column}: ${problem}`, { details: { line: at.line, column: at.column } });

/** A currency code we support, upper-cased (Stripe writes "usd"); anything else is refused. */
export function readCurrency(text: string | undefined, at: CellRef): CurrencyCode {
  const code = (text ?? "").trim().toUpperCase();
  if (!isCurrencyCode(code)) throw invalidCell(at, `unknown currency ${JSON.stringify(text ?? "")}`);
  return code;
}

/** The amount regex for a currency's exponent: no more decimals than the currency has, no float syntax. */
export function amountPattern(exponent: number): string {
  const integer = `(0|[1-9][0-9]{0,${AMOUNT_INTEGER_DIGITS_MAX - 1}})`;
  return exponent === 0 ? `^-?${integer}$` : `^-?${integer}(\\.[0-9]{1,${exponent}})?$`;
}
const AMOUNT_RES = new Map([0, 2, 3].map((e) => [e, new RegExp(amountPattern(e))]));

/** A decimal amount as the digits of its minor units ("-0.50" USD -> "-050"), refused like parseMinor. */
export function minorDigits(text: string | undefined, currency: CurrencyCode, at: CellRef): string {
  const s = text ?? "";
  const exponent = CURRENCIES[currency];
  if (!AMOUNT_RES.get(exponent)!.test(s)) {
    const decimals = /^-?[0-9]+\.([0-9]+)$/.exec(s.trim())?.[1]?.length ?? 0;
    throw invalidCell(at, decimals > exponent ? `${JSON.stringify(s.trim())} has ${decimals} decimals; ${currency} has ${exponent}` : `${JSON.stringify(s)} is not a decimal amount`);
  }
  const dot = s.indexOf(".");
  if (exponent === 0) return s;
  return dot < 0 ? s + "0".repeat(exponent) : s.slice(0, dot) + s.slice(dot + 1).padEnd(exponent, "0");
}

/** "12.34" USD -> 1234n, "1.005" KWD -> 1005n, "500" JPY -> 500n; more decimals than the currency has are refused. */
export function parseMinor(text: string | undefined, currency: CurrencyCode, at: CellRef): bigint {
  return BigInt(minorDigits((text ?? "").trim(), currency, at));
}

/** An integer amount of minor units as a PSP API sends it (a number), refused unless it is a safe integer. */
export function integerMinor(value: unknown, at: CellRef): bigint {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) throw invalidCell(at, `${JSON.stringify(value)} is not an integer amount of minor units`);
  return BigInt(value);
}

const jsonRow = (r: ParsedSettlementRow) => ({
  psp: r.psp,
  psp_row_id: r.pspRowId,
  category: r.category,
  reference: r.reference,
  source_id: r.sourceId,
  currency: r.currency,
  gross: r.gross.toString(),
  fee: r.fee.toString(),
  net: r.net.toString(),
  occurred_at: r.occurredAt.toISOString(),
  available_on: r.availableOn?.toISOString() ?? null,
  payout_id: r.payoutId,
});

/**
 * Stores parsed rows set-based (one statement per INSERT_BATCH_ROWS_MAX rows): occurrence = rows of this import
 * already stored with that id + rank within the batch; ON CONFLICT DO NOTHING. Returns the rows added.
 */
export async function insertSettlementRows(db: DbOrTx, importId: string, rows: readonly ParsedSettlementRow[]): Promise<number> {
  let added = 0;
  if (rows.length) await db.execute(sql.raw(ROWS_LOCK_SQL));
  for (let i = 0; i < rows.length; i += INSERT_BATCH_ROWS_MAX) {
    const batch = JSON.stringify(rows.slice(i, i + INSERT_BATCH_ROWS_MAX).map(jsonRow));
    const result = await db.execute(sql`
      with input as (
        select e.ord, e.v->>'psp' as psp, e.v->>'psp_row_id' as psp_row_id, e.v->>'category' as category, e.v->>'reference' as reference,
               e.v->>'source_id' as source_id, e.v->>'currency' as currency, (e.v->>'gross')::bigint as gross, (e.v->>'fee')::bigint as fee,
               (e.v->>'net')::bigint as net, (e.v->>'occurred_at')::timestamptz as occurred_at, (e.v->>'available_on')::timestamptz as available_on,
               e.v->>'payout_id' as payout_id
        from jsonb_array_elements(${batch}::jsonb) with ordinality as e(v, ord)
      ), before as (
        select s.psp, s.psp_row_id, count(*) as n
        from settlement_rows s join (select distinct psp, psp_row_id from input) k on k.psp = s.psp and k.psp_row_id = s.psp_row_id
        where s.import_id = ${importId}
        group by s.psp, s.psp_row_id
      )
      insert into settlement_rows (import_id, psp, psp_row_id, occurrence, category, reference, source_id, currency, gross, fee, net, occurred_at, available_on, payout_id)
      select ${importId}, i.psp, i.psp_row_id, (coalesce(b.n, 0) + row_number() over (partition by i.psp, i.psp_row_id order by i.ord))::smallint,
             i.category, i.reference, i.source_id, i.currency, i.gross, i.fee, i.net, i.occurred_at, i.available_on, i.payout_id
      from input i left join before b on b.psp = i.psp and b.psp_row_id = i.psp_row_id
      order by i.ord
      on conflict do nothing`);
    added += (result as unknown as { count: number }).count;
  }
  return added;
}

/** A CSV record longer than this is refused (an unclosed quote would otherwise hold the whole file). */
export const RECORD_BYTES_MAX = 1024 * 1024;
/** The temp staging table a bulk import COPYs into (dropped at commit). */
export const STAGING_TABLE = "recon_stage";
/** Serializes writers of settlement_rows (the bulk path inserts with an anti-join, not ON CONFLICT). */
export const ROWS_LOCK_SQL = "select pg_advisory_xact_lock(hashtext('paybridge:recon:settlement_rows'))";

/** A bulk import of at least this many rows refreshes settlement_rows' statistics before it commits. */
export const ANALYZE_AFTER_ROWS = 50_000;

/**
 * After a bulk import: ANALYZE settlement_rows (a sample, not a scan) so the matcher that runs next plans with the
 * table's real size (with a fresh million rows unknown to the planner, it sized its hash aggregate for a fraction
 * and spilled it to disk). Smaller imports leave it to autovacuum.
 */
export async function analyzeAfterBulk(tx: postgres.TransactionSql, rowsAdded: number): Promise<void> {
  if (rowsAdded < ANALYZE_AFTER_ROWS) return;
  // In a savepoint: statistics are an optimisation, never a reason to lose the import (a cancel, a timeout).
  await tx.savepoint((sp) => sp.unsafe("analyze settlement_rows")).catch(() => undefined);
}

/** The postgres.js client under Drizzle (drizzle() sets `$client`; the Db type does not say so). */
export function rawClient(db: Db): postgres.Sql {
  const client = (db as Db & { $client?: postgres.Sql }).$client;
  if (!client) throw new Error("this Db has no postgres.js client");
  return client;
}

export type CsvSource = string | Buffer | AsyncIterable<string | Buffer>;

async function* chunksOf(src: CsvSource): AsyncGenerator<Buffer> {
  if (typeof src === "string" || Buffer.isBuffer(src)) {
    yield Buffer.isBuffer(src) ? src : Buffer.from(src, "utf8");
    return;
  }
  for await (const c of src) yield typeof c === "string" ? Buffer.from(c, "utf8") : c;
}

/** The header's position of each required column; a missing one is a validation error naming them all. */
export function columnIndexes<C extends string>(header: readonly string[], required: readonly C[]): Record<C, number> {
  const missing = required.filter((c) => !header.includes(c));
  if (missing.length) throw new AppError("validation_failed", `line 1: the CSV lacks required column${missing.length > 1 ? "s" : ""} ${missing.join(", ")} (found: ${header.join(", ") || "nothing"})`, { details: { line: 1, missing } });
  return Object.fromEntries(required.map((c) => [c, header.indexOf(c)])) as Record<C, number>;
}

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

const badLine = (line: number, problem: string) => new AppError("validation_failed", `line ${line}: ${problem}`, { details: { line } });

/**
 * A small RFC 4180 reader over bytes (csv-parse reads 1M rows in ~20 s here; this in ~1 s): quoted cells with ""
 * escapes and line breaks, CRLF or LF, empty lines skipped. Returns how many bytes it consumed: an incomplete
 * last record (not `final`) is left for the next chunk.
 */
function readRecords(buf: Buffer, final: boolean, state: { line: number }, onRecord: (cells: string[], line: number) => void): number {
  const n = buf.length;
  let i = 0;
  let consumed = 0;
  while (i < n) {
    const cells: string[] = [];
    const startLine = state.line;
    let breaks = 0;
    for (;;) {
      if (buf[i] === QUOTE) {
        let j = i + 1;
        let close = -1;
        let escaped = false;
        while (j < n) {
          const k = buf.indexOf(QUOTE, j);
          if (k < 0) break;
          if (k + 1 < n && buf[k + 1] === QUOTE) {
            escaped = true;
            j = k + 2;
            continue;
          }
          if (k + 1 >= n && !final) break;
          close = k;
          break;
        }
        if (close < 0) {
          if (final) throw badLine(startLine, "a quoted cell is never closed");
          return consumed;
        }
        const text = buf.toString("utf8", i + 1, close);
        for (let b = buf.indexOf(LF, i); b >= 0 && b < close; b = buf.indexOf(LF, b + 1)) breaks++;
        cells.push(escaped ? text.replaceAll('""', '"') : text);
        i = close + 1;
        if (i >= n) break;
        if (buf[i] === COMMA) {
          i++;
          continue;
        }
        if (buf[i] === CR && i + 1 < n && buf[i + 1] === LF) i++;
        if (buf[i] === LF) {
          i++;
          break;
        }
        if (buf[i] === CR && i + 1 >= n && !final) return consumed;
        throw badLine(startLine + breaks, "text after a quoted cell's closing quote");
      }
      let j = i;
      while (j < n && buf[j] !== COMMA && buf[j] !== LF) j++;
      if (j >= n && !final) return consumed;
      const end = j < n && buf[j] === LF && j > i && buf[j - 1] === CR ? j - 1 : j;
      const text = buf.toString("utf8", i, end);
      if (text.includes('"')) throw badLine(startLine, `a quote inside an unquoted cell (${JSON.stringify(text)})`);
      cells.push(text);
      i = j + 1;
      if (j >= n || buf[j] === LF) break;
    }
    state.line += 1 + breaks;
    consumed = Math.min(i, n);
    if (!(cells.length === 1 && cells[0] === "")) onRecord(cells, startLine);
  }
  return consumed;
}

/**
 * Reads the CSV as its bytes arrive and yields, per chunk, what `onRecord` made of its records (header first,
 * file order). Records are handled as they are read: nothing of a chunk outlives it but the text yielded.
 */
export async function* csvRecords(src: CsvSource, onRecord: (cells: string[], line: number) => string): AsyncGenerator<string> {
  const state = { line: 1 };
  let carry: Buffer | null = null;
  let out = "";
  const take = (cells: string[], line: number) => {
    out += onRecord(cells, line);
  };
  for await (const chunk of chunksOf(src)) {
    const buf: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
    const used = readRecords(buf, false, state, take);
    carry = used < buf.length ? buf.subarray(used) : null;
    if (carry && carry.length > RECORD_BYTES_MAX) throw badLine(state.line, `a record longer than ${RECORD_BYTES_MAX} bytes`);
    if (out) yield out;
    out = "";
  }
  if (carry) readRecords(carry, true, state, take);
  if (out) yield out;
}

const COPY_SPECIAL = /[\\\t\n\r\0]/;

/** A value for COPY's text format: \N for null; backslash, tab and line breaks escaped; NUL refused. */
export function copyText(v: string | null, line: number, column: string): string {
  if (v === null) return "\\N";
  if (!COPY_SPECIAL.test(v)) return v;
  if (v.includes("\0")) throw invalidCell({ line, column }, "a NUL character");
  return v.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n").replace(/\r/g, "\\r");
}

/**
 * Bulk path: reads the CSV as it streams, turns each record into a COPY text line (`toLine` validates and
 * converts, throwing a validation error naming the line), and COPYs the lines into `table` (created by the
 * caller), minding backpressure. Returns the header and the number of data records.
 */
export async function copyCsv(tx: postgres.TransactionSql, src: CsvSource, table: string, columns: readonly string[], toLine: (header: string[]) => (cells: string[], line: number, n: number) => string): Promise<{ header: string[]; records: number }> {
  let header: string[] | undefined;
  let convert: ((cells: string[], line: number, n: number) => string) | undefined;
  let n = 0;
  const onRecord = (cells: string[], line: number): string => {
    if (!header || !convert) {
      header = cells.map((h, i) => (i === 0 ? h.replace(/^\uFEFF/, "") : h).trim());
      convert = toLine(header);
      return "";
    }
    if (cells.length !== header.length) throw badLine(line, `${cells.length} cells where the header has ${header.length}`);
    return convert(cells, line, ++n);
  };
  const lines = csvRecords(src, onRecord);
  // The first chunk before the COPY starts: a missing column is refused before anything is sent.
  const first = await lines.next();
  if (!header) throw badLine(1, "the CSV is empty (no header)");
  async function* text(): AsyncGenerator<string> {
    if (!first.done && first.value) yield first.value;
    yield* lines;
  }
  const writable = await tx.unsafe(`copy ${table} (${columns.join(", ")}) from stdin`).writable();
  await pipeline(Readable.from(text()), writable);
  return { header: header as string[], records: n };
}
