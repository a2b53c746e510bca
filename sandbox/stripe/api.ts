// The Stripe-compatible REST surface: auth (secret vs publishable key), Idempotency-Key semantics,
// event recording + webhook hand-off, and the route table.
import { StripeApiError, stripeNotFound, type Route, type SandboxRequest, type SandboxResponse } from "../http";
import type { WebhookDispatcher } from "../webhooks";
import { balanceOf, refreshStatus } from "./balance";
import type { StripeCtx } from "./context";
import { closeDispute, expireDisputes, getDispute, listDisputes, updateDispute } from "./disputes";
import { createFile, fileContents, getFile } from "./files";
import { createAccount, createPayout, createTransfer, reverseTransfer } from "./money-movement";
import { cancelPaymentIntent, capturePaymentIntent, confirmPaymentIntent, createPaymentIntent, createPaymentMethod, getPaymentIntent, updatePaymentIntent } from "./payment-intents";
import { cancelRefund, createRefund, refundFilter, updateRefund } from "./refunds";
import { createdFilter, paginate, publicView, stripeId, type StripeObject, type StripeStore } from "./store";

export const STRIPE_API_VERSION = "2026-10-28.endive";

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
  const shown = key ? `${key.slice(0, 8)}${"*".repeat(Math.max(0, key.length - 12))}${key.slice(-4)}` : "none";
  throw new StripeApiError(401, "invalid_request_error", "api_key_invalid", `Invalid API Key provided: ${shown}`);
}

function requireClientSecret(req: SandboxRequest, pi: StripeObject): void {
  const secret = req.body.client_secret ?? req.query.client_secret;
  if (secret !== pi.client_secret) throw stripeNotFound("payment_intent", pi.id);
}

function expand(store: StripeStore, obj: StripeObject, req: SandboxRequest): Record<string, unknown> {
  const raw = req.body.expand ?? req.query.expand;
  const fields = Array.isArray(raw) ? raw.map(String) : typeof raw === "string" ? [raw] : [];
  const out = publicView(obj);
  for (const f of fields) {
    const id = out[f];
    const target = typeof id === "string" ? store.objects.get(id) : undefined;
    if (target) out[f] = publicView(target);
  }
  return out;
}

