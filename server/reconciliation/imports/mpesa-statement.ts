// The M-Pesa org statement as CSV (Receipt No., Completion Time, Details, Transaction Status, Paid In, Withdrawn,
// Balance, Other Party Info; EAT times, shillings). A Completed Paid In line is a payment (charge), a Reversed
// line its reversal (refund, row id receipt:reversal), a Completed Withdrawn line a B2C payment (payout). Other
// statuses (Failed, Pending, ...) moved no money and are skipped. One transaction per file.
import { parse } from "csv-parse/sync";
import type { Db } from "@/db/client";
import { AppError } from "@/server/errors";
import type { ImportResult, ParsedSettlementRow } from "../types";
import { beginImport, failImport, fileImportKey, finishImport, lockImport } from "./record";
import { columnIndexes, insertSettlementRows, invalidCell, parseMinor } from "./rows";

const SOURCE = "mpesa_statement_csv" as const;
/** Statements are small (an org's month); a bigger file is refused rather than held in memory. */
export const MPESA_STATEMENT_BYTES_MAX = 50 * 1024 * 1024;
const REQUIRED = ["Completion Time", "Transaction Status", "Paid In", "Withdrawn"] as const;
/** Safaricom writes "Receipt No."; the issue (and some exports) say "Receipt". */
const RECEIPT_COLUMNS = ["Receipt No.", "Receipt"];
const EAT_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/;

/** "1,500.00" / "-150.00" shillings -> cents (the magnitude; the column says the direction). */
function shillings(text: string, line: number, column: string): bigint {
  const s = text.trim().replace(/^-/, "");
  const plain = /^\d{1,3}(,\d{3})+(\.\d+)?$/.test(s) ? s.replace(/,/g, "") : s;
  return parseMinor(plain, "KES", { line, column });
}

function eatTime(text: string, line: number): Date {
  const m = EAT_TIME.exec(text.trim());
  const d = m ? new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? "00"}+03:00`) : undefined;
  if (!d || Number.isNaN(d.getTime())) throw invalidCell({ line, column: "Completion Time" }, `${JSON.stringify(text)} is not a time such as "2026-01-31 14:05:09" (EAT)`);
  return d;
}

/** Parses a statement into settlement rows (line numbers in errors count the header as line 1). */
export function parseMpesaStatementRows(csv: string): { rows: ParsedSettlementRow[]; seen: number } {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(csv.replace(/^\uFEFF/, ""), { info: true, skip_empty_lines: true, relax_column_count: false }) as unknown as typeof records;
  } catch (err) {
    throw new AppError("validation_failed", `M-Pesa statement: ${(err as Error).message}`, { cause: err });
  }
  const header = (records[0]?.record ?? []).map((h) => h.trim());
  const receiptName = RECEIPT_COLUMNS.find((c) => header.includes(c));
  const c = columnIndexes(header, [...REQUIRED, ...(receiptName ? [] : ["Receipt No."])]) as Record<(typeof REQUIRED)[number], number>;
  const receiptAt = header.indexOf(receiptName!);
  const linkedAt = header.indexOf("Linked Transaction ID");
  const rows: ParsedSettlementRow[] = [];
  for (const { record, info } of records.slice(1)) {
    const line = info.lines;
    const status = (record[c["Transaction Status"]] ?? "").trim();
    if (status !== "Completed" && status !== "Reversed") continue;
    const receipt = (record[receiptAt] ?? "").trim();
    if (!receipt) throw invalidCell({ line, column: receiptName! }, "no receipt");
    const paidIn = (record[c["Paid In"]] ?? "").trim();
    const withdrawn = (record[c.Withdrawn] ?? "").trim();
    if (!paidIn && !withdrawn) throw invalidCell({ line, column: "Paid In" }, "neither Paid In nor Withdrawn has an amount");
    const amount = paidIn ? shillings(paidIn, line, "Paid In") : shillings(withdrawn, line, "Withdrawn");
    const kind = status === "Reversed" ? "refund" : paidIn ? "charge" : "payout";
    const gross = kind === "charge" ? amount : -amount;
    const linked = linkedAt >= 0 ? (record[linkedAt] ?? "").trim() : "";
    rows.push({
      psp: "mpesa",
      pspRowId: kind === "refund" ? `${receipt}:reversal` : receipt,
      category: kind,
      reference: receipt,
      sourceId: linked || null,
      currency: "KES",
      gross,
      fee: 0n,
      net: gross,
      occurredAt: eatTime(record[c["Completion Time"]] ?? "", line),
      availableOn: null,
      payoutId: null,
    });
  }
  return { rows, seen: Math.max(records.length - 1, 0) };
}

/** Imports a statement; the same bytes twice is one import (alreadyImported, nothing added). */
export async function importMpesaStatementCsv(db: Db, input: { csv: string; label: string; userId?: string | null }): Promise<ImportResult> {
  if (Buffer.byteLength(input.csv) > MPESA_STATEMENT_BYTES_MAX) throw new AppError("validation_failed", `the M-Pesa statement is larger than ${MPESA_STATEMENT_BYTES_MAX} bytes`);
  const begun = await beginImport(db, { psp: "mpesa", source: SOURCE, importKey: fileImportKey(SOURCE, input.csv), label: input.label, userId: input.userId });
  if (begun.alreadyImported) return { importId: begun.id, source: SOURCE, alreadyImported: true, rowsSeen: begun.rowsSeen, rowsAdded: 0 };
  try {
    const { rows, seen } = parseMpesaStatementRows(input.csv);
    return await db.transaction(async (tx) => {
      if ((await lockImport(tx, begun.id)).status === "completed") return { importId: begun.id, source: SOURCE, alreadyImported: true, rowsSeen: begun.rowsSeen, rowsAdded: 0 };
      const rowsAdded = await insertSettlementRows(tx, begun.id, rows);
      const totals = await finishImport(tx, begun.id, { rowsSeen: seen, rowsAdded });
      return { importId: begun.id, source: SOURCE, alreadyImported: false, ...totals };
    });
  } catch (err) {
    await failImport(db, begun.id, err);
    throw err;
  }
}
