// Builds the connectors from configuration (server/env.js). Callers pass the db (psp_attempts recording);
// tests may override the base URLs and timeout.
import { and, desc, eq } from "drizzle-orm";
import type { Db, DbOrTx } from "@/db/client";
import { pspAttempts } from "@/db/schema";
import { env } from "@/server/env.js";
import type { Money } from "@/server/money";
import { dbAttemptRecorder } from "./attempts";
import { assertLiveConfig, darajaApiBase, sandboxUrl, stripeApiBase } from "./config";
import { mpesaCallbackUrl } from "./daraja/callback-tokens";
import { DarajaClient } from "./daraja/client";
import { DarajaConnector } from "./daraja/connector";
import { pushedAmount } from "./daraja/transform";
import { createStripeClient } from "./stripe/client";
import { StripeConnector } from "./stripe/connector";
import type { PspConnector, PspName } from "./types";

export interface ConnectorOverrides {
  apiBase?: string;
  timeoutMs?: number;
  /** Base URL Daraja calls back (the app). */
  appUrl?: string;
}

export function createStripeConnector(db: DbOrTx, o: ConnectorOverrides = {}): StripeConnector {
  assertLiveConfig();
  const client = createStripeClient({ apiKey: env.STRIPE_SECRET_KEY, apiBase: o.apiBase ?? stripeApiBase(), timeoutMs: o.timeoutMs ?? env.PSP_TIMEOUT_MS });
  return new StripeConnector(client, dbAttemptRecorder(db), env.PSP_MODE === "sandbox");
}

/** The last successful STK push we sent with this key (Daraja has no idempotency key of its own). */
export async function findPriorStkPush(db: DbOrTx, idempotencyKey: string): Promise<string | undefined> {
  const [row] = await db
    .select({ id: pspAttempts.pspObjectId })
    .from(pspAttempts)
    .where(and(eq(pspAttempts.psp, "mpesa"), eq(pspAttempts.operation, "stk_push"), eq(pspAttempts.idempotencyKey, idempotencyKey), eq(pspAttempts.outcome, "ok")))
    .orderBy(desc(pspAttempts.createdAt))
    .limit(1);
  return row?.id ?? undefined;
}

/**
 * The amount our successful STK push with this CheckoutRequestID put on the wire. Undefined without exactly one
 * such record (Daraja gives each push its own CheckoutRequestID: two records for one are not ours to trust).
 */
export async function findStkPushAmount(db: DbOrTx, checkoutRequestId: string): Promise<Money | undefined> {
  const rows = await findStkPushSummaries(db, checkoutRequestId, 2);
  return rows.length === 1 ? pushedAmount(rows[0]) : undefined;
}

/** Our records (psp_attempts summaries) of the successful STK push that Daraja answered with this CheckoutRequestID. */
export async function findStkPushSummaries(db: DbOrTx, checkoutRequestId: string, limit: number): Promise<Record<string, unknown>[]> {
  const rows = await db
    .select({ request: pspAttempts.request })
    .from(pspAttempts)
    .where(and(eq(pspAttempts.psp, "mpesa"), eq(pspAttempts.operation, "stk_push"), eq(pspAttempts.pspObjectId, checkoutRequestId), eq(pspAttempts.outcome, "ok")))
    .limit(limit);
  return rows.map((r) => r.request);
}

export function createDarajaConnector(db: DbOrTx, o: ConnectorOverrides = {}): DarajaConnector {
  assertLiveConfig();
  const baseUrl = o.apiBase ?? darajaApiBase();
  const sandbox = env.PSP_MODE === "sandbox";
  const client = new DarajaClient(
    { baseUrl, consumerKey: env.DARAJA_CONSUMER_KEY, consumerSecret: env.DARAJA_CONSUMER_SECRET, shortcode: env.DARAJA_SHORTCODE, passkey: env.DARAJA_PASSKEY, b2cShortcode: env.DARAJA_B2C_SHORTCODE, initiatorName: env.DARAJA_INITIATOR_NAME, securityCredential: env.DARAJA_SECURITY_CREDENTIAL, timeoutMs: o.timeoutMs ?? env.PSP_TIMEOUT_MS, allowSandboxFaults: sandbox },
    dbAttemptRecorder(db),
  );
  const statementCsv = sandbox ? async () => (await fetch(new URL("/_sandbox/settlement/mpesa.csv", o.apiBase ?? sandboxUrl()))).text() : undefined;
  return new DarajaConnector({
    client,
    callbackUrl: (kind) => mpesaCallbackUrl(o.appUrl ?? env.APP_URL, env.MPESA_CALLBACK_SECRET, kind),
    findPriorStkPush: (key) => findPriorStkPush(db, key),
    findStkPushAmount: (checkoutRequestId) => findStkPushAmount(db, checkoutRequestId),
    statementCsv,
  });
}

export function getConnector(db: DbOrTx, psp: PspName, o: ConnectorOverrides = {}): PspConnector {
  return psp === "stripe" ? createStripeConnector(db, o) : createDarajaConnector(db, o);
}

export type { PspConnector, PspName } from "./types";

/** How domain code gets a PSP's connector (tests and jobs pass their own: sandbox URLs, timeouts). */
export type ConnectorFor = (db: Db, psp: PspName) => PspConnector;

/** The M-Pesa connector behind a PspConnector, checked (Daraja-only calls: transaction status, B2C). */
export function darajaConnectorOf(c: PspConnector): DarajaConnector {
  if (c instanceof DarajaConnector) return c;
  throw new Error(`expected the M-Pesa connector, got ${c.psp}'s`);
}
