// Stripe's itemized payout reconciliation report (payout_reconciliation.itemized.5) as CSV, uploaded or fetched
// from the sandbox. Bulk path: the CSV is read as it streams (rows.ts csvRecords), each record validated and
// converted (amounts to minor units by the currency's exponent, with string arithmetic) into a COPY line for a
// temp table, then one INSERT ... SELECT ranks the occurrences and skips rows already stored. The whole file is
// one transaction with its completion: a bad row or a crash stores nothing. The import key is the SHA-256 of the
// bytes: known at once for a string or a Buffer, after a first pass for a source that can be opened again (a file:
// the same file twice then costs one read), and at the end of the COPY for a one-shot stream.
import { createHash, randomUUID } from "node:crypto";
import type postgres from "postgres";
import type { Db } from "@/db/client";
import { AppError } from "@/server/errors";
import type { ImportResult } from "../types";
import { beginImport, failImport, fileImportKey, finishImportSql, lockImportSql } from "./record";
import { analyzeAfterBulk, columnIndexes, copyCsv, copyText, type CsvSource, invalidCell, minorDigits, rawClient, readCurrency, ROWS_LOCK_SQL, STAGING_TABLE, STRIPE_CATEGORIES } from "./rows";

const SOURCE = "stripe_report_csv" as const;
const REQUIRED = ["balance_transaction_id", "created_utc", "currency", "gross", "fee", "net", "reporting_category", "source_id"] as const;
const OPTIONAL = ["available_on_utc", "automatic_payout_id", "payment_intent_id"] as const;
/** Sort memory for the occurrence ranking of a big file (one transaction, SET LOCAL). */
const BULK_WORK_MEM = "256MB";
const UTC_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?Z?$/;
const STAGED = ["n", "psp_row_id", "category", "reference", "source_id", "currency", "gross", "fee", "net", "occurred_at", "available_on", "payout_id"] as const;

/** A source that can be read more than once (a file on disk: `() => createReadStream(path)`). */
export type ReopenableCsv = () => AsyncIterable<string | Buffer>;

export interface StripeReportInput {
  /** Bytes, a source that can be opened again, or a one-shot stream. */
  csv: CsvSource | ReopenableCsv;
  label: string;
  userId?: string | null;
}

/** The import key of a source that can be opened again: one pass over its bytes. */
async function keyOfReopenable(open: ReopenableCsv): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of open()) hash.update(chunk);
  return `${SOURCE}:sha256:${hash.digest("hex")}`;
}

/** Imports the report; the same bytes twice is one import (alreadyImported, nothing added). */
export async function importStripeReportCsv(db: Db, input: StripeReportInput): Promise<ImportResult> {
  const src = input.csv;
  const bytes = typeof src === "string" || Buffer.isBuffer(src);
  const begin = (importKey: string) => beginImport(db, { psp: "stripe", source: SOURCE, importKey, label: input.label, userId: input.userId });
  let known: string | undefined;
  try {
    known = bytes ? fileImportKey(SOURCE, src) : typeof src === "function" ? await keyOfReopenable(src) : undefined;
  } catch (err) {
    // The first pass could not read the file: a failed import says so.
    await failImport(db, (await begin(`${SOURCE}:unreadable:${randomUUID()}`)).id, err);
    throw err;
  }
  if (known) {
    const begun = await begin(known);
    if (begun.alreadyImported) return { importId: begun.id, source: SOURCE, alreadyImported: true, rowsSeen: begun.rowsSeen, rowsAdded: 0 };
  }
  // What is stored is hashed as it is read (but for bytes in memory): a stream's key, and for a file opened twice the
  // proof that the second read is the file the key was made of.
  const hash = createHash("sha256");
  let importId: string | undefined;
  try {
    const csv: CsvSource = bytes ? src : hashed(typeof src === "function" ? src() : src, hash);
    return await rawClient(db).begin(async (tx) => {
      await tx.unsafe(`set local work_mem = '${BULK_WORK_MEM}'`);
      await tx.unsafe(`create temp table ${STAGING_TABLE} (n bigint, psp_row_id text, category text, reference text, source_id text, currency text, gross bigint, fee bigint, net bigint, occurred_at timestamptz, available_on timestamptz, payout_id text) on commit drop`);
      const { records } = await copyCsv(tx, csv, STAGING_TABLE, STAGED, lineOf);
      const read = bytes ? known! : `${SOURCE}:sha256:${hash.digest("hex")}`;
      if (known && read !== known) throw new AppError("conflict", "The file changed while it was being imported (its bytes differ from the first read): nothing was stored; import it again once it is complete.");
      const begun = await begin(read);
      importId = begun.id;
      if ((await lockImportSql(tx, begun.id)).status === "completed") return { importId: begun.id, source: SOURCE, alreadyImported: true, rowsSeen: begun.rowsSeen, rowsAdded: 0 };
      const rowsAdded = await insertStaged(tx, begun.id);
      await analyzeAfterBulk(tx, rowsAdded);
      const totals = { rowsSeen: records, rowsAdded };
      await finishImportSql(tx, begun.id, totals);
      return { importId: begun.id, source: SOURCE, alreadyImported: false, ...totals };
    });
  } catch (err) {
    const failed = importId ?? (await begin(known ?? `${SOURCE}:unreadable:${randomUUID()}`)).id;
    await failImport(db, failed, err);
    throw err;
  }
}

