// The Stripe-compatible REST surface: auth (secret vs publishable key), Idempotency-Key semantics,
// event recording + webhook hand-off, and the route table.
import { StripeApiError, stripeNotFound, type Route, type SandboxRequest, type SandboxResponse } from "../http";
import type { WebhookDispatcher } from "../webhooks";
import { accountOf, balanceOf, refreshStatus } from "./balance";
import { connectedAccountOf, type StripeCtx } from "./context";
import { closeDispute, expireDisputes, getDispute, listDisputes, updateDispute } from "./disputes";
import { createFile, fileContents, getFile } from "./files";
import { addExternalAccount, cancelPayout, createAccount, createPayout, createTransfer, currentAccount, getAccount, getPayout, getTransfer, getTransferReversal, listPayouts, reversePayout, reverseTransfer, runAutomaticPayouts, transferFilter, updateAccount, updatePayout, updateTransfer } from "./money-movement";
import { cancelPaymentIntent, capturePaymentIntent, confirmPaymentIntent, createPaymentIntent, createPaymentMethod, getPaymentIntent, updatePaymentIntent } from "./payment-intents";
import { cancelRefund, createRefund, refundFilter, updateRefund } from "./refunds";
import { createdFilter, paginate, publicView, stripeId, type StripeObject, type StripeStore } from "./store";

export const STRIPE_API_VERSION = "2026-10-28.endive";

/** Stripe may prune an idempotency key once it is 24 hours old; the sandbox forgets it then (on its clock). */
const IDEMPOTENCY_KEY_TTL_S = 24 * 3600;

export interface StripeApiOptions {
  store: StripeStore;
  dispatcher: WebhookDispatcher;
  secretKey: () => string;
  publishableKey: () => string;
  baseUrl: () => string;
  webhookTargetCount: () => number;
  later: (ms: number, fn: () => void) => void;
  availableDelayS: number;
  asyncSettleMs: number;
  disputeDelayMs: number;
  /** Applies injected settlement discrepancies to what the balance-transactions API reports. */
  reportBalanceTransactions: (txns: StripeObject[]) => StripeObject[];
}

type KeyKind = "secret" | "publishable";

function apiKey(req: SandboxRequest): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith("Bearer ")) return auth.slice(7);
  if (auth?.startsWith("Basic ")) return Buffer.from(auth.slice(6), "base64").toString().split(":")[0];
  return undefined;
}

function authenticate(opts: StripeApiOptions, req: SandboxRequest): KeyKind {
  const key = apiKey(req);
  if (key === opts.secretKey()) return "secret";
  if (key === opts.publishableKey()) return "publishable";
  throw new StripeApiError(401, "invalid_request_error", "api_key_invalid", `Invalid API Key provided: ${maskedKey(key)}`);
}

function requireClientSecret(req: SandboxRequest, pi: StripeObject): void {
  const secret = req.body.client_secret ?? req.query.client_secret;
  if (secret !== pi.client_secret) throw stripeNotFound("payment_intent", pi.id);
}

function expandPaths(req: SandboxRequest): string[] {
  const raw = req.body.expand ?? req.query.expand;
  const list = Array.isArray(raw) ? raw : typeof raw === "string" ? [raw] : raw && typeof raw === "object" ? Object.values(raw) : [];
  return list.map(String).filter((p) => p.length > 0 && p.length <= 200).slice(0, 20);
}

/**
 * `expand[]=a.b.c` as Stripe does: each id on the path is replaced by its object (at most four levels); on a list,
 * paths start with `data.`. Copies on the way down, so stored objects are never changed.
 */
function expandInto(ctx: StripeCtx, holder: Record<string, unknown>, path: string[], depth = 0): void {
  const [head, ...rest] = path;
  if (!head || depth >= 4 || !(head in holder)) return;
  let v = holder[head];
  if (typeof v === "string") {
    const target = ctx.store.objects.peek(v);
    if (!target) return;
    if (target.object === "balance_transaction") refreshStatus(ctx, target);
    v = publicView(target);
  } else if (Array.isArray(v)) {
    v = v.map((item: unknown) => (item && typeof item === "object" ? { ...(item as Record<string, unknown>) } : item));
  } else if (v && typeof v === "object") {
    v = { ...(v as Record<string, unknown>) };
  } else return;
  holder[head] = v;
  if (!rest.length) return;
  if (Array.isArray(v)) for (const item of v) if (item && typeof item === "object") expandInto(ctx, item as Record<string, unknown>, rest, depth + 1);
  if (v && typeof v === "object" && !Array.isArray(v)) expandInto(ctx, v as Record<string, unknown>, rest, depth + 1);
}

