import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestDatabase, pointRoutesAt, type TestDatabase } from "@/test/db";
import { blackHole, closedPort } from "@/test/unreachable";

// GET /metrics against a real Postgres: the bearer token is required, the database gauges follow the rows,
// PSP call errors are counted at the connectors' one choke point, and a slow or unreachable database costs the
// parts it could not read (paybridge_scrape_errors), never the answer's deadline.

const TOKEN = "metrics-token-for-tests-0123456789";
let t: TestDatabase;
let GET: (req: Request) => Promise<Response>;
let merchantId: string;
let sellerId: string;
/** Generous for a busy machine; each read has an 800 ms deadline. */
const CEILING_MS = 3000;

beforeAll(async () => {
  t = await createTestDatabase();
  // INNGEST_DEV and no INNGEST_BASE_URL: the local engine runs in this database, so its queue is reported.
  pointRoutesAt(t, { METRICS_TOKEN: TOKEN, INNGEST_DEV: `http://127.0.0.1:${await closedPort()}` });
  ({ GET } = await import("./route"));
  // After the env is set: the fixtures reach server/env.js, which reads it once.
  const { createMerchant } = await import("@/test/fixtures");
  const m = await createMerchant(t.db, "Metrics Merchant");
  merchantId = m.id;
  const sellers = await t.sql<{ id: string }[]>`select id from sellers where merchant_id = ${merchantId} limit 1`;
  sellerId = sellers[0]!.id;
});
afterAll(async () => t?.drop());

const scrape = (auth: string | null = `Bearer ${TOKEN}`) => GET(new Request("http://localhost/metrics", { headers: auth ? { authorization: auth } : {} }));

async function metricsText(): Promise<string> {
  const res = await scrape();
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain");
  return res.text();
}

