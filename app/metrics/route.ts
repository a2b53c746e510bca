import { inngestConfigFromEnv, usesLocalEngine } from "@/inngest/client";
import { env } from "@/server/env.js";
import { serveMetrics } from "@/server/observability/metrics-endpoint";

// Prometheus scrape endpoint (docs/operations.md#observability): Authorization: Bearer METRICS_TOKEN.
// METRICS_TOKEN unset: 404 (the endpoint is off). Answers within a second even when the database is slow.
export async function GET(req: Request) {
  return serveMetrics(req, { token: env.METRICS_TOKEN, engineLocal: usesLocalEngine(inngestConfigFromEnv()) });
}
export const dynamic = "force-dynamic";
export const runtime = "nodejs";
