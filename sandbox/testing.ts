// Test helpers: a fast sandbox on a free port, and a tiny HTTP receiver that stands in for the app's
// webhook routes (forwarding to the same domain functions the routes call).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { type Sandbox, type SandboxOptions, startSandbox } from "./index";

/** Sandbox timings for tests: callbacks and async transitions in tens of milliseconds. */
export const FAST_TIMINGS = { stkDelayMs: 40, resultDelayMs: 20, asyncSettleMs: 20, disputeDelayMs: 250 } as const;

export function startTestSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  return startSandbox({ port: 0, ...FAST_TIMINGS, ...opts });
}

export interface Receiver {
  url: string;
  /** Every request body received, in arrival order, with its path. */
  received: { path: string; body: string; status: number }[];
  stop: () => Promise<void>;
}

export type ReceiverHandler = (path: string, body: string, headers: http.IncomingHttpHeaders) => Promise<{ status: number; body: unknown }>;

export async function startReceiver(handler: ReceiverHandler): Promise<Receiver> {
  const received: Receiver["received"] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      handler(req.url ?? "/", body, req.headers)
        .then((r) => {
          received.push({ path: req.url ?? "/", body, status: r.status });
          res.writeHead(r.status, { "content-type": "application/json" });
          res.end(JSON.stringify(r.body));
        })
        .catch((err: unknown) => {
          received.push({ path: req.url ?? "/", body, status: 500 });
          res.writeHead(500);
          res.end(String(err));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    stop: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Polls `check` until it returns a value (not undefined) or the ceiling passes. The default ceiling is generous
 * (a loaded 2-core CI machine) and still under the suite's 30 s test timeout, so a hang ends with this error;
 * `why`, when given, says what was last seen.
 */
export async function waitFor<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 25_000, stepMs = 20, why?: () => Promise<unknown> | unknown): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(why ? `waitFor: timed out; last seen: ${JSON.stringify(await why())}` : "waitFor: timed out");
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** The PaymentIntent id in a client secret (`pi_…_secret_…`). */
export const paymentIntentOf = (clientSecret: string): string => clientSecret.split("_secret_")[0]!;

/**
 * What the PSP-hosted card field does in a browser tab: tokenize the number, then confirm the PaymentIntent
 * with its client secret, both with the publishable key. Returns the PSP's JSON answer (a PaymentIntent, or
 * `{ error }`); a tab keeps its secret, so a stale one can still try.
 */
export async function confirmInCardField(sandboxUrl: string, publishableKey: string, clientSecret: string, number: string): Promise<{ status?: string; error?: { code: string } }> {
  const post = async (path: string, params: Record<string, string>) =>
    (await fetch(`${sandboxUrl}${path}`, { method: "POST", headers: { authorization: `Bearer ${publishableKey}`, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(params) })).json();
  const pm = await post("/v1/payment_methods", { type: "card", "card[number]": number, "card[exp_month]": "12", "card[exp_year]": "2034", "card[cvc]": "123" });
  if (typeof pm.id !== "string" || !pm.id.startsWith("pm_")) throw new Error(`card field: no payment method for ${number}: ${JSON.stringify(pm)}`);
  return post(`/v1/payment_intents/${paymentIntentOf(clientSecret)}/confirm`, { client_secret: clientSecret, payment_method: pm.id });
}
