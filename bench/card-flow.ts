/**
 * Card payments through the public surfaces, as a merchant and a buyer drive them, shared by
 * `npm run bench:payments` (bench/payments.ts) and `npm run chaos` (bench/chaos.ts):
 * POST /api/v1/payments (one checkout, one order per demo seller), then what the hosted checkout page does
 * (tRPC checkout.prepareCard, the PSP-hosted card field's calls to the sandbox with the publishable key and test
 * card 4242…, checkout.submitCard), then GET /api/v1/payments/{id} until every order is final.
 * Without a retry policy every call is made once (the bench measures, and a failure is a failure); with one, a
 * call that could not reach its server or got a 5xx (or 409 idempotency_key_in_use) is retried with backoff until
 * the policy's ceiling, as a real merchant and buyer would: the POST keeps its Idempotency-Key.
 */
import net, { type AddressInfo } from "node:net";
import { DEMO } from "../scripts/seed-demo";

export const API_KEY = DEMO.apiKey.key;
export const TEST_CARD = { "card[number]": "4242424242424242", "card[exp_month]": "12", "card[exp_year]": "2034", "card[cvc]": "123" };
/** Amounts are decimal strings, as the public API takes them. */
export const ORDERS = [
  { seller: "books", amount: "1200.00" },
  { seller: "crafts", amount: "350.50" },
  { seller: "coffee", amount: "99.99" },
] as const;
export const POLL_MS = 100;
/** No single HTTP call may hang longer than this (a killed server resets its sockets; a hung one must not stall us). */
export const REQUEST_TIMEOUT_MS = 60_000;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

export function positiveInt(name: string, fallback: number): number {
  const n = Number(arg(name) ?? fallback);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
}

/** A flag where 0 means "skip" (`--pgbench-seconds 0`). */
export function nonNegativeInt(name: string, fallback: number): number {
  const v = arg(name);
  const n = Number(v ?? fallback);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}

/** An error with its cause (fetch's "fetch failed" says what failed only there). */
export function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  return e.cause ? `${e.message}: ${describe(e.cause)}` : e.message;
}

