// The platform's one structured logger (docs/operations.md#observability): pino, plain JSON lines on stdout
// (no transports or worker threads, which break under Next's bundling; a log shipper reads stdout). Every
// line carries the ids of the context it was logged in — request id, checkout / attempt / order ids, Inngest
// run and event ids, the PSP event id — from an AsyncLocalStorage that the entry points fill (the /api/v1
// wrapper, the PSP webhook routes, the Inngest middleware, payment execution, the outbox dispatcher).
// Secrets and buyers' personal data are redacted by key, wherever they sit in a logged object.
import { AsyncLocalStorage } from "node:async_hooks";
import pino, { type DestinationStream, type Logger } from "pino";
import { env } from "@/server/env.js";

export interface LogContext {
  requestId?: string;
  checkoutId?: string;
  attemptId?: string;
  orderId?: string;
  orderIds?: string[];
  /** Inngest run id (the SDK's `runId`), the triggering event's id and name, the function id. */
  runId?: string;
  eventId?: string;
  eventName?: string;
  fnId?: string;
  psp?: string;
  pspEventId?: string;
  storedEventId?: string;
  component?: string;
  [key: string]: unknown;
}

/** Keys whose values never reach a log line, at any of the first four levels of a logged object. */
export const REDACTED_KEYS = [
  // credentials and signatures
  "authorization",
  "Authorization",
  "cookie",
  "set-cookie",
  "stripe-signature",
  "x-inngest-signature",
  "password",
  "passkey",
  "secret",
  "apiKey",
  "api_key",
  "token",
  "clientSecret",
  "client_secret",
  "SecurityCredential",
  // card data
  "card",
  "cardNumber",
  "card_number",
  "number",
  "cvc",
  "pan",
  "payment_method_data",
  "billing_details",
  // buyers' personal data
  "buyer",
  "buyerInfo",
  "buyer_info",
  "email",
  "buyerEmail",
  "buyer_email",
  "phone",
  "buyerPhone",
  "phoneNumber",
  "PhoneNumber",
  "PartyA",
  "msisdn",
  "MSISDN",
  "buyerName",
  "buyer_name",
  "ip",
] as const;

export const REDACT_CENSOR = "[redacted]";

function redactPaths(): string[] {
  const paths: string[] = [];
  // fast-redact paths: a key that is not a plain identifier is bracket-quoted.
  const seg = (k: string) => (/^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `["${k}"]`);
  for (const k of REDACTED_KEYS) {
    const s = seg(k);
    paths.push(s.startsWith(".") ? s.slice(1) : s, `*${s}`, `*.*${s}`, `*.*.*${s}`);
  }
  return paths;
}

const STORE_KEY = Symbol.for("paybridge.observability.logContext");
const LOGGER_KEY = Symbol.for("paybridge.observability.logger");
type Globals = { [STORE_KEY]?: AsyncLocalStorage<LogContext>; [LOGGER_KEY]?: Logger };
const g = globalThis as Globals;
// One store per process, even when Next bundles this module into several route chunks.
const store: AsyncLocalStorage<LogContext> = (g[STORE_KEY] ??= new AsyncLocalStorage<LogContext>());

export function createLogger(options: { destination?: DestinationStream; level?: string; base?: Record<string, unknown> } = {}): Logger {
  return pino(
    {
      level: options.level ?? env.LOG_LEVEL,
      base: { service: "paybridge", pid: process.pid, ...options.base },
      messageKey: "msg",
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // The context's ids on every line; the call's own fields win over them.
      mixin: () => {
        const ctx = store.getStore();
        return ctx ? { ...ctx } : {};
      },
      redact: { paths: redactPaths(), censor: REDACT_CENSOR },
      serializers: { err: serializeError, error: serializeError },
    },
    // process.stdout: synchronous for files and pipes on Linux, so no line is lost at a crash or exit.
    options.destination ?? process.stdout,
  );
}

/**
 * pino's error serializer, minus the bound values of a failed query: Drizzle's DrizzleQueryError carries them in
 * an enumerable `params` and in its message ("Failed query: …\nparams: …"), and they are buyers' data (IPs,
 * emails at sign-in, encrypted blobs, metadata). The SQL text itself is kept.
 */
function serializeError(err: unknown): unknown {
  const out = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  if (!out || typeof out !== "object") return out;
  for (let e = err as { params?: unknown; cause?: unknown } | undefined, depth = 0; e && typeof e === "object" && depth < 5; e = e.cause as typeof e, depth++) {
    if (!Array.isArray(e.params)) continue;
    const shown = `params: ${String(e.params)}`;
    for (const k of ["message", "stack"] as const) if (typeof out[k] === "string") out[k] = (out[k] as string).split(shown).join(`params: ${REDACT_CENSOR}`);
  }
  if ("params" in out) out.params = REDACT_CENSOR;
  return out;
}

/** The process-wide logger: `log.info({ ...fields }, "message")`, `log.error({ err }, "…")`. */
export const log: Logger = (g[LOGGER_KEY] ??= createLogger());

/** Runs fn with these ids added to the current context (a copy: the caller's context is unchanged). */
export function withLogContext<T>(ctx: LogContext, fn: () => T): T {
  return store.run({ ...store.getStore(), ...dropUndefined(ctx) }, fn);
}

/** Adds ids to the current context, for the rest of it (no-op outside one). */
export function addLogContext(ctx: LogContext): void {
  const current = store.getStore();
  if (current) Object.assign(current, dropUndefined(ctx));
}

export function currentLogContext(): Readonly<LogContext> | undefined {
  return store.getStore();
}

function dropUndefined(ctx: LogContext): LogContext {
  const out: LogContext = {};
  for (const [k, v] of Object.entries(ctx)) if (v !== undefined && v !== null) out[k] = v;
  return out;
}
