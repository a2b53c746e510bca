// GET /metrics (app/metrics/route.ts): bearer-token check, then the database gauges (each part within its
// deadline) and the process's own instruments, in the Prometheus text format.
import { timingSafeEqual } from "node:crypto";
import { collectDbGauges } from "./db-gauges";
import { observabilitySql, type ObservabilitySql } from "./db";
import { metrics } from "./metrics";

function tokenMatches(header: string | null, token: string): boolean {
  const given = header?.startsWith("Bearer ") ? header.slice(7).trim() : "";
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function serveMetrics(req: Request, o: { token: string | undefined; engineLocal: boolean; sql?: ObservabilitySql }): Promise<Response> {
  const headers = { "cache-control": "no-store" };
  // Off unless configured: a 404 says nothing about what would be there.
  if (!o.token) return new Response("Not Found\n", { status: 404, headers });
  if (!tokenMatches(req.headers.get("authorization"), o.token)) {
    return new Response("Unauthorized\n", { status: 401, headers: { ...headers, "www-authenticate": 'Bearer realm="metrics"' } });
  }
  await collectDbGauges(o.sql ?? observabilitySql(), { engineLocal: o.engineLocal });
  const registry = metrics().registry;
  return new Response(await registry.metrics(), { status: 200, headers: { ...headers, "content-type": registry.contentType } });
}
