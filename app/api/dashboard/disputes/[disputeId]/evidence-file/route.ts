import { uploadDisputeEvidenceFile } from "@/server/disputes/respond";
import { EVIDENCE_FILE_MAX_BYTES, EVIDENCE_FILE_TYPES, ZDisputeIdValue } from "@/server/disputes/dashboard.schema";
import { AppError } from "@/server/errors";
import { sessionMerchantRoute } from "@/server/http/session-route";
import { getConnector } from "@/server/psp";

// POST /api/dashboard/disputes/<disputeId>/evidence-file (multipart/form-data, one part `file`): uploads one evidence
// file to the PSP (Stripe files API, purpose dispute_evidence) and answers {file_id}, which the evidence form then
// submits with its text (disputes.submitEvidence). Session-authenticated, admins only, scoped to the caller's merchant
// (another merchant's dispute: 404). At most 5 MB, PDF / PNG / JPEG; the body is read with a cap, never whole first.

/** The file plus the multipart framing (boundaries, part headers). */
const BODY_MAX_BYTES = EVIDENCE_FILE_MAX_BYTES + 64 * 1024;
const TYPES: readonly string[] = EVIDENCE_FILE_TYPES;

async function readCapped(req: Request): Promise<Uint8Array<ArrayBuffer>> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > BODY_MAX_BYTES) throw tooLarge();
  if (!req.body) return new Uint8Array(new ArrayBuffer(0));
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > BODY_MAX_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(new ArrayBuffer(total));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

const tooLarge = () => new AppError("payload_too_large", "The evidence file is larger than 5 MB.", { details: { maxBytes: EVIDENCE_FILE_MAX_BYTES } });
const invalid = (message: string) => new AppError("validation_failed", message, { details: { fields: [{ path: "file", message }] } });

export const POST = sessionMerchantRoute("merchant_admin", async (req, { db, merchant, requestId }) => {
  const segments = new URL(req.url).pathname.split("/");
  const rawId = decodeURIComponent(segments[segments.length - 2] ?? "");
  const id = ZDisputeIdValue.safeParse(rawId);
  if (!id.success) throw new AppError("not_found", "Dispute not found");
  const contentType = req.headers.get("content-type") ?? "";
  if (!contentType.toLowerCase().startsWith("multipart/form-data")) throw new AppError("unsupported_media_type", "Send the file as multipart/form-data (one part named file).");
  const bytes = await readCapped(req);
  let form: FormData;
  try {
    form = await new Request("http://local/", { method: "POST", headers: { "content-type": contentType }, body: bytes }).formData();
  } catch {
    throw invalid("The upload could not be read as multipart/form-data.");
  }
  const file = form.get("file");
  if (!(file instanceof File)) throw invalid("Choose a file (a part named file).");
  if (file.size === 0) throw invalid("The file is empty.");
  if (file.size > EVIDENCE_FILE_MAX_BYTES) throw tooLarge();
  if (!TYPES.includes(file.type)) throw invalid("The file must be a PDF, PNG or JPEG.");
  const fileName = (file.name || "evidence").slice(0, 200);
  const { fileId } = await uploadDisputeEvidenceFile(db, getConnector, { merchantId: merchant.id, disputeId: id.data, fileName, contentType: file.type, data: new Uint8Array(await file.arrayBuffer()) });
  return Response.json({ file_id: fileId, file_name: fileName, size: file.size, type: file.type }, { headers: { "cache-control": "no-store", "request-id": requestId } });
});

export const dynamic = "force-dynamic";
export const runtime = "nodejs";