function expand(ctx: StripeCtx, view: Record<string, unknown>, req: SandboxRequest): Record<string, unknown> {
  for (const p of expandPaths(req)) expandInto(ctx, view, p.split("."));
  return view;
}

/** Endpoints that act on a connected account when given `Stripe-Account`; every other one is the platform's alone. */
const CONNECT_PATHS = [/^\/v1\/balance$/, /^\/v1\/balance_transactions(\/[^/]+)?$/, /^\/v1\/payouts(\/.*)?$/, /^\/v1\/events(\/[^/]+)?$/, /^\/v1\/account$/, /^\/v1\/accounts\/[^/]+$/];

function maskedKey(key: string | undefined): string {
  return key ? `${key.slice(0, 8)}${"*".repeat(Math.max(0, key.length - 12))}${key.slice(-4)}` : "none";
}

/** The Stripe-Account header: an account that exists (else 403 like Stripe), on an endpoint that honours it. */
function checkConnectedAccount(store: StripeStore, req: SandboxRequest): void {
  const h = req.headers["stripe-account"];
  if (h === undefined) return;
  const id = Array.isArray(h) ? h[0] : h;
  if (typeof id !== "string" || !store.get(id, "account")) {
    throw new StripeApiError(403, "invalid_request_error", "account_invalid", `The provided key '${maskedKey(apiKey(req))}' does not have access to account '${String(id)}' (or that account does not exist). Application access may have been revoked.`);
  }
  if (!CONNECT_PATHS.some((p) => p.test(req.path))) {
    throw new StripeApiError(400, "invalid_request_error", undefined, `${req.method} ${req.path} is only available to the platform: it cannot be made on behalf of a connected account (Stripe-Account header).`);
  }
}

export interface StripeApi {
  routes: Route[];
  wrap: (req: SandboxRequest, run: () => Promise<SandboxResponse>) => Promise<SandboxResponse>;
  ctx: StripeCtx;
  /** The sandbox clock moved: disputes past their due_by close (or have their saved evidence submitted); automatic payouts that came due are made. */
  clockAdvanced: () => void;
}

