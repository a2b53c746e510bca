// Prometheus metrics (prom-client) of this process, served by GET /metrics (app/metrics/route.ts) behind
// METRICS_TOKEN. Two kinds: instruments recorded as things happen here (PSP call latency and errors,
// internal errors answered), and gauges read from the database at scrape time (server/observability/
// db-gauges.ts). The names are listed in docs/operations.md#observability.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

export interface Metrics {
  registry: Registry;
  pspCallDuration: Histogram<"psp" | "operation" | "outcome">;
  pspCallErrors: Counter<"psp" | "operation" | "outcome">;
  serverErrors: Counter<"surface">;
  paymentOrders: Gauge<"status" | "rail">;
  outboxPending: Gauge;
  outboxOldestAge: Gauge;
  engineJobs: Gauge<"state">;
  engineDeadLetters: Gauge;
  webhookDeliveries: Gauge<"status">;
  doubleChargesAwaitingRefund: Gauge;
  reconCases: Gauge<"type" | "status">;
  openExceptions: Gauge<"kind">;
  scrapeErrors: Gauge<"part">;
  scrapeDuration: Gauge;
}

function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "paybridge_process_" });
  const registers = [registry];
  return {
    registry,
    pspCallDuration: new Histogram({
      name: "paybridge_psp_call_duration_seconds",
      help: "Outbound PSP calls made by this process, by PSP, operation and outcome (ok, psp_error, timeout, network_error).",
      labelNames: ["psp", "operation", "outcome"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20],
      registers,
    }),
    pspCallErrors: new Counter({
      name: "paybridge_psp_call_errors_total",
      help: "Outbound PSP calls that did not succeed, by PSP, operation and outcome.",
      labelNames: ["psp", "operation", "outcome"],
      registers,
    }),
    serverErrors: new Counter({
      name: "paybridge_internal_errors_total",
      help: "Requests answered with an internal (5xx) error, by surface (api_v1, trpc).",
      labelNames: ["surface"],
      registers,
    }),
    paymentOrders: new Gauge({
      name: "paybridge_payment_orders",
      help: "Payment orders by status (NOT_STARTED, EXECUTING, SUCCESS, FAILED) and rail (the PSP: stripe, mpesa; none before one is chosen).",
      labelNames: ["status", "rail"],
      registers,
    }),
    outboxPending: new Gauge({ name: "paybridge_outbox_pending_events", help: "Outbox events not yet sent to Inngest.", registers }),
    outboxOldestAge: new Gauge({ name: "paybridge_outbox_oldest_pending_age_seconds", help: "Age of the oldest unsent outbox event (0 when none): the outbox lag.", registers }),
    engineJobs: new Gauge({
      name: "paybridge_engine_jobs",
      help: "Local engine queue (engine_jobs): due = runnable now and not leased, leased = being worked on, scheduled = due later. Absent with Inngest Cloud.",
      labelNames: ["state"],
      registers,
    }),
    engineDeadLetters: new Gauge({ name: "paybridge_engine_dead_letters", help: "Runs in the local engine's dead letters not replayed yet.", registers }),
    webhookDeliveries: new Gauge({
      name: "paybridge_webhook_deliveries",
      help: "Merchant webhook deliveries not delivered, by status (pending, failed: retries spent).",
      labelNames: ["status"],
      registers,
    }),
    doubleChargesAwaitingRefund: new Gauge({ name: "paybridge_double_charges_awaiting_refund", help: "Double charges recorded and not yet refunded.", registers }),
    reconCases: new Gauge({
      name: "paybridge_recon_cases",
      help: "Reconciliation cases not resolved, by type (missing_in_ledger, …, invariant) and status (open, acknowledged); 0 for a type with none.",
      labelNames: ["type", "status"],
      registers,
    }),
    openExceptions: new Gauge({
      name: "paybridge_open_exceptions",
      help: "The app's exceptions (ops_exceptions) open or being retried, by kind (payment_attempt, payment_cancel, psp_event, merchant_webhook, refund, payout, job); 0 for a kind with none.",
      labelNames: ["kind"],
      registers,
    }),
    scrapeErrors: new Gauge({
      name: "paybridge_scrape_errors",
      help: "1 for each part of this scrape that could not be read (timeout or database error); its metrics are then absent.",
      labelNames: ["part"],
      registers,
    }),
    scrapeDuration: new Gauge({ name: "paybridge_scrape_duration_seconds", help: "How long the database reads of this scrape took.", registers }),
  };
}

const KEY = Symbol.for("paybridge.observability.metrics");
const g = globalThis as { [KEY]?: Metrics };

/** The process's metrics (one set per process, even when Next bundles this module into several chunks). */
export function metrics(): Metrics {
  return (g[KEY] ??= createMetrics());
}

/** Called by the one choke point of outbound PSP calls (server/psp/attempts.ts recordedCall). */
export function observePspCall(psp: string, operation: string, outcome: string, seconds: number): void {
  const m = metrics();
  m.pspCallDuration.observe({ psp, operation, outcome }, seconds);
  if (outcome !== "ok") m.pspCallErrors.inc({ psp, operation, outcome });
}