export function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((v, i) => v.padStart(widths[i]!)).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => `${"-".repeat(w + 1)}:`).join("|")}|`, ...rows.map(line)].join("\n");
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Worth retrying: the server was unreachable, timed out or answered 5xx (its state is then unknown or unchanged). */
export class TransientError extends Error {
  override name = "TransientError";
}

export interface RetryPolicy {
  /** Give up on one call after this long. */
  ceilingMs: number;
  baseMs: number;
  maxMs: number;
}

export interface Psp {
  url: string;
  publishableKey: string;
}

export interface OrderOutcome {
  id: string;
  status: "SUCCESS" | "FAILED";
  failureCode?: string;
}

export class CardFlow {
  /** Requests answered 429 and retried after Retry-After. */
  rateLimited = 0;
  /** Calls retried after a transient failure (retry policy only). */
  retried = 0;

  constructor(
    readonly app: string,
    private readonly retry?: RetryPolicy,
  ) {}

  /** Runs `call`; with a retry policy, again after a TransientError (or a fetch that failed) until the ceiling. */
  private async attempt<T>(call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    for (let n = 0; ; n++) {
      try {
        return await call();
      } catch (e) {
        // fetch's network failures are TypeErrors: "fetch failed" (no connection) and "terminated" (the server went
        // away while the body was read); a timeout is a DOMException named TimeoutError.
        const transient = e instanceof TransientError || (e instanceof TypeError && (e.message === "fetch failed" || e.message === "terminated")) || (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError"));
        if (!this.retry || !transient || performance.now() - started > this.retry.ceilingMs) throw e;
        this.retried++;
        const backoff = Math.min(this.retry.maxMs, this.retry.baseMs * 2 ** Math.min(n, 10));
        await sleep(backoff * (0.5 + Math.random() / 2));
      }
    }
  }

  /** One /api/v1 call with the demo secret key; waits out 429s (counted) and times the answered request. */
  async api(method: "GET" | "POST", route: string, body?: unknown, idempotencyKey?: string): Promise<{ status: number; json: unknown; ms: number }> {
    return this.attempt(async () => {
      for (;;) {
        const t0 = performance.now();
        const res = await fetch(this.app + route, {
          method,
          headers: {
            authorization: `Bearer ${API_KEY}`,
            ...(body === undefined ? {} : { "content-type": "application/json" }),
            ...(idempotencyKey ? { "idempotency-key": idempotencyKey } : {}),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const text = await res.text();
        const ms = performance.now() - t0;
        if (res.status === 429) {
          this.rateLimited++;
          await sleep(Number(res.headers.get("retry-after") ?? 1) * 1000);
          continue;
        }
        if (res.status >= 500) throw new TransientError(`${method} ${route}: HTTP ${res.status} ${text.slice(0, 200)}`);
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          throw new TransientError(`${method} ${route}: HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`);
        }
        const code = (json as { error?: { code?: string } }).error?.code;
        if (res.status === 409 && code === "idempotency_key_in_use") throw new TransientError(`${method} ${route}: 409 ${code}`);
        return { status: res.status, json, ms };
      }
    });
  }

  /**
   * A tRPC v11 mutation over HTTP as the checkout page's httpBatchLink sends it (superjson, batch of one), with
   * the Origin the browser adds: /api/trpc refuses state-changing requests from anywhere else.
   */
  async trpc<T>(procedure: string, input: unknown): Promise<T> {
    return this.attempt(async () => {
      const headers = { "content-type": "application/json", origin: new URL(this.app).origin };
      const res = await fetch(`${this.app}/api/trpc/${procedure}?batch=1`, { method: "POST", headers, body: JSON.stringify({ 0: { json: input } }), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      const text = await res.text();
      let item: { result?: { data: { json: T } }; error?: { json: { message: string; data?: { httpStatus?: number } } } } | undefined;
      try {
        [item] = JSON.parse(text) as [typeof item];
      } catch {
        throw new TransientError(`${procedure}: HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`);
      }
      if (item?.result) return item.result.data.json;
      const message = `${procedure}: ${item?.error?.json.message ?? `HTTP ${res.status}`}`;
      const status = item?.error?.json.data?.httpStatus ?? res.status;
      throw status >= 500 ? new TransientError(message) : new Error(message);
    });
  }

  /** What the card field sends to the PSP (form-encoded, publishable key). */
  async psp<T>(psp: Psp, method: "GET" | "POST", route: string, form: Record<string, string>): Promise<T> {
    return this.attempt(async () => {
      const headers = { authorization: `Bearer ${psp.publishableKey}`, "content-type": "application/x-www-form-urlencoded" };
      const query = method === "GET" ? `?${new URLSearchParams(form)}` : "";
      const res = await fetch(psp.url + route + query, { method, headers, body: method === "POST" ? new URLSearchParams(form) : undefined, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      const text = await res.text();
      if (res.status >= 500) throw new TransientError(`PSP ${route}: HTTP ${res.status}`);
      const json = JSON.parse(text) as T & { error?: { message: string } };
      if (!res.ok || json.error) throw new Error(`PSP ${route}: ${json.error?.message ?? `HTTP ${res.status}`}`);
      return json;
    });
  }

  /** The checkout page hands the card field its stripe.js URL and publishable key: read them from its HTML. */
  async discoverPsp(checkoutId: string): Promise<Psp> {
    return this.attempt(async () => {
      const res = await fetch(`${this.app}/pay/${checkoutId}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      if (res.status >= 500) throw new TransientError(`GET /pay/${checkoutId}: HTTP ${res.status}`);
      const html = (await res.text()).replace(/\\"/g, '"');
      const url = /"stripeJsUrl":"([^"]+)\/v3"/.exec(html)?.[1];
      const publishableKey = /"publishableKey":"(pk_[^"]+)"/.exec(html)?.[1];
      if (!url || !publishableKey) throw new Error(`no stripe.js URL / publishable key in ${this.app}/pay/${checkoutId}`);
      return { url, publishableKey };
    });
  }

  /** POST /api/v1/payments with `id` as the Idempotency-Key, the checkout id and the orders' ids as order ids. */
  async createCheckout(id: string): Promise<{ checkoutId: string; orderIds: string[]; postMs: number }> {
    const res = await this.api("POST", "/api/v1/payments", {
      buyer_info: { email: `${id}@bench.example`, country: "KE" },
      return_url: "https://shop.example/thanks",
      payment_orders: ORDERS.map((o) => ({ payment_order_id: `${id}_${o.seller}`, seller_account: o.seller, amount: o.amount, currency: "KES" })),
    }, id);
    if (res.status !== 201) throw new Error(`POST /api/v1/payments: ${res.status} ${JSON.stringify(res.json)}`);
    const body = res.json as { checkout_id: string; payment_orders: { payment_order_id: string }[] };
    return { checkoutId: body.checkout_id, orderIds: body.payment_orders.map((o) => o.payment_order_id), postMs: res.ms };
  }

  async payByCard(psp: Psp, checkoutId: string): Promise<void> {
    const { clientSecret } = await this.trpc<{ clientSecret: string }>("checkout.prepareCard", { checkoutId });
    const paymentIntentId = clientSecret.split("_secret_")[0]!;
    const pm = await this.psp<{ id: string }>(psp, "POST", "/v1/payment_methods", { type: "card", ...TEST_CARD });
    const intent = `/v1/payment_intents/${encodeURIComponent(paymentIntentId)}`;
    try {
      await this.psp(psp, "POST", `${intent}/confirm`, { client_secret: clientSecret, payment_method: pm.id });
    } catch (e) {
      // A confirm whose answer was lost (the PSP went away mid-call) may have gone through: a retried confirm of
      // a succeeded PaymentIntent is refused. Ask the PSP, as stripe.js would, before giving up.
      if (!this.retry) throw e;
      const pi = await this.psp<{ status: string }>(psp, "GET", intent, { client_secret: clientSecret });
      if (pi.status !== "succeeded" && pi.status !== "processing") throw e;
    }
    await this.trpc("checkout.submitCard", { checkoutId, paymentIntentId });
  }

  /** Polls GET /api/v1/payments/{id} until every order is SUCCESS or FAILED; throws after `deadline` (performance.now()). */
  async untilFinal(orderIds: string[], deadline: number): Promise<OrderOutcome[]> {
    const pending = new Set(orderIds);
    const done: OrderOutcome[] = [];
    for (;;) {
      for (const id of [...pending]) {
        const { json } = await this.api("GET", `/api/v1/payments/${encodeURIComponent(id)}`);
        const order = json as { status?: string; failure?: { code: string } | null };
        if (order.status === "SUCCESS" || order.status === "FAILED") {
          pending.delete(id);
          done.push({ id, status: order.status, failureCode: order.failure?.code });
        }
      }
      if (pending.size === 0) return done;
      if (performance.now() > deadline) throw new Error(`${[...pending].join(", ")} not final in time`);
      await sleep(POLL_MS);
    }
  }
}