async function* hashed(src: AsyncIterable<string | Buffer>, hash: ReturnType<typeof createHash>): AsyncGenerator<Buffer> {
  for await (const chunk of src) {
    const b = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
    hash.update(b);
    yield b;
  }
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const digit = (s: string, i: number) => s.charCodeAt(i) - 48;
const two = (s: string, i: number) => digit(s, i) * 10 + digit(s, i + 1);

/** "2026-01-31 12:00:00" (UTC; also with T, fractions, Z) checked to be a real time, as Postgres text ("...+00"). */
function utcText(text: string, line: number, column: string): string {
  if (!UTC_TIME.test(text)) throw invalidCell({ line, column }, `${JSON.stringify(text)} is not a UTC time such as "2026-01-31 12:00:00"`);
  const y = two(text, 0) * 100 + two(text, 2);
  const mo = two(text, 5);
  const d = two(text, 8);
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const ok = mo >= 1 && mo <= 12 && d >= 1 && d <= (mo === 2 && !leap ? 28 : DAYS_IN_MONTH[mo - 1]!) && two(text, 11) <= 23 && two(text, 14) <= 59 && two(text, 17) <= 59;
  if (!ok) throw invalidCell({ line, column }, `${JSON.stringify(text)} is not a real time`);
  return `${text.endsWith("Z") ? text.slice(0, -1) : text}+00`;
}

/** One record -> its COPY line (STAGED columns): charge by its PaymentIntent, anything else by its source. */
function lineOf(header: string[]): (cells: string[], line: number, n: number) => string {
  const c = columnIndexes(header, REQUIRED);
  const o = Object.fromEntries(OPTIONAL.map((k) => [k, header.indexOf(k)])) as Record<(typeof OPTIONAL)[number], number>;
  function opt(cells: string[], i: number): string {
    return i < 0 ? "" : (cells[i] ?? "").trim();
  }
  // No closures per record: a 1,000,000-row file makes a million of everything made here.
  return function line(cells, line, n) {
    const id = (cells[c.balance_transaction_id] ?? "").trim();
    if (!id) throw invalidCell({ line, column: "balance_transaction_id" }, "is empty");
    const currency = readCurrency(cells[c.currency], { line, column: "currency" });
    const gross = minorDigits(cells[c.gross], currency, { line, column: "gross" });
    const fee = minorDigits(cells[c.fee], currency, { line, column: "fee" });
    const net = minorDigits(cells[c.net], currency, { line, column: "net" });
    const occurred = utcText(cells[c.created_utc] ?? "", line, "created_utc");
    const availableText = opt(cells, o.available_on_utc);
    const available = availableText ? utcText(availableText, line, "available_on_utc") : "\\N";
    const reporting = (cells[c.reporting_category] ?? "").trim();
    if (!reporting) throw invalidCell({ line, column: "reporting_category" }, "is empty");
    const category = STRIPE_CATEGORIES[reporting] ?? "other";
    const source = (cells[c.source_id] ?? "").trim() || null;
    const reference = (reporting === "charge" ? opt(cells, o.payment_intent_id) : "") || source || id;
    const payout = opt(cells, o.automatic_payout_id) || null;
    return `${n}\t${copyText(id, line, "balance_transaction_id")}\t${category}\t${copyText(reference, line, "reference")}\t${copyText(source, line, "source_id")}\t${currency}\t${gross}\t${fee}\t${net}\t${occurred}\t${available}\t${copyText(payout, line, "automatic_payout_id")}\n`;
  };
}

/** Staged rows into settlement_rows: occurrence = rank of the id within this file; rows already stored are skipped. */
async function insertStaged(tx: postgres.TransactionSql, importId: string): Promise<number> {
  await tx.unsafe(ROWS_LOCK_SQL);
  const result = await tx.unsafe(
    `insert into settlement_rows (import_id, psp, psp_row_id, occurrence, category, reference, source_id, currency, gross, fee, net, occurred_at, available_on, payout_id)
     select $1, 'stripe', r.psp_row_id, r.occurrence, r.category, r.reference, r.source_id, r.currency, r.gross, r.fee, r.net, r.occurred_at, r.available_on, r.payout_id
     from (select s.*, (row_number() over (partition by s.psp_row_id order by s.n))::smallint as occurrence from ${STAGING_TABLE} s) r
     where not exists (select 1 from settlement_rows x where x.psp = 'stripe' and x.psp_row_id = r.psp_row_id and x.occurrence = r.occurrence)`,
    [importId],
  );
  return result.count;
}
