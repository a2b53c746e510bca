import { AppError } from "@/server/errors";
import { csvDownload, sessionMerchantRoute } from "@/server/http/session-route";
import { admitPayoutExport, exportPayoutItems } from "@/server/payouts/export-items";
import { ZPayoutIdValue } from "@/server/payouts/router.schema";

// GET /api/dashboard/payouts/{payoutId}/items: the payout's composition as a CSV download. Session-authenticated
// like the dashboard (a viewer may export), scoped to the caller's merchant: another merchant's payout is 404.

export const GET = sessionMerchantRoute("merchant_viewer", async (req, { db, merchant, requestId }) => {
  // Not decoded: a payout id is plain [0-9A-Z_] (a percent sign is no id), and a malformed escape ("%E0") must be a 404, not a URIError.
  const payoutId = new URL(req.url).pathname.split("/").at(-2) ?? "";
  if (!ZPayoutIdValue.safeParse(payoutId).success) throw new AppError("not_found", "Payout not found");
  await admitPayoutExport(db, merchant.id);
  const { filename, text } = await exportPayoutItems(db, merchant.id, payoutId);
  return csvDownload(text, filename, requestId);
});

export const dynamic = "force-dynamic";
export const runtime = "nodejs";