export function createStripeApi(opts: StripeApiOptions): StripeApi {
  const pending = new WeakMap<SandboxRequest, StripeObject[]>();
  const ctx: StripeCtx = {
    store: opts.store,
    baseUrl: opts.baseUrl,
    later: opts.later,
    availableDelayS: opts.availableDelayS,
    asyncSettleMs: opts.asyncSettleMs,
    disputeDelayMs: opts.disputeDelayMs,
    emit(req, type, obj, previous) {
      const account = accountOf(obj);
      const event = opts.store.put({
        id: stripeId("evt"),
        object: "event",
        api_version: STRIPE_API_VERSION,
        created: opts.store.nowS(),
        // A snapshot: later changes to the object must not rewrite history.
        data: { object: structuredClone(publicView(obj)), ...(previous ? { previous_attributes: previous } : {}) },
        // Connect webhooks: an event about a connected account's object names the account (`account`, public) and
        // belongs to it (`_account`, what accountOf reads: /v1/events, the sandbox's object listings).
        ...(account ? { account, _account: account } : {}),
        livemode: false,
        pending_webhooks: opts.webhookTargetCount(),
        request: { id: req?.requestId ?? null, idempotency_key: (req?.headers["idempotency-key"] as string | undefined) ?? null },
        type,
      });
      // As /v1/events shows it: internal fields (`_account`) stay in the sandbox.
      const delivered = publicView(event) as StripeObject;
      if (req) pending.set(req, [...(pending.get(req) ?? []), delivered]);
      else opts.dispatcher.stripeEvents([delivered], []);
    },
  };

  const json = (status: number, body: unknown): SandboxResponse => ({ status, body });
  const one = (obj: StripeObject, req: SandboxRequest) => json(200, expand(ctx, publicView(obj), req));
  const page = (items: StripeObject[], req: SandboxRequest) => json(200, expand(ctx, paginate(items.filter(createdFilter(req.query)), req.query, req.path), req));
  const list = (object: string, req: SandboxRequest, filter: (o: StripeObject) => boolean = () => true) => page(opts.store.all(object).filter(filter), req);
  /** The requester's own events (the platform's have no `_account`; a connected account's are its). */
  const mine = (req: SandboxRequest) => (e: StripeObject) => accountOf(e) === connectedAccountOf(req);
  const getOr404 = (object: string, kind: string) => (req: SandboxRequest, [id = ""]: string[]) => {
    const o = opts.store.get(id, object);
    if (!o) throw stripeNotFound(kind, id);
    return one(o, req);
  };
  const secretOnly = (h: (req: SandboxRequest, p: string[]) => SandboxResponse) => (req: SandboxRequest, p: string[]) => {
    if (authenticate(opts, req) !== "secret") throw new StripeApiError(401, "invalid_request_error", "secret_key_required", "This API call cannot be made with a publishable API key.");
    checkConnectedAccount(opts.store, req);
    return h(req, p);
  };
  const publishable = (h: (req: SandboxRequest, p: string[]) => SandboxResponse) => (req: SandboxRequest, p: string[]) => {
    checkConnectedAccount(opts.store, req);
    return h(req, p);
  };
  /** The requester's account (null: the platform) after a connected account's automatic payouts that came due were made. */
  const payoutsDue = (req: SandboxRequest): string | null => {
    const account = connectedAccountOf(req);
    if (account) runAutomaticPayouts(ctx, account);
    return account;
  };
  const balanceTxn = (req: SandboxRequest, [id = ""]: string[]) => {
    const t = opts.store.get(id, "balance_transaction");
    if (!t || accountOf(t) !== connectedAccountOf(req)) throw stripeNotFound("balance transaction", id);
    return one(refreshStatus(ctx, t), req);
  };
  const r = (method: string, path: string, handle: (req: SandboxRequest, p: string[]) => SandboxResponse): Route => ({
    method,
    pattern: new RegExp(`^${path.replace(/:id/g, "([^/]+)")}$`),
    handle,
  });

  const routes: Route[] = [
    r("POST", "/v1/payment_methods", publishable((req) => {
      // Card numbers only ever come from the PSP-hosted field (publishable key), never from a server.
      if (authenticate(opts, req) === "secret" && req.body.card) {
        throw new StripeApiError(400, "invalid_request_error", "unsafe_card_data", "Sending card numbers directly to the API with a secret key is not allowed. Use the hosted card field.");
      }
      return one(createPaymentMethod(ctx, req.body), req);
    })),
    r("GET", "/v1/payment_methods/:id", secretOnly(getOr404("payment_method", "PaymentMethod"))),
    r("POST", "/v1/payment_intents", secretOnly((req) => one(createPaymentIntent(ctx, req), req))),
    r("GET", "/v1/payment_intents", secretOnly((req) => list("payment_intent", req))),
    r("GET", "/v1/payment_intents/:id", publishable((req, [id = ""]) => {
      const pi = getPaymentIntent(ctx, id);
      if (authenticate(opts, req) === "publishable") requireClientSecret(req, pi);
      return one(pi, req);
    })),
    r("POST", "/v1/payment_intents/:id", secretOnly((req, [id = ""]) => one(updatePaymentIntent(ctx, req, id), req))),
    r("POST", "/v1/payment_intents/:id/confirm", publishable((req, [id = ""]) => {
      if (authenticate(opts, req) === "publishable") requireClientSecret(req, getPaymentIntent(ctx, id));
      return one(confirmPaymentIntent(ctx, req, id), req);
    })),
    r("POST", "/v1/payment_intents/:id/capture", secretOnly((req, [id = ""]) => one(capturePaymentIntent(ctx, req, id), req))),
    r("POST", "/v1/payment_intents/:id/cancel", secretOnly((req, [id = ""]) => one(cancelPaymentIntent(ctx, req, id), req))),
    r("GET", "/v1/charges", secretOnly((req) => list("charge", req, (c) => !req.query.payment_intent || c.payment_intent === req.query.payment_intent))),
    r("GET", "/v1/charges/:id", secretOnly(getOr404("charge", "charge"))),
    r("POST", "/v1/refunds", secretOnly((req) => one(createRefund(ctx, req), req))),
    r("GET", "/v1/refunds", secretOnly((req) => list("refund", req, refundFilter(req.query)))),
    r("GET", "/v1/refunds/:id", secretOnly(getOr404("refund", "refund"))),
    r("POST", "/v1/refunds/:id", secretOnly((req, [id = ""]) => one(updateRefund(ctx, req, id), req))),
    r("POST", "/v1/refunds/:id/cancel", secretOnly((req, [id = ""]) => one(cancelRefund(ctx, req, id), req))),
    r("POST", "/v1/accounts", secretOnly((req) => one(createAccount(ctx, req), req))),
    r("GET", "/v1/accounts", secretOnly((req) => list("account", req))),
    r("GET", "/v1/account", secretOnly((req) => one(currentAccount(ctx, req), req))),
    r("GET", "/v1/accounts/:id", secretOnly((req, [id = ""]) => one(getAccount(ctx, req, id), req))),
    r("POST", "/v1/accounts/:id", secretOnly((req, [id = ""]) => one(updateAccount(ctx, req, id), req))),
    r("POST", "/v1/accounts/:id/external_accounts", secretOnly((req, [id = ""]) => one(addExternalAccount(ctx, req, id), req))),
    r("POST", "/v1/transfers", secretOnly((req) => one(createTransfer(ctx, req), req))),
    r("GET", "/v1/transfers", secretOnly((req) => list("transfer", req, transferFilter(req.query)))),
    r("GET", "/v1/transfers/:id", secretOnly((req, [id = ""]) => one(getTransfer(ctx, id), req))),
    r("POST", "/v1/transfers/:id", secretOnly((req, [id = ""]) => one(updateTransfer(ctx, req, id), req))),
    r("POST", "/v1/transfers/:id/reversals", secretOnly((req, [id = ""]) => one(reverseTransfer(ctx, req, id), req))),
    r("GET", "/v1/transfers/:id/reversals", secretOnly((req, [id = ""]) => {
      getTransfer(ctx, id);
      return list("transfer_reversal", req, (trr) => trr.transfer === id);
    })),
    r("GET", "/v1/transfers/:id/reversals/:id", secretOnly((req, [id = "", rid = ""]) => one(getTransferReversal(ctx, id, rid), req))),
    r("POST", "/v1/payouts", secretOnly((req) => one(createPayout(ctx, req), req))),
    r("GET", "/v1/payouts", secretOnly((req) => {
      payoutsDue(req);
      return page(listPayouts(ctx, req), req);
    })),
    r("GET", "/v1/payouts/:id", secretOnly((req, [id = ""]) => one(getPayout(ctx, req, id), req))),
    r("POST", "/v1/payouts/:id", secretOnly((req, [id = ""]) => one(updatePayout(ctx, req, id), req))),
    r("POST", "/v1/payouts/:id/cancel", secretOnly((req, [id = ""]) => one(cancelPayout(ctx, req, id), req))),
    r("POST", "/v1/payouts/:id/reverse", secretOnly((req, [id = ""]) => one(reversePayout(ctx, req, id), req))),
    r("GET", "/v1/balance", secretOnly((req) => json(200, balanceOf(ctx, payoutsDue(req))))),
    r("GET", "/v1/balance_transactions", secretOnly((req) => {
      const q = req.query;
      const account = payoutsDue(req);
      if (typeof q.payout === "string") {
        const po = opts.store.get(q.payout, "payout");
        if (!po || accountOf(po) !== account) throw stripeNotFound("payout", q.payout, "payout");
        // As at Stripe: only automatic payouts are itemized.
        if (!po.automatic) throw new StripeApiError(400, "invalid_request_error", undefined, "Balance transaction history can only be filtered on automatic transfers, not manual.", { param: "payout" });
      }
      const own = opts.store.all("balance_transaction").filter((t) => accountOf(t) === account).map((t) => refreshStatus(ctx, t));
      // Injected settlement discrepancies distort what the platform's reports say, not a connected account's.
      const txns = account ? own : opts.reportBalanceTransactions(own);
      const match = (t: StripeObject) => (!q.type || t.type === q.type) && (!q.payout || t._payout === q.payout) && (!q.source || t.source === q.source) && (!q.currency || t.currency === q.currency);
      return page(txns.filter(match), req);
    })),
    r("GET", "/v1/balance_transactions/:id", secretOnly(balanceTxn)),
    r("GET", "/v1/events", secretOnly((req) => list("event", req, (e) => mine(req)(e) && (!req.query.type || e.type === req.query.type)))),
    r("GET", "/v1/events/:id", secretOnly((req, [id = ""]) => {
      const e = opts.store.get(id, "event");
      if (!e || !mine(req)(e)) throw stripeNotFound("event", id);
      return one(e, req);
    })),
    r("GET", "/v1/disputes", secretOnly((req) => json(200, paginate(listDisputes(ctx, req.query).filter(createdFilter(req.query)), req.query, req.path)))),
    r("GET", "/v1/disputes/:id", secretOnly((req, [id = ""]) => one(getDispute(ctx, id), req))),
    r("POST", "/v1/disputes/:id", secretOnly((req, [id = ""]) => one(updateDispute(ctx, req, id), req))),
    r("POST", "/v1/disputes/:id/close", secretOnly((req, [id = ""]) => one(closeDispute(ctx, req, id), req))),
    r("POST", "/v1/files", secretOnly((req) => one(createFile(ctx, req), req))),
    r("GET", "/v1/files", secretOnly((req) => list("file", req, (f) => !req.query.purpose || f.purpose === req.query.purpose))),
    r("GET", "/v1/files/:id", secretOnly((req, [id = ""]) => one(getFile(ctx, id), req))),
    r("GET", "/v1/files/:id/contents", secretOnly((_req, [id = ""]) => fileContents(ctx, id))),
  ];

  async function wrap(req: SandboxRequest, run: () => Promise<SandboxResponse>): Promise<SandboxResponse> {
    const version = { "stripe-version": (req.headers["stripe-version"] as string | undefined) ?? STRIPE_API_VERSION };
    const reply = await idempotent(opts, req, run);
    reply.headers = { ...version, ...(reply.headers ?? {}) };
    const events = pending.get(req);
    if (events?.length) opts.dispatcher.stripeEvents(events, req.faults.webhook);
    return reply;
  }
  return {
    routes,
    wrap,
    ctx,
    clockAdvanced: () => {
      expireDisputes(ctx);
      runAutomaticPayouts(ctx);
    },
  };
}

