import { csvDownload, sessionMerchantRoute } from "@/server/http/session-route";
import { validationError } from "@/server/http/errors";
import { admitExport, exportPaymentOrders } from "@/server/payments/export-payment-orders";
import { PAYMENT_FILTER_KEYS, ZPaymentFilters } from "@/server/payments/list-payment-orders.schema";

// GET /api/dashboard/payments/export?<the payments page's filters>: the filtered list as a streamed CSV download.
// Session-authenticated like the dashboard (a viewer may export), scoped to the caller's merchant.
export const GET = sessionMerchantRoute("merchant_viewer", async (req, { db, merchant, requestId }) => {
  const params = new URL(req.url).searchParams;
  const raw = Object.fromEntries([...PAYMENT_FILTER_KEYS, "sort", "dir"].flatMap((k) => (params.get(k) ? [[k, params.get(k)]] : [])));
  const parsed = ZPaymentFilters.safeParse(raw);
  if (!parsed.success) throw validationError(parsed.error);
  await admitExport(db, merchant.id);
  const { filename, body } = await exportPaymentOrders(db, merchant.id, parsed.data);
  return csvDownload(body, filename, requestId);
});

export const dynamic = "force-dynamic";
export const runtime = "nodejs";