export interface StripeApi {
  routes: Route[];
  wrap: (req: SandboxRequest, run: () => Promise<SandboxResponse>) => Promise<SandboxResponse>;
  ctx: StripeCtx;
  /** The sandbox clock moved: disputes past their due_by close (or have their saved evidence submitted). */
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
      const event = opts.store.put({
        id: stripeId("evt"),
        object: "event",
        api_version: STRIPE_API_VERSION,
        created: opts.store.nowS(),
        // A snapshot: later changes to the object must not rewrite history.
        data: { object: structuredClone(publicView(obj)), ...(previous ? { previous_attributes: previous } : {}) },
        livemode: false,
        pending_webhooks: opts.webhookTargetCount(),
        request: { id: req?.requestId ?? null, idempotency_key: (req?.headers["idempotency-key"] as string | undefined) ?? null },
        type,
      });
      if (req) pending.set(req, [...(pending.get(req) ?? []), event]);
      else opts.dispatcher.stripeEvents([event], []);
    },
  };

  const json = (status: number, body: unknown): SandboxResponse => ({ status, body });
  const one = (obj: StripeObject, req: SandboxRequest) => json(200, expand(opts.store, obj, req));
  const list = (object: string, req: SandboxRequest, filter: (o: StripeObject) => boolean = () => true) =>
    json(200, paginate(opts.store.all(object).filter(createdFilter(req.query)).filter(filter), req.query, req.path));
  const getOr404 = (object: string, kind: string) => (req: SandboxRequest, [id = ""]: string[]) => {
    const o = opts.store.get(id, object);
    if (!o) throw stripeNotFound(kind, id);
    return one(o, req);
  };
  const secretOnly = (h: (req: SandboxRequest, p: string[]) => SandboxResponse) => (req: SandboxRequest, p: string[]) => {
    if (authenticate(opts, req) !== "secret") throw new StripeApiError(401, "invalid_request_error", "secret_key_required", "This API call cannot be made with a publishable API key.");
    return h(req, p);
  };
  const r = (method: string, path: string, handle: (req: SandboxRequest, p: string[]) => SandboxResponse): Route => ({
    method,
    pattern: new RegExp(`^${path.replace(/:id/g, "([^/]+)")}$`),
    handle,
  });

  const routes: Route[] = [
    r("POST", "/v1/payment_methods", (req) => {
      // Card numbers only ever come from the PSP-hosted field (publishable key), never from a server.
      if (authenticate(opts, req) === "secret" && req.body.card) {
        throw new StripeApiError(400, "invalid_request_error", "unsafe_card_data", "Sending card numbers directly to the API with a secret key is not allowed. Use the hosted card field.");
      }
      return one(createPaymentMethod(ctx, req.body), req);
    }),
    r("GET", "/v1/payment_methods/:id", secretOnly(getOr404("payment_method", "PaymentMethod"))),
    r("POST", "/v1/payment_intents", secretOnly((req) => one(createPaymentIntent(ctx, req), req))),
    r("GET", "/v1/payment_intents", secretOnly((req) => list("payment_intent", req))),
    r("GET", "/v1/payment_intents/:id", (req, [id = ""]) => {
      const pi = getPaymentIntent(ctx, id);
      if (authenticate(opts, req) === "publishable") requireClientSecret(req, pi);
      return one(pi, req);
    }),
    r("POST", "/v1/payment_intents/:id", secretOnly((req, [id = ""]) => one(updatePaymentIntent(ctx, req, id), req))),
    r("POST", "/v1/payment_intents/:id/confirm", (req, [id = ""]) => {
      if (authenticate(opts, req) === "publishable") requireClientSecret(req, getPaymentIntent(ctx, id));
      return one(confirmPaymentIntent(ctx, req, id), req);
    }),
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
    r("GET", "/v1/accounts/:id", secretOnly(getOr404("account", "account"))),
    r("POST", "/v1/transfers", secretOnly((req) => one(createTransfer(ctx, req), req))),
    r("GET", "/v1/transfers", secretOnly((req) => list("transfer", req))),
    r("GET", "/v1/transfers/:id", secretOnly(getOr404("transfer", "transfer"))),
    r("POST", "/v1/transfers/:id/reversals", secretOnly((req, [id = ""]) => one(reverseTransfer(ctx, req, id), req))),
    r("POST", "/v1/payouts", secretOnly((req) => one(createPayout(ctx, req), req))),
    r("GET", "/v1/payouts", secretOnly((req) => list("payout", req))),
    r("GET", "/v1/payouts/:id", secretOnly(getOr404("payout", "payout"))),
    r("GET", "/v1/balance", secretOnly(() => json(200, balanceOf(ctx)))),
    r("GET", "/v1/balance_transactions", secretOnly((req) => {
      const q = req.query;
      const txns = opts.reportBalanceTransactions(opts.store.all("balance_transaction").map((t) => refreshStatus(ctx, t)));
      const match = (t: StripeObject) => (!q.type || t.type === q.type) && (!q.payout || t._payout === q.payout) && (!q.source || t.source === q.source) && (!q.currency || t.currency === q.currency);
      return json(200, paginate(txns.filter(createdFilter(q)).filter(match), q, req.path));
    })),
    r("GET", "/v1/balance_transactions/:id", secretOnly(getOr404("balance_transaction", "balance transaction"))),
    r("GET", "/v1/events", secretOnly((req) => list("event", req, (e) => !req.query.type || e.type === req.query.type))),
    r("GET", "/v1/events/:id", secretOnly(getOr404("event", "event"))),
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
  return { routes, wrap, ctx, clockAdvanced: () => expireDisputes(ctx) };
}

/** Results worth replaying: the endpoint ran. Not stored: server faults, conflicts, rate limits, bad params. */
function storable(reply: SandboxResponse): boolean {
  const code = (reply.body as { error?: { code?: string } })?.error?.code ?? "";
  return reply.status < 500 && reply.status !== 409 && reply.status !== 429 && reply.status !== 401 && !code.startsWith("parameter_");
}

async function idempotent(opts: StripeApiOptions, req: SandboxRequest, run: () => Promise<SandboxResponse>): Promise<SandboxResponse> {
  const key = req.headers["idempotency-key"];
  if (req.method !== "POST" || typeof key !== "string" || !key) return run();
  const scope = `${apiKey(req) ?? ""}:${key}`;
  const fingerprint = `${req.path}?${req.rawBody}`;
  const stored = opts.store.idempotency.get(scope);
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
    if (storable(reply)) opts.store.idempotency.set(scope, { fingerprint, status: reply.status, body: structuredClone(reply.body), headers: reply.headers ?? {} });
    else opts.store.idempotency.delete(scope);
    return { ...reply, headers: { ...(reply.headers ?? {}), ...keyHeader } };
  } catch (err) {
    opts.store.idempotency.delete(scope);
    throw err;
  }
}