/** Results worth replaying: the endpoint ran. Not stored: server faults, conflicts, rate limits, bad params. */
function storable(reply: SandboxResponse): boolean {
  const code = (reply.body as { error?: { code?: string } })?.error?.code ?? "";
  return reply.status < 500 && reply.status !== 409 && reply.status !== 429 && reply.status !== 401 && reply.status !== 403 && !code.startsWith("parameter_");
}

async function idempotent(opts: StripeApiOptions, req: SandboxRequest, run: () => Promise<SandboxResponse>): Promise<SandboxResponse> {
  const key = req.headers["idempotency-key"];
  if (req.method !== "POST" || typeof key !== "string" || !key) return run();
  // Keys are per account: the platform's and each connected account's (Stripe-Account) are apart.
  const account = connectedAccountOf(req);
  const scope = `${apiKey(req) ?? ""}:${account ? `${account}:` : ""}${key}`;
  const fingerprint = `${req.path}?${req.rawBody}`;
  let stored = opts.store.idempotency.get(scope);
  // Pruned after 24 h of sandbox time: the same key then runs the request again (a new object) — the flaw a payout
  // executor must guard against by looking the payout up before any re-send.
  if (stored && stored !== "in_flight" && stored.at !== undefined && opts.store.nowS() - stored.at >= IDEMPOTENCY_KEY_TTL_S) {
    opts.store.idempotency.delete(scope);
    stored = undefined;
  }
  const keyHeader = { "idempotency-key": key };
  if (stored === "in_flight") {
    return { ...new StripeApiError(409, "invalid_request_error", "idempotency_key_in_use", "There is currently another in-progress request using this Idempotency-Key. Please try again later.").toResponse(), headers: keyHeader };
  }
  if (stored && stored.fingerprint !== fingerprint) {
    return { ...new StripeApiError(400, "idempotency_error", undefined, `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`).toResponse(), headers: keyHeader };
  }
  if (stored) return { status: stored.status, body: stored.body, headers: { ...stored.headers, ...keyHeader, "idempotent-replayed": "true", "original-request": req.requestId } };
  opts.store.idempotency.set(scope, "in_flight");
  try {
    const reply = await run();
    if (storable(reply)) opts.store.idempotency.set(scope, { fingerprint, status: reply.status, body: structuredClone(reply.body), headers: reply.headers ?? {}, at: opts.store.nowS() });
    else opts.store.idempotency.delete(scope);
    return { ...reply, headers: { ...(reply.headers ?? {}), ...keyHeader } };
  } catch (err) {
    opts.store.idempotency.delete(scope);
    throw err;
  }
}
