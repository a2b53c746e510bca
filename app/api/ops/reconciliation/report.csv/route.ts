import { csvDownload } from "@/server/http/session-route";
import { sessionOpsRoute } from "@/server/http/ops-route";
import { validationError } from "@/server/http/errors";
import { dailyReport, reportCsv } from "@/server/reconciliation/report";
import { ZReportInput } from "@/server/reconciliation/router.schema";

// GET /api/ops/reconciliation/report.csv[?asOf=<ISO time>]: the daily reconciliation report as a CSV download
// (every cell neutralised against formula injection). Ops session only.
export const GET = sessionOpsRoute(async (req, { db, requestId }) => {
  const asOf = new URL(req.url).searchParams.get("asOf");
  const parsed = ZReportInput.safeParse(asOf ? { asOf: new Date(asOf) } : {});
  if (!parsed.success) throw validationError(parsed.error);
  const report = await dailyReport(db, parsed.data);
  return csvDownload(reportCsv(report), `reconciliation-${report.asOf.toISOString().slice(0, 10)}.csv`, requestId);
});

export const dynamic = "force-dynamic";
export const runtime = "nodejs";
