import { sql } from "drizzle-orm";
import { getDb } from "@/db";
import { inngestConfigFromEnv, localEngineUrl, usesLocalEngine } from "@/inngest/client";
import { env } from "@/server/env.js";
import { observabilitySql } from "@/server/observability/db";
import { checkHealth } from "@/server/observability/health";
import { sandboxUrl } from "@/server/psp/config";

// Public on purpose (load balancers, the dev script, supervisors): each part's state within a second.
// 503 only when the database is unreachable; 200 with status "ok" | "degraded" otherwise. States, ages and
// counts only: no URL, host or error text (server/observability/health.ts, docs/operations.md#observability).
export async function GET() {
  const inngest = inngestConfigFromEnv();
  const obs = observabilitySql();
  const { httpStatus, report } = await checkHealth({
    // Through the observability pool where there is one: the app's own pool queues behind card load, and a busy
    // instance must not answer 503 (a load balancer would pull it exactly when it is needed).
    pingDatabase: () => (obs ? obs`select 1` : getDb().execute(sql`select 1`)),
    sql: obs,
    engine: usesLocalEngine(inngest) ? { kind: "local", url: localEngineUrl(inngest) } : { kind: "inngest" },
    psp: env.PSP_MODE === "sandbox" ? { mode: "sandbox", url: sandboxUrl() } : { mode: "live" },
  });
  return Response.json(report, { status: httpStatus, headers: { "cache-control": "no-store" } });
}
export const dynamic = "force-dynamic";
export const runtime = "nodejs";
