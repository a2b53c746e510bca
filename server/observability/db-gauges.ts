// The metrics and health facts read from the database at scrape time: small grouped counts, each query with
// its own deadline (and the observability pool's statement_timeout), so a slow database costs a part of
// the answer, never the answer (the part is reported in paybridge_scrape_errors instead).
import { OPS_EXCEPTION_KINDS } from "@/db/schema/exceptions";
import { RECON_CASE_TYPES } from "@/db/schema/reconciliation";
import type { ObservabilitySql } from "./db";
import { metrics } from "./metrics";
import { withDeadline } from "./timeout";

export const SCRAPE_QUERY_DEADLINE_MS = 800;

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

export interface OutboxLag {
  pending: number;
  /** Age of the oldest unsent event, seconds (0 when none). */
  oldestAgeS: number;
}

export async function readOutboxLag(sql: ObservabilitySql): Promise<OutboxLag> {
  const [r] = await sql`select count(*)::int as pending, coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as age from outbox_events where sent_at is null`;
  return { pending: num(r?.pending), oldestAgeS: Math.max(0, num(r?.age)) };
}

export interface HeartbeatFact {
  /** Seconds since the freshest beat of any instance; null when none ever beat. */
  lastBeatAgeS: number | null;
  /** Instances that beat within the stale window. */
  liveInstances: number;
}

export async function readHeartbeat(sql: ObservabilitySql, name: string, staleS: number): Promise<HeartbeatFact> {
  const [r] = await sql`select extract(epoch from now() - max(beat_at))::float8 as age, count(*) filter (where beat_at > now() - make_interval(secs => ${staleS}))::int as live from process_heartbeats where name = ${name}`;
  return { lastBeatAgeS: r?.age === null || r?.age === undefined ? null : Math.max(0, num(r.age)), liveInstances: num(r?.live) };
}

/** read() fetches; the setter it returns is applied only if it came within the deadline (a late answer is dropped). */
type Part = { name: string; read: () => Promise<() => void> };

function parts(sql: ObservabilitySql, o: { engineLocal: boolean }): Part[] {
  const m = metrics();
  const list: Part[] = [
    {
      name: "payment_orders",
      read: async () => {
        const rows = await sql`select status::text as status, coalesce(psp, 'none') as rail, count(*)::int as n from payment_orders group by 1, 2`;
        return () => {
          m.paymentOrders.reset();
          for (const r of rows) m.paymentOrders.set({ status: String(r.status), rail: String(r.rail) }, num(r.n));
        };
      },
    },
    {
      name: "outbox",
      read: async () => {
        const lag = await readOutboxLag(sql);
        return () => {
          m.outboxPending.set(lag.pending);
          m.outboxOldestAge.set(lag.oldestAgeS);
        };
      },
    },
    {
      name: "webhook_deliveries",
      read: async () => {
        const [r] = await sql`select count(*) filter (where status = 'pending')::int as pending, count(*) filter (where status = 'failed')::int as failed from webhook_deliveries where status <> 'delivered'`;
        return () => {
          m.webhookDeliveries.set({ status: "pending" }, num(r?.pending));
          m.webhookDeliveries.set({ status: "failed" }, num(r?.failed));
        };
      },
    },
    {
      name: "double_charges",
      read: async () => {
        const [r] = await sql`select count(*)::int as n from double_charges where status = 'awaiting_refund'`;
        return () => m.doubleChargesAwaitingRefund.set(num(r?.n));
      },
    },
    {
      name: "recon_cases",
      read: async () => {
        const rows = await sql`select type::text as type, status::text as status, count(*)::int as n from recon_cases where status <> 'resolved' group by 1, 2`;
        return () => {
          m.reconCases.reset();
          for (const type of RECON_CASE_TYPES) for (const status of ["open", "acknowledged"]) m.reconCases.set({ type, status }, 0);
          for (const r of rows) m.reconCases.set({ type: String(r.type), status: String(r.status) }, num(r.n));
        };
      },
    },
    {
      name: "ops_exceptions",
      read: async () => {
        const rows = await sql`select kind, count(*)::int as n from ops_exceptions where status in ('open', 'retrying') group by kind`;
        const byKind = new Map(rows.map((r) => [String(r.kind), num(r.n)]));
        return () => {
          m.openExceptions.reset();
          for (const kind of new Set([...OPS_EXCEPTION_KINDS, ...byKind.keys()])) m.openExceptions.set({ kind }, byKind.get(kind) ?? 0);
        };
      },
    },
  ];
  if (o.engineLocal) {
    list.push(
      {
        name: "engine_jobs",
        read: async () => {
          const [r] = await sql`select
              count(*) filter (where run_at <= now() and (lease_until is null or lease_until < now()))::int as due,
              count(*) filter (where lease_until >= now())::int as leased,
              count(*) filter (where run_at > now() and (lease_until is null or lease_until < now()))::int as scheduled
            from engine_jobs`;
          return () => {
            m.engineJobs.set({ state: "due" }, num(r?.due));
            m.engineJobs.set({ state: "leased" }, num(r?.leased));
            m.engineJobs.set({ state: "scheduled" }, num(r?.scheduled));
          };
        },
      },
      {
        name: "engine_dead_letters",
        read: async () => {
          const [r] = await sql`select count(*)::int as n from engine_dead_letters where replayed_run_id is null`;
          return () => m.engineDeadLetters.set(num(r?.n));
        },
      },
    );
  }
  return list;
}

/** The gauges a failed part would have set: removed (remove() on an unlabeled gauge: its reset() means 0), so a stale value is never scraped as current. */
function clearPart(name: string): void {
  const m = metrics();
  const clear: Record<string, () => void> = {
    payment_orders: () => m.paymentOrders.reset(),
    outbox: () => {
      m.outboxPending.remove();
      m.outboxOldestAge.remove();
    },
    webhook_deliveries: () => m.webhookDeliveries.reset(),
    double_charges: () => m.doubleChargesAwaitingRefund.remove(),
    ops_exceptions: () => m.openExceptions.reset(),
    engine_jobs: () => m.engineJobs.reset(),
    engine_dead_letters: () => m.engineDeadLetters.remove(),
  };
  clear[name]?.();
}

export interface ScrapeOutcome {
  failed: string[];
  durationS: number;
}

/**
 * Reads every database gauge in parallel, each within deadlineMs. Without a database (sql undefined) every
 * part is reported failed. Returns the parts that could not be read.
 */
export async function collectDbGauges(sql: ObservabilitySql | undefined, o: { engineLocal: boolean; deadlineMs?: number }): Promise<ScrapeOutcome> {
  const m = metrics();
  const started = performance.now();
  const failed: string[] = [];
  const list = sql ? parts(sql, o) : [{ name: "database", read: () => Promise.reject<() => void>(new Error("DATABASE_URL is not set")) }];
  if (!o.engineLocal) {
    m.engineJobs.reset();
    m.engineDeadLetters.remove();
  }
  m.scrapeErrors.reset();
  await Promise.all(
    list.map(async (p) => {
      try {
        const apply = await withDeadline(p.read, o.deadlineMs ?? SCRAPE_QUERY_DEADLINE_MS);
        apply();
        m.scrapeErrors.set({ part: p.name }, 0);
      } catch {
        failed.push(p.name);
        clearPart(p.name);
        m.scrapeErrors.set({ part: p.name }, 1);
      }
    }),
  );
  const durationS = (performance.now() - started) / 1000;
  m.scrapeDuration.set(durationS);
  return { failed: failed.sort(), durationS };
}
