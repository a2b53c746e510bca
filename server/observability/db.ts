// A small pool of its own for /metrics and /api/health reads (not the app's pool): a scrape never waits behind
// the app's queries nor takes their connections, and Postgres itself cancels a read past OBSERVABILITY_STATEMENT_TIMEOUT_MS.
import postgres from "postgres";
import { env } from "@/server/env.js";

export const OBSERVABILITY_POOL_MAX = 2;
export const OBSERVABILITY_STATEMENT_TIMEOUT_MS = 700;
export const OBSERVABILITY_CONNECT_TIMEOUT_S = 2;

export type ObservabilitySql = postgres.Sql;

export function createObservabilitySql(url: string): ObservabilitySql {
  return postgres(url, {
    max: OBSERVABILITY_POOL_MAX,
    connect_timeout: OBSERVABILITY_CONNECT_TIMEOUT_S,
    idle_timeout: 60,
    onnotice: () => {},
    connection: { statement_timeout: OBSERVABILITY_STATEMENT_TIMEOUT_MS, application_name: "paybridge-observability" },
  });
}

const KEY = Symbol.for("paybridge.observability.sql");
const g = globalThis as { [KEY]?: ObservabilitySql };

/** The process's observability pool; undefined without DATABASE_URL. */
export function observabilitySql(): ObservabilitySql | undefined {
  if (!env.DATABASE_URL) return undefined;
  return (g[KEY] ??= createObservabilitySql(env.DATABASE_URL));
}
