import { getDb } from "@/db";
import { getUploadedLogo } from "@/server/merchants/upload-logo";

// Public on purpose: the hosted checkout shows the merchant's uploaded logo to buyers. Serves only what the
// upload accepted (PNG, JPEG, WebP by magic bytes) with its own content type and nosniff. A URL carrying the
// image's sha256 (`?v=`, what merchants.logo_url holds) is cached for good; any other is revalidated by ETag.

const IMMUTABLE = "public, max-age=31536000, immutable";
const REVALIDATE = "public, max-age=0, must-revalidate";

function notFound(): Response {
  return new Response("Not found", { status: 404, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" } });
}

export async function GET(req: Request, { params }: { params: Promise<{ merchantId: string }> }) {
  const { merchantId } = await params;
  // Generated ids are mer_ + 26 base32 characters; seeded ones (mer_demo) are shorter.
  if (!/^mer_[0-9A-Za-z_]{1,64}$/.test(merchantId)) return notFound();
  const logo = await getUploadedLogo(getDb(), merchantId);
  if (!logo) return notFound();
  const etag = `"${logo.sha256}"`;
  const version = new URL(req.url).searchParams.get("v");
  const headers = {
    "content-type": logo.contentType,
    "x-content-type-options": "nosniff",
    "content-disposition": 'inline; filename="logo"',
    "cache-control": version === logo.sha256 ? IMMUTABLE : REVALIDATE,
    etag,
  };
  if (req.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers });
  return new Response(new Uint8Array(logo.bytes), { status: 200, headers: { ...headers, "content-length": String(logo.bytes.length) } });
}

export const dynamic = "force-dynamic";
export const runtime = "nodejs";