/** The value of one sample (name{labels} value), undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = line.match(/^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (.+)$/);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

it("refuses a scrape without the token or with a wrong one (401), and is off (404) when no token is configured", async () => {
  expect((await scrape(null)).status).toBe(401);
  expect((await scrape("Bearer wrong-token")).status).toBe(401);
  expect((await scrape(`Bearer ${TOKEN}x`)).status).toBe(401);
  const body = await (await scrape(null)).text();
  expect(body).not.toContain("paybridge_");
  const { serveMetrics } = await import("@/server/observability/metrics-endpoint");
  expect((await serveMetrics(new Request("http://localhost/metrics", { headers: { authorization: `Bearer ${TOKEN}` } }), { token: undefined, engineLocal: true })).status).toBe(404);
});

it("the database gauges follow the rows as they are added", async () => {
  const before = await metricsText();
  expect(sample(before, "paybridge_outbox_pending_events")).toBe(0);
  expect(sample(before, "paybridge_engine_dead_letters")).toBe(0);
  expect(sample(before, "paybridge_engine_jobs", { state: "due" })).toBe(0);
  expect(sample(before, "paybridge_webhook_deliveries", { status: "failed" })).toBe(0);
  expect(sample(before, "paybridge_payment_orders", { status: "SUCCESS", rail: "mpesa" })).toBeUndefined();
  expect(sample(before, "paybridge_scrape_errors", { part: "outbox" })).toBe(0);
  expect(sample(before, "paybridge_open_exceptions", { kind: "payment_attempt" })).toBe(0);

  // Two orders paid over M-Pesa, one executing on card, one not started.
  const checkoutId = "chk_metrics_1";
  await t.sql`insert into checkouts (id, merchant_id, currency, total_amount, buyer_info_encrypted, return_url) values (${checkoutId}, ${merchantId}, 'KES', 400, 'x', 'https://shop.example/r')`;
  await t.sql`insert into payment_orders (id, payment_order_id, merchant_id, checkout_id, seller_id, amount, currency, status, psp) values
    ('po_m1', 'm1', ${merchantId}, ${checkoutId}, ${sellerId}, 100, 'KES', 'SUCCESS', 'mpesa'),
    ('po_m2', 'm2', ${merchantId}, ${checkoutId}, ${sellerId}, 100, 'KES', 'SUCCESS', 'mpesa'),
    ('po_m3', 'm3', ${merchantId}, ${checkoutId}, ${sellerId}, 100, 'KES', 'EXECUTING', 'stripe'),
    ('po_m4', 'm4', ${merchantId}, ${checkoutId}, ${sellerId}, 100, 'KES', 'NOT_STARTED', null)`;
  // Two unsent outbox events, the oldest a minute old; one already sent.
  await t.sql`insert into outbox_events (id, name, data, created_at) values ('ob1', 'platform/ping', '{}', now() - interval '60 seconds'), ('ob2', 'platform/ping', '{}', now())`;
  await t.sql`insert into outbox_events (id, name, data, sent_at) values ('ob3', 'platform/ping', '{}', now())`;
  // The local engine: a run with a due job, a leased one, a later one, and a dead letter (one more replayed).
  await t.sql`insert into engine_apps (id, url) values ('app', 'http://app.test/api/inngest')`;
  await t.sql`insert into engine_functions (id, app_id, name, url, config) values ('fn', 'app', 'fn', 'http://app.test/api/inngest?fnId=fn', '{}')`;
  await t.sql`insert into engine_runs (id, function_id, event_id, event, status, ended_at) values
    ('run1', 'fn', 'e1', '{}', 'failed', now()), ('run2', 'fn', 'e2', '{}', 'failed', now()), ('run3', 'fn', 'e3', '{}', 'running', null)`;
  await t.sql`insert into engine_jobs (run_id, kind, step_id, run_at, lease_until) values
    ('run3', 'call', null, now() - interval '1 second', null),
    ('run3', 'call', 's1', now() - interval '1 second', now() + interval '60 seconds'),
    ('run3', 'sleep', 's2', now() + interval '1 hour', null)`;
  await t.sql`insert into engine_dead_letters (run_id, function_id, error) values ('run1', 'fn', '{}')`;
  await t.sql`insert into engine_dead_letters (run_id, function_id, error, replayed_run_id, replayed_at) values ('run2', 'fn', '{}', 'run3', now())`;
  // A merchant webhook delivery whose retries are spent, one pending, one delivered.
  await t.sql`insert into webhook_endpoints (id, merchant_id, url, secret_encrypted) values ('whe_m', ${merchantId}, 'https://hooks.example/m', 'x')`;
  await t.sql`insert into merchant_events (id, merchant_id, type, object_id, sequence, payload) values
    ('evt_m1', ${merchantId}, 'payment_order.succeeded', 'm1', 1, '{}'), ('evt_m2', ${merchantId}, 'payment_order.succeeded', 'm2', 1, '{}'), ('evt_m3', ${merchantId}, 'payment_order.succeeded', 'm3', 1, '{}')`;
  await t.sql`insert into webhook_deliveries (id, event_id, endpoint_id, status) values ('whd_1', 'evt_m1', 'whe_m', 'failed'), ('whd_2', 'evt_m2', 'whe_m', 'pending'), ('whd_3', 'evt_m3', 'whe_m', 'delivered')`;
  // The app's exceptions: one open and one being retried count, a resolved one does not.
  await t.sql`insert into ops_exceptions (id, kind, subject_type, subject_id, reason, message, status, fingerprint) values
    ('exc_m1', 'payment_attempt', 'payment_attempt', 'pat_m1', 'stuck', 'm', 'open', 'payment_attempt:pat_m1:stuck'),
    ('exc_m2', 'psp_event', 'psp_event', 'pse_m2', 'run_failed', 'm', 'retrying', 'psp_event:pse_m2:run_failed')`;
  await t.sql`insert into ops_exceptions (id, kind, subject_type, subject_id, reason, message, status, resolved_at, fingerprint) values
    ('exc_m3', 'payment_attempt', 'payment_attempt', 'pat_m3', 'stuck', 'm', 'resolved', now(), 'payment_attempt:pat_m3:stuck')`;

  const after = await metricsText();
  expect(sample(after, "paybridge_payment_orders", { status: "SUCCESS", rail: "mpesa" })).toBe(2);
  expect(sample(after, "paybridge_payment_orders", { status: "EXECUTING", rail: "stripe" })).toBe(1);
  expect(sample(after, "paybridge_payment_orders", { status: "NOT_STARTED", rail: "none" })).toBe(1);
  expect(sample(after, "paybridge_outbox_pending_events")).toBe(2);
  expect(sample(after, "paybridge_outbox_oldest_pending_age_seconds")).toBeGreaterThanOrEqual(59);
  expect(sample(after, "paybridge_engine_jobs", { state: "due" })).toBe(1);
  expect(sample(after, "paybridge_engine_jobs", { state: "leased" })).toBe(1);
  expect(sample(after, "paybridge_engine_jobs", { state: "scheduled" })).toBe(1);
  expect(sample(after, "paybridge_engine_dead_letters")).toBe(1);
  expect(sample(after, "paybridge_webhook_deliveries", { status: "failed" })).toBe(1);
  expect(sample(after, "paybridge_webhook_deliveries", { status: "pending" })).toBe(1);
  expect(sample(after, "paybridge_double_charges_awaiting_refund")).toBe(0);
  expect(sample(after, "paybridge_recon_cases", { type: "missing_in_ledger", status: "open" })).toBe(0);
  expect(sample(after, "paybridge_open_exceptions", { kind: "payment_attempt" })).toBe(1);
  expect(sample(after, "paybridge_open_exceptions", { kind: "psp_event" })).toBe(1);
  expect(sample(after, "paybridge_open_exceptions", { kind: "job" })).toBe(0);
  for (const part of ["payment_orders", "outbox", "engine_jobs", "engine_dead_letters", "webhook_deliveries", "double_charges", "recon_cases", "ops_exceptions"]) {
    expect(sample(after, "paybridge_scrape_errors", { part })).toBe(0);
  }
});

it("counts failed PSP calls and their latency at the connectors' choke point", async () => {
  const { createStripeConnector } = await import("@/server/psp");
  const { CONNECTION_REFUSED_RETRY_DELAYS_MS } = await import("@/server/psp/attempts");
  const port = await closedPort();
  const stripe = createStripeConnector(t.db, { apiBase: `http://127.0.0.1:${port}`, timeoutMs: 500 });
  const before = sample(await metricsText(), "paybridge_psp_call_errors_total", { psp: "stripe", operation: "get_payment_status", outcome: "network_error" }) ?? 0;
  await expect(stripe.getPaymentStatus({ pspReference: "pi_metrics_probe" })).rejects.toThrow();
  const text = await metricsText();
  const operation = text.match(/paybridge_psp_call_errors_total\{psp="stripe",operation="([^"]+)",outcome="network_error"\}/)?.[1];
  expect(operation).toBeDefined();
  // A refused connection is tried again in the call (server/psp/attempts.ts): every try is counted.
  const tries = CONNECTION_REFUSED_RETRY_DELAYS_MS.length + 1;
  expect(sample(text, "paybridge_psp_call_errors_total", { psp: "stripe", operation: operation!, outcome: "network_error" })).toBe((operation === "get_payment_status" ? before : 0) + tries);
  expect(sample(text, "paybridge_psp_call_duration_seconds_count", { psp: "stripe", operation: operation!, outcome: "network_error" })).toBe(tries);
});

it("a slow part (a table locked by another transaction) is reported in paybridge_scrape_errors; the rest answers in time", async () => {
  const locker = await t.sql.reserve();
  try {
    await locker`begin`;
    await locker`lock table outbox_events in access exclusive mode`;
    const started = performance.now();
    const text = await metricsText();
    expect(performance.now() - started).toBeLessThan(CEILING_MS);
    expect(sample(text, "paybridge_scrape_errors", { part: "outbox" })).toBe(1);
    expect(sample(text, "paybridge_outbox_pending_events")).toBeUndefined();
    expect(sample(text, "paybridge_scrape_errors", { part: "payment_orders" })).toBe(0);
    expect(sample(text, "paybridge_payment_orders", { status: "SUCCESS", rail: "mpesa" })).toBe(2);
  } finally {
    await locker`rollback`;
    locker.release();
  }
  // Next scrape: read again.
  expect(sample(await metricsText(), "paybridge_outbox_pending_events")).toBe(2);
});

it("with the database unreachable the scrape still answers within the ceiling, every part in paybridge_scrape_errors", async () => {
  const { serveMetrics } = await import("@/server/observability/metrics-endpoint");
  const { createObservabilitySql } = await import("@/server/observability/db");
  const hole = await blackHole();
  const sql = createObservabilitySql(`postgres://x:y@127.0.0.1:${hole.port}/db`);
  try {
    const started = performance.now();
    const res = await serveMetrics(new Request("http://localhost/metrics", { headers: { authorization: `Bearer ${TOKEN}` } }), { token: TOKEN, engineLocal: true, sql });
    expect(performance.now() - started).toBeLessThan(CEILING_MS);
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const part of ["payment_orders", "outbox", "engine_jobs", "engine_dead_letters", "webhook_deliveries", "double_charges", "recon_cases", "ops_exceptions"]) {
      expect(sample(text, "paybridge_scrape_errors", { part })).toBe(1);
    }
    expect(sample(text, "paybridge_payment_orders", { status: "SUCCESS", rail: "mpesa" })).toBeUndefined();
    // Process metrics are still there.
    expect(text).toContain("paybridge_process_");
  } finally {
    await sql.end({ timeout: 0 }).catch(() => {});
    await hole.close();
  }
});
