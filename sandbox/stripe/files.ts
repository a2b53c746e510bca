// The files API: POST /v1/files (multipart/form-data: purpose, file), GET /v1/files/:id, GET /v1/files and
// GET /v1/files/:id/contents. The stripe SDK sends uploads to files.stripe.com, or to the configured `host` when
// one is set, so the real SDK uploads to the sandbox. Purposes dispute_evidence and identity_document only; at
// most 10 MB; PDF, PNG or JPEG, recognised by their first bytes (not by the name or the declared type). The
// contents are kept (base64, StripeStore.fileContents), so they survive a restart like every other object.
import { isUploadedFile, StripeApiError, stripeNotFound, type SandboxRequest, type SandboxResponse } from "../http";
import type { StripeCtx } from "./context";
import { stripeId, type StripeObject } from "./store";

export const FILE_PURPOSES = ["dispute_evidence", "identity_document"] as const;
export const FILE_MAX_BYTES = 10 * 1024 * 1024;
const UPLOAD_PARAMS = new Set(["purpose", "file", "expand", "file_link_data"]);

const TYPES: { type: string; mime: string; magic: number[] }[] = [
  { type: "pdf", mime: "application/pdf", magic: [0x25, 0x50, 0x44, 0x46, 0x2d] }, // %PDF-
  { type: "png", mime: "image/png", magic: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { type: "jpg", mime: "image/jpeg", magic: [0xff, 0xd8, 0xff] },
];

export function sniffFileType(data: Buffer): { type: string; mime: string } | undefined {
  return TYPES.find((t) => data.length >= t.magic.length && t.magic.every((b, i) => data[i] === b));
}

export function createFile(ctx: StripeCtx, req: SandboxRequest): StripeObject {
  if (!String(req.headers["content-type"] ?? "").toLowerCase().startsWith("multipart/form-data")) {
    throw new StripeApiError(400, "invalid_request_error", undefined, "File uploads must be sent as multipart/form-data.");
  }
  const unknown = Object.keys(req.body).find((k) => !UPLOAD_PARAMS.has(k));
  if (unknown) throw new StripeApiError(400, "invalid_request_error", "parameter_unknown", `Received unknown parameter: ${unknown}`, { param: unknown });
  const purpose = req.body.purpose;
  if (purpose === undefined || purpose === "") throw new StripeApiError(400, "invalid_request_error", "parameter_missing", "Missing required param: purpose.", { param: "purpose" });
  if (typeof purpose !== "string" || !(FILE_PURPOSES as readonly string[]).includes(purpose)) {
    throw new StripeApiError(400, "invalid_request_error", "parameter_invalid_string", `Invalid purpose: must be one of ${FILE_PURPOSES.join(", ")} (the sandbox accepts these only)`, { param: "purpose" });
  }
  const file = req.body.file;
  if (!isUploadedFile(file)) throw new StripeApiError(400, "invalid_request_error", "parameter_missing", "Missing required param: file.", { param: "file" });
  if (file.data.length === 0) throw new StripeApiError(400, "invalid_request_error", "parameter_invalid", "The file you uploaded is empty.", { param: "file" });
  if (file.data.length > FILE_MAX_BYTES) throw new StripeApiError(400, "invalid_request_error", "parameter_invalid", "The file you uploaded is too large. The maximum size is 10 MB.", { param: "file" });
  const kind = sniffFileType(file.data);
  if (!kind) throw new StripeApiError(400, "invalid_request_error", "parameter_invalid", "The file you uploaded is not a PDF, PNG or JPEG file, or is damaged.", { param: "file" });
  const id = stripeId("file");
  const created = ctx.store.nowS();
  const f = ctx.store.put({
    id,
    object: "file",
    created,
    // Stripe keeps dispute evidence and identity documents; other purposes expire.
    expires_at: null,
    filename: file.filename || id,
    links: { object: "list", data: [] as unknown[], has_more: false, url: `/v1/file_links?file=${id}` },
    purpose,
    size: file.data.length,
    title: null,
    type: kind.type,
    url: `${ctx.baseUrl()}/v1/files/${id}/contents`,
    _mime: kind.mime,
  });
  ctx.store.fileContents.set(id, file.data.toString("base64"));
  return f;
}

export function getFile(ctx: StripeCtx, id: string): StripeObject {
  const f = ctx.store.get(id, "file");
  if (!f) throw stripeNotFound("file", id, "file");
  return f;
}

export function fileContents(ctx: StripeCtx, id: string): SandboxResponse {
  const f = getFile(ctx, id);
  const b64 = ctx.store.fileContents.peek(id);
  if (b64 === undefined) throw stripeNotFound("file", id, "file");
  return { status: 200, body: Buffer.from(b64, "base64"), contentType: f._mime as string, headers: { "content-disposition": `inline; filename="${String(f.filename).replace(/["\r\n]/g, "_")}"` } };
}
