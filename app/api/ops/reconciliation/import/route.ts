import { sessionOpsRoute } from "@/server/http/ops-route";
import { uploadSettlementFile } from "@/server/reconciliation/upload";

// POST /api/ops/reconciliation/import?source=stripe_report_csv|mpesa_statement_csv[&label=…]: ops uploads a Stripe
// itemized payout reconciliation report or an M-Pesa statement (multipart/form-data with a `file` field, or the CSV
// as the raw body), at most 50 MB (413 above). The file is imported (the same file twice adds nothing), matched,
// and the upload audited. Ops session only; same-origin only (CSRF).
export const POST = sessionOpsRoute(async (req, { db, userId }) => Response.json(await uploadSettlementFile(db, req, userId), { headers: { "cache-control": "no-store" } }));

export const dynamic = "force-dynamic";
export const runtime = "nodejs";
