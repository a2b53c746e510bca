// The PSP sandbox: one HTTP server that plays Stripe (REST API, webhooks, hosted card field, 3DS page)
// and Daraja (OAuth, STK, B2C, transaction status, reversal). Started by `npm run sandbox`, by the dev
// script and by tests (`startSandbox`). State is in memory, and persisted when a database (`databaseUrl`: schema
// `sandbox`) or a state file (`stateFile`) is given, so a restart keeps it. See docs/sandbox.md.
import type { ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { cardFieldRoutes } from "./card-field";
import { type B2cBalances, type B2cRecord, createDarajaApi, type StkRecord } from "./daraja/api";
import { FaultRules, type FaultRule, seededRandom } from "./faults";
import { createHttpServer, type Route, type SandboxResponse } from "./http";
import { IDENTITY_PATH, SANDBOX_IDENTITY, sandboxKeysFingerprint } from "./identity";
import { Persistence, type PersistenceMode } from "./persistence";
import { Discrepancies, type DiscrepancyInput, type ManifestEntry, mpesaStatementCsv, stripeSettlementCsv } from "./settlement";
import { createStripeApi } from "./stripe/api";
import { accountOf } from "./stripe/balance";
import { completeThreeDs } from "./stripe/payment-intents";
import { StripeStore, type StripeObject } from "./stripe/store";
import { type DeliveryRecord, type PendingDelivery, WebhookDispatcher } from "./webhooks";

export const SANDBOX_DEFAULTS = {
  port: 12111,
  stripeSecretKey: "sk_test_sandbox_paybridge_dev",
  stripePublishableKey: "pk_test_sandbox_paybridge_dev",
  stripeWebhookSecret: "whsec_sandbox_paybridge_dev_secret",
  darajaConsumerKey: "sandbox_consumer_key",
  darajaConsumerSecret: "sandbox_consumer_secret",
  darajaShortcode: "174379",
  darajaPasskey: "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919",
  darajaB2cShortcode: "600000",
  /** Like a person reaching for their phone: long enough to see "pending" in dev. */
  stkDelayMs: 3_000,
  resultDelayMs: 500,
  asyncSettleMs: 1_000,
  /** A disputing test card's dispute opens this long after the charge. */
  disputeDelayMs: 5_000,
} as const;

/** The request log keeps the newest entries only. */
export const REQUEST_LOG_MAX = 10_000;

export interface RequestRecord {
  method: string;
  path: string;
  at: number;
}

export interface SandboxOptions {
  /** 0 = any free port. Default 12111. */
  port?: number;
  host?: string;
  /** URLs that receive Stripe webhook events (e.g. http://localhost:3000/api/webhooks/stripe). */
  webhookTargets?: { stripe?: string[] };
  stripeWebhookSecret?: string;
  stripeSecretKey?: string;
  stripePublishableKey?: string;
  darajaConsumerKey?: string;
  darajaConsumerSecret?: string;
  darajaShortcode?: string;
  darajaPasskey?: string;
  stkDelayMs?: number;
  resultDelayMs?: number;
  asyncSettleMs?: number;
  /** From a disputing test card's charge to its dispute (default 5 s; tests 250 ms). */
  disputeDelayMs?: number;
  /** Seconds until charged funds are available (Stripe ~2 days). Default 0. */
  availableDelayS?: number;
  /** Seed for probabilistic fault rules. */
  seed?: number;
  /** Origin the browser uses to reach the sandbox (default http://127.0.0.1:<port>). */
  publicUrl?: string;
  /**
   * Persist the sandbox's state in this Postgres database (schema `sandbox`, created by the sandbox itself), so it
   * survives restarts; every answer waits until its changes are committed. Wins over `stateFile`.
   */
  databaseUrl?: string;
  /** Persist the state in this file (an fsync'd JSON-lines journal) when no `databaseUrl` is given. */
  stateFile?: string;
}

export interface Sandbox {
  url: string;
  port: number;
  stop: () => Promise<void>;
  /** Installs a global fault rule, e.g. `{ fault: "status=503", pathPrefix: "/v1/payment_intents", count: 1 }`. */
  addFault: (rule: Omit<FaultRule, "id">) => FaultRule;
  clearFaults: () => void;
  setStripeWebhookTargets: (urls: string[]) => void;
  /** Resolves when no webhook or callback is being sent (delayed ones excepted). */
  webhooksIdle: () => Promise<void>;
  /** Sends delayed webhooks now. */
  flushDelayedWebhooks: () => void;
  deliveries: DeliveryRecord[];
  /** Every request received (any API, faulted or not), oldest first, at most REQUEST_LOG_MAX. */
  requests: RequestRecord[];
  advanceClock: (seconds: number) => void;
  completeThreeDs: (paymentIntentId: string, outcome: "complete" | "fail") => void;
  injectDiscrepancy: (d: DiscrepancyInput) => ManifestEntry;
  /** A missing row arrives late: drops the transaction's missing_row entries. */
  releaseDiscrepancy: (balanceTransaction: string) => { released: number };
  settlementManifest: () => ManifestEntry[];
  stripeSettlementCsv: () => string;
  mpesaStatementCsv: () => string;
  expireDarajaTokens: () => void;
  stkTransactions: () => StkRecord[];
  /** Every Daraja B2C request received (one per payment Daraja accepted; repeats counted in `duplicates`), oldest first. */
  b2cRequests: () => B2cRecord[];
  /** The B2C shortcode's accounts (cents). */
  b2cBalances: () => B2cBalances;
  /** Sets the B2C accounts (cents), e.g. `{ utility: 0 }` so every B2C fails with ResultCode 1. */
  setB2cBalances: (b: Partial<B2cBalances>) => B2cBalances;
  /** Every stored Stripe object of a kind, newest first, the platform's and connected accounts' alike (`_account`). */
  stripeObjects: (object: string) => StripeObject[];
  /**
   * A connected account's own objects of a kind (payout, balance_transaction, event), newest first; `null`: the
   * platform's. Transfers and reversals are the platform's (filter stripeObjects("transfer") by destination).
   */
  stripeAccountObjects: (account: string | null, object: string) => StripeObject[];
  /** Webhooks and callbacks not yet acknowledged (first try, retry or webhook_delay pending). */
  pendingDeliveries: () => PendingDelivery[];
  /** Where the state is kept. */
  persistence: PersistenceMode;
}

function adminRoutes(s: Omit<Sandbox, "url" | "port" | "stop">, identity: () => unknown): Route[] {
  const ok = (body: unknown): SandboxResponse => ({ status: 200, body });
  const csv = (body: string): SandboxResponse => ({ status: 200, body, contentType: "text/csv; charset=utf-8" });
  return [
    { method: "GET", pattern: new RegExp(`^${IDENTITY_PATH}$`), handle: () => ok(identity()) },
    { method: "POST", pattern: /^\/_sandbox\/webhooks\/targets$/, handle: (req) => {
        const stripe = ((req.body.stripe as unknown[] | undefined) ?? []).map(String);
        s.setStripeWebhookTargets(stripe);
        return ok({ stripe });
      },
    },
    { method: "GET", pattern: /^\/_sandbox\/webhooks\/pending$/, handle: () => ok({ data: s.pendingDeliveries() }) },
    { method: "GET", pattern: /^\/_sandbox\/faults$/, handle: () => ok({ note: "POST {fault, method?, pathPrefix?, count?, probability?}; DELETE clears" }) },
    { method: "POST", pattern: /^\/_sandbox\/faults$/, handle: (req) => ok(s.addFault(req.body as Omit<FaultRule, "id">)) },
    { method: "DELETE", pattern: /^\/_sandbox\/faults$/, handle: () => (s.clearFaults(), ok({ cleared: true })) },
    { method: "POST", pattern: /^\/_sandbox\/clock\/advance$/, handle: (req) => (s.advanceClock(Number(req.body.seconds ?? 0)), ok({ advanced: Number(req.body.seconds ?? 0) })) },
    { method: "POST", pattern: /^\/_sandbox\/webhooks\/flush$/, handle: () => (s.flushDelayedWebhooks(), ok({ flushed: true })) },
    { method: "GET", pattern: /^\/_sandbox\/webhooks\/deliveries$/, handle: () => ok({ data: s.deliveries }) },
    { method: "GET", pattern: /^\/_sandbox\/requests$/, handle: () => ok({ data: s.requests }) },
    // A connected account's (or, without ?account=, the platform's) stored objects of a kind, internal fields included.
    { method: "GET", pattern: /^\/_sandbox\/stripe\/objects\/([a-z_]+)$/, handle: (req, [object = ""]) => ok({ data: s.stripeAccountObjects(typeof req.query.account === "string" ? req.query.account : null, object) }) },
    { method: "POST", pattern: /^\/_sandbox\/discrepancies$/, handle: (req) => ok(s.injectDiscrepancy(req.body as unknown as DiscrepancyInput)) },
    { method: "POST", pattern: /^\/_sandbox\/discrepancies\/release$/, handle: (req) => ok(s.releaseDiscrepancy(String(req.body.balanceTransaction ?? ""))) },
    { method: "GET", pattern: /^\/_sandbox\/settlement\/manifest$/, handle: () => ok({ data: s.settlementManifest() }) },
    { method: "GET", pattern: /^\/_sandbox\/settlement\/stripe\.csv$/, handle: () => csv(s.stripeSettlementCsv()) },
    { method: "GET", pattern: /^\/_sandbox\/settlement\/mpesa\.csv$/, handle: () => csv(s.mpesaStatementCsv()) },
    { method: "POST", pattern: /^\/_sandbox\/daraja\/expire-tokens$/, handle: () => (s.expireDarajaTokens(), ok({ expired: true })) },
    { method: "GET", pattern: /^\/_sandbox\/daraja\/b2c$/, handle: (req) => {
        const originator = req.query.originator_conversation_id;
        const occasion = req.query.occasion;
        return ok({ data: s.b2cRequests().filter((r) => (originator === undefined || r.originatorConversationId === String(originator)) && (occasion === undefined || r.occasion === String(occasion))) });
      },
    },
    { method: "GET", pattern: /^\/_sandbox\/daraja\/b2c\/balance$/, handle: () => ok(s.b2cBalances()) },
    { method: "POST", pattern: /^\/_sandbox\/daraja\/b2c\/balance$/, handle: (req) => {
        const pick = (k: string) => (req.body[k] === undefined ? {} : Number.isSafeInteger(Number(req.body[k])) ? { [k]: Number(req.body[k]) } : undefined);
        const parts = ["working", "utility", "chargesPaid"].map(pick);
        if (parts.some((x) => x === undefined)) return { status: 400, body: { error: "working, utility, chargesPaid: integer cents" } };
        return ok(s.setB2cBalances(Object.assign({}, ...parts) as Partial<B2cBalances>));
      },
    },
  ];
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const o = { ...SANDBOX_DEFAULTS, ...options };
  const persistence = new Persistence({ databaseUrl: options.databaseUrl, stateFile: options.stateFile });
  await persistence.open();
  const meta = persistence.map<number>("sandbox_meta");
  let clockOffsetS = meta.peek("clock_offset_s") ?? 0;
  let publicUrl = options.publicUrl ?? "";
  let stripeTargets = [...(options.webhookTargets?.stripe ?? [])];
  const timers = new Set<NodeJS.Timeout>();
  const hanging = new Set<ServerResponse>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  const store = new StripeStore(() => clockOffsetS, persistence);
  const dispatcher = new WebhookDispatcher({ stripeSecret: () => o.stripeWebhookSecret, stripeTargets: () => stripeTargets, now: () => Date.now() + clockOffsetS * 1000, persistence });
  const rules = new FaultRules(seededRandom(options.seed ?? 42));
  const requests: RequestRecord[] = [];
  const logRequest = (method: string, path: string) => {
    requests.push({ method, path, at: Date.now() });
    if (requests.length > REQUEST_LOG_MAX) requests.shift();
  };
  const discrepancies = new Discrepancies(store, persistence.map("settlement_discrepancies"));
  const stripe = createStripeApi({
    store,
    dispatcher,
    secretKey: () => o.stripeSecretKey,
    publishableKey: () => o.stripePublishableKey,
    baseUrl: () => publicUrl,
    webhookTargetCount: () => stripeTargets.length,
    later,
    availableDelayS: options.availableDelayS ?? 0,
    asyncSettleMs: o.asyncSettleMs,
    disputeDelayMs: o.disputeDelayMs,
    reportBalanceTransactions: (txns) => discrepancies.apply(txns),
  });
  const daraja = createDarajaApi({ dispatcher, consumerKey: o.darajaConsumerKey, consumerSecret: o.darajaConsumerSecret, shortcode: o.darajaShortcode, passkey: o.darajaPasskey, b2cShortcode: o.darajaB2cShortcode, stkDelayMs: o.stkDelayMs, resultDelayMs: o.resultDelayMs, later, clockOffsetS: () => clockOffsetS, persistence });
  const helpers: Omit<Sandbox, "url" | "port" | "stop"> = {
    addFault: (rule) => rules.add(rule),
    clearFaults: () => rules.clear(),
    setStripeWebhookTargets: (urls) => void (stripeTargets = [...urls]),
    webhooksIdle: () => dispatcher.idle(),
    flushDelayedWebhooks: () => dispatcher.flushDelayed(),
    deliveries: dispatcher.log,
    requests,
    advanceClock: (seconds) => {
      clockOffsetS += seconds;
      meta.set("clock_offset_s", clockOffsetS);
      stripe.clockAdvanced(); // disputes past due_by close
      dispatcher.wake(); // retries that the jump made due
    },
    completeThreeDs: (id, outcome) => void completeThreeDs(stripe.ctx, undefined, id, outcome),
    injectDiscrepancy: (d) => discrepancies.inject(d),
    releaseDiscrepancy: (bt) => discrepancies.release(bt),
    settlementManifest: () => [...discrepancies.manifest],
    stripeSettlementCsv: () => stripeSettlementCsv(store, discrepancies.apply(store.all("balance_transaction").filter((t) => accountOf(t) === null))),
    mpesaStatementCsv: () => mpesaStatementCsv(daraja.stk.values(), daraja.b2c.values()),
    expireDarajaTokens: () => daraja.expireTokens(),
    stkTransactions: () => [...daraja.stk.values()],
    b2cRequests: () => [...daraja.b2c.values()].sort((a, b) => a.requestedAt - b.requestedAt),
    b2cBalances: () => daraja.b2cBalances(),
    setB2cBalances: (b) => daraja.setB2cBalances(b),
    stripeObjects: (object) => store.all(object),
    stripeAccountObjects: (account, object) => store.all(object).filter((o) => accountOf(o) === account),
    pendingDeliveries: () => dispatcher.pendingDeliveries(),
    persistence: persistence.mode,
  };
  const identity = () => ({ object: SANDBOX_IDENTITY, keys: sandboxKeysFingerprint(o), pid: process.pid, persistence: persistence.mode, webhookTargets: { stripe: stripeTargets } });
  const routes = [...stripe.routes, ...daraja.routes, ...cardFieldRoutes(stripe.ctx, () => publicUrl, () => o.stripePublishableKey), ...adminRoutes(helpers, identity)];
  // Every answer waits for its changes to be stored (a no-op in memory): an answered request survives a crash.
  const server = createHttpServer({ routes, rules, wrap: stripe.wrap, onHang: (res) => void hanging.add(res), onRequest: logRequest, commit: () => persistence.flush() });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? o.port, options.host ?? "127.0.0.1", () => resolve());
    });
  } catch (err) {
    dispatcher.stop();
    await persistence.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  if (!publicUrl) publicUrl = url;
  return {
    url,
    port,
    ...helpers,
    stop: async () => {
      dispatcher.stop();
      for (const t of timers) clearTimeout(t);
      for (const res of hanging) res.socket?.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await persistence.close();
    },
  };
}
