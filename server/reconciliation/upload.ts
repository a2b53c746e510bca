// An ops upload of a settlement file (app/api/ops/reconciliation/import): read the body under a size cap (multipart
// `file` field or the raw CSV), import it with the importer of its source, match, and audit the upload.
import type { Db } from "@/db/client";
import type { ReconSource } from "@/db/schema";
import { recordAudit } from "@/server/audit/record-audit";
import { AppError } from "@/server/errors";
import { importMpesaStatementCsv } from "./imports/mpesa-statement";
import { importStripeReportCsv } from "./imports/stripe-report";
import { RECON_LABEL_MAX } from "./router.schema";
import { runReconciliation } from "./run";
import type { ImportResult, MatchResult } from "./types";

/** The largest file ops may upload (a month of a busy account's itemized report fits well under it). */
export const UPLOAD_BYTES_MAX = 50 * 1024 * 1024;
/** Room for the multipart envelope around the file. */
const MULTIPART_OVERHEAD_BYTES_MAX = 64 * 1024;
const UPLOAD_SOURCES = ["stripe_report_csv", "mpesa_statement_csv"] as const satisfies readonly ReconSource[];
type UploadSource = (typeof UPLOAD_SOURCES)[number];

export interface UploadResult {
  import: ImportResult;
  match: Pick<MatchResult, "rows" | "matchedRows" | "opened" | "reopened" | "resolved" | "open">;
}

function tooLarge(): AppError {
  return new AppError("payload_too_large", `The file is larger than ${UPLOAD_BYTES_MAX / (1024 * 1024)} MB: split it (by payout or by month) and upload the parts.`);
}

/** The body, refused with a 413 as soon as it passes `max` bytes (a declared Content-Length over it is refused unread). */
async function readCapped(req: Request, max: number): Promise<Buffer> {
  const declared = Number(req.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > max) throw tooLarge();
  if (!req.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks, size);
}

function parseSource(value: string | null): UploadSource {
  if (!value || !(UPLOAD_SOURCES as readonly string[]).includes(value)) {
    throw new AppError("validation_failed", `source must be one of ${UPLOAD_SOURCES.join(", ")}`, { details: { fields: [{ field: "source", message: `one of ${UPLOAD_SOURCES.join(", ")}` }] } });
  }
  return value as UploadSource;
}

/** The file's bytes and name: the multipart `file` field, or the raw body. */
async function fileOf(req: Request): Promise<{ bytes: Buffer; name: string | null; source: string | null }> {
  const type = req.headers.get("content-type") ?? "";
  if (!type.toLowerCase().startsWith("multipart/form-data")) return { bytes: await readCapped(req, UPLOAD_BYTES_MAX), name: null, source: null };
  const raw = await readCapped(req, UPLOAD_BYTES_MAX + MULTIPART_OVERHEAD_BYTES_MAX);
  const form = await new Response(new Uint8Array(raw.buffer as ArrayBuffer, raw.byteOffset, raw.length), { headers: { "content-type": type } }).formData().catch(() => {
    throw new AppError("validation_failed", "The multipart body could not be read.");
  });
  const file = form.get("file");
  if (!file || typeof file === "string") throw new AppError("validation_failed", "Send the CSV in a `file` field.", { details: { fields: [{ field: "file", message: "required" }] } });
  if (file.size > UPLOAD_BYTES_MAX) throw tooLarge();
  const source = form.get("source");
  return { bytes: Buffer.from(await file.arrayBuffer()), name: file.name || null, source: typeof source === "string" ? source : null };
}

/** Imports an uploaded settlement file, matches, audits the upload (recon_import.uploaded). */
export async function uploadSettlementFile(db: Db, req: Request, userId: string): Promise<UploadResult> {
  const params = new URL(req.url).searchParams;
  // A bad ?source= is refused before the body is read.
  const declaredSource = params.get("source");
  if (declaredSource !== null) parseSource(declaredSource);
  const file = await fileOf(req);
  const source = parseSource(declaredSource ?? file.source);
  if (file.bytes.length === 0) throw new AppError("validation_failed", "The file is empty.");
  const text = decodeUtf8(file.bytes);
  const label = (params.get("label")?.trim() || file.name || `${source} upload ${new Date().toISOString()}`).slice(0, RECON_LABEL_MAX);
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(label)) throw new AppError("validation_failed", "The label holds control characters.", { details: { fields: [{ field: "label", message: "no control characters" }] } });
  const imported =
    source === "stripe_report_csv"
      ? await importStripeReportCsv(db, { csv: text, label, userId })
      : await importMpesaStatementCsv(db, { csv: text, label, userId });
  // Audited as soon as the data is in, whether or not the match that follows succeeds.
  const audit = (match: UploadResult["match"] | { error: string }) =>
    db.transaction((tx) =>
      recordAudit(tx, {
        actor: userId,
        action: "recon_import.uploaded",
        target: { type: "recon_import", id: imported.importId },
        data: { source, label, bytes: file.bytes.length, alreadyImported: imported.alreadyImported, rowsSeen: imported.rowsSeen, rowsAdded: imported.rowsAdded, match },
      }),
    );
  let run;
  try {
    run = await runReconciliation(db, { label: `import ${imported.importId}` });
  } catch (err) {
    await audit({ error: err instanceof Error ? err.message : String(err) });
    throw err;
  }
  const match = { rows: run.rows, matchedRows: run.matchedRows, opened: run.opened, reopened: run.reopened, resolved: run.resolved, open: run.open };
  await audit(match);
  return { import: imported, match };
}

/** UTF-8 only (a BOM is dropped): a file in another encoding is refused rather than imported with mangled text. */
function decodeUtf8(bytes: Buffer): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new AppError("validation_failed", "The file is not UTF-8 text: export it as a UTF-8 CSV and upload it again.");
  }
}
