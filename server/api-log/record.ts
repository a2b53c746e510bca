import type { Db } from "@/db/client";
import { apiRequestLog } from "@/db/schema";
import { log } from "@/server/observability/log";
import { redactBody, redactSecrets } from "./redact";

// One api_request_log row per authenticated /api/v1 request (the developers page's request log). The /api/v1
// wrapper calls recordApiRequest once the response is decided; the write happens after, off the request's path:
// it is queued for the next turn of the event loop, never awaited by the request, and a failure is logged, never
// thrown. At most API_LOG_IN_FLIGHT_MAX writes wait at once; beyond that a row is dropped (and logged), so a slow
// database cannot pile up memory behind the API. At most API_LOG_WRITE_CONCURRENCY of them hold a database
// connection at a time, so a burst of API calls cannot fill the shared pool with log inserts ahead of the payment
// queries that pool serves; the rows that wait meanwhile go in together, as one multi-row insert.

export const API_LOG_IN_FLIGHT_MAX = 500;
export const API_LOG_WRITE_CONCURRENCY = 2;
/** Rows per insert at most: the rows that queued while the last insert ran go in the next one. */
export const API_LOG_BATCH_MAX = 100;
export const API_LOG_PATH_MAX = 500;
export const API_LOG_IDEMPOTENCY_KEY_MAX = 255;

export interface ApiRequestLogEntry {
  merchantId: string;
  apiKeyId: string;
  mode: "test" | "live";
  method: string;
  path: string;
  status: number;
  idempotencyKey: string | null;
  requestId: string;
  latencyMs: number;
  errorCode: string | null;
  /** The request body as parsed (or its raw text when it did not parse); redacted here. */
  requestBody: unknown;
  /** The response body; redacted here. Its checkout_id (if any) is the row's checkout. */
  responseBody: unknown;
}

const inFlight = new Set<Promise<void>>();

/** Rows built and waiting for an insert, each with the settle of its recordApiRequest promise. */
interface QueuedRow {
  getDb: () => Db;
  row: typeof apiRequestLog.$inferInsert;
  requestId: string;
  done: () => void;
}
const queued: QueuedRow[] = [];
let writing = 0;

/**
 * Starts inserts while rows wait and fewer than API_LOG_WRITE_CONCURRENCY run: each takes every row waiting (up to
 * API_LOG_BATCH_MAX) into one multi-row insert, so under load a log row costs a fraction of a round trip. A batch the
 * database refuses is retried row by row, so one bad row loses only itself.
 */
function pump(): void {
  while (queued.length > 0 && writing < API_LOG_WRITE_CONCURRENCY) {
    // One database per insert: the waiting rows at the head that were recorded against the same one.
    const same = queued.findIndex((q) => q.getDb !== queued[0]!.getDb);
    const batch = queued.splice(0, Math.min(API_LOG_BATCH_MAX, same < 0 ? queued.length : same));
    writing++;
    void insertBatch(batch).finally(() => {
      writing--;
      for (const q of batch) q.done();
      pump();
    });
  }
}

/** Never rejects: a row that cannot be written is logged and dropped. */
async function insertBatch(batch: QueuedRow[]): Promise<void> {
  const insert = async (rows: QueuedRow[]) => {
    try {
      await rows[0]!.getDb().insert(apiRequestLog).values(rows.map((q) => q.row));
      return true;
    } catch (err) {
      if (rows.length === 1) log.warn({ err, requestId: rows[0]!.requestId }, "api request log write failed");
      return false;
    }
  };
  if ((await insert(batch)) || batch.length === 1) return;
  for (const q of batch) await insert([q]);
}

/** The checkout a response names: POST /payments returns it at the top, GET /payments/{id} in the order. */
export function checkoutIdOf(body: unknown): string | null {
  if (!body || typeof body !== "object") return null;
  const id = (body as { checkout_id?: unknown }).checkout_id;
  return typeof id === "string" && /^chk_[0-9A-Za-z]{1,64}$/.test(id) ? id : null;
}

export function toApiRequestLogRow(e: ApiRequestLogEntry): typeof apiRequestLog.$inferInsert {
  return {
    merchantId: e.merchantId,
    apiKeyId: e.apiKeyId,
    mode: e.mode,
    method: e.method.slice(0, 10),
    // Path and key are filtered on exactly: only credentials are cut from them (a card number never travels there).
    path: redactSecrets(e.path).slice(0, API_LOG_PATH_MAX),
    status: e.status,
    idempotencyKey: e.idempotencyKey === null ? null : redactSecrets(e.idempotencyKey).slice(0, API_LOG_IDEMPOTENCY_KEY_MAX),
    requestId: e.requestId,
    latencyMs: Math.max(0, Math.round(e.latencyMs)),
    errorCode: e.errorCode?.slice(0, 64) ?? null,
    checkoutId: checkoutIdOf(e.responseBody),
    requestBody: redactBody(e.requestBody),
    responseBody: redactBody(e.responseBody),
  };
}

async function write(getDb: () => Db, entry: ApiRequestLogEntry | (() => Promise<ApiRequestLogEntry>), requestId: string, answeredAt: Date): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve)); // after the response has been handed back
  let row: typeof apiRequestLog.$inferInsert;
  try {
    const e = typeof entry === "function" ? await entry() : entry;
    // Stamped when the answer left, not when the queued write got its turn (seconds later under load): the request
    // arrived latency_ms before that, ahead of everything it caused (the payment timeline orders by it).
    row = { ...toApiRequestLogRow(e), createdAt: answeredAt };
  } catch (err) {
    return void log.warn({ err, requestId }, "api request log write failed");
  }
  await new Promise<void>((done) => {
    queued.push({ getDb, row, requestId, done });
    pump();
  });
}

/**
 * Queues the row (or a function that builds it, e.g. by reading the response body); returns at once, never throws.
 * `requestId` names the call in the warning if the write fails.
 */
export function recordApiRequest(db: Db | (() => Db), entry: ApiRequestLogEntry | (() => Promise<ApiRequestLogEntry>), requestId = typeof entry === "function" ? "" : entry.requestId): void {
  if (inFlight.size >= API_LOG_IN_FLIGHT_MAX) {
    log.warn({ requestId, inFlight: inFlight.size }, "api request log row dropped: too many writes in flight");
    return;
  }
  const getDb = typeof db === "function" ? db : () => db;
  const p = write(getDb, entry, requestId, new Date()).finally(() => inFlight.delete(p));
  inFlight.add(p);
}

/** Waits for the queued writes (tests; a graceful stop). */
export async function flushApiRequestLog(): Promise<void> {
  while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
}
