/**
 * `npm run bench:api` — the public API under an open loop: requests arrive at a fixed rate whether or not earlier ones
 * have been answered (as merchants' servers send them), so a slow answer cannot slow the load down and hide itself
 * (coordinated omission): each latency is measured from the request's scheduled time, not from when it was sent.
 * Steps through arrival rates of POST /api/v1/payments (one checkout, one order per demo seller, its own
 * Idempotency-Key), then GET /api/v1/payments/{id} of the orders created, at half the highest rate whose POST p99
 * stayed under the target. Prints a table per phase, and in the same run pgbench (TPC-B-like) at 1, 8 and 32 clients
 * on a second embedded Postgres of the same build, with accepted/s as a ratio to its best.
 * Flags: --rates R1,R2,… (POST arrivals per second, default 25,50,75,100,200), --seconds S (per rate, default 10),
 * --url U (an app already running; its rate limits apply), --pgbench-seconds S (per client count, default 5; 0 skips
 * it), --pgbench PATH. Without --url it starts the platform (bench/platform.ts; needs `npm run build` first).
 * Targets (issue 15): POST ≥ 0.1× pgbench best accepted/s at the highest rate with p99 < 100 ms; GET p99 < 20 ms at
 * half that rate.
 */
import os from "node:os";
import { API_KEY, arg, describe, ORDERS, percentile, positiveInt, sleep } from "./card-flow";
import { ratio, table } from "./pgbench";
import { pgbenchBeside, requireBuild, startPlatform, type Platform } from "./platform";

const RATES_DEFAULT = [25, 50, 75, 100, 200];
const SECONDS_DEFAULT = 10;
const PGBENCH_SECONDS_DEFAULT = 5;
const WARMUP_REQUESTS = 30;
const POST_P99_TARGET_MS = 100;
const GET_P99_TARGET_MS = 20;
const POST_RATIO_TARGET = 0.1;
/** Requests still unanswered this long after their scheduled time count as failed (timed out). */
const REQUEST_TIMEOUT_MS = 10_000;
/** Open requests beyond this are not sent (counted as shed): the bench must not drown its own machine. */
const MAX_IN_FLIGHT = 2_000;

interface Phase {
  what: string;
  rate: number;
  offered: number;
  ok: number;
  failed: number;
  shed: number;
  seconds: number;
  latencies: number[];
  errors: string[];
}

const HARD_DEADLINE_SLACK_MS = 2_000;

const headers = (idempotencyKey?: string) => ({
  authorization: `Bearer ${API_KEY}`,
  "content-type": "application/json",
  ...(idempotencyKey ? { "idempotency-key": idempotencyKey } : {}),
});

function paymentBody(id: string) {
  return {
    buyer_info: { email: `${id}@bench.example`, country: "KE" },
    return_url: "https://shop.example/thanks",
    payment_orders: ORDERS.map((o) => ({ payment_order_id: `${id}_${o.seller}`, seller_account: o.seller, amount: o.amount, currency: "KES" })),
  };
}

/** One request at its scheduled time; its latency counts from then. Resolves to an error text, or null when answered as expected. */
async function timed(send: () => Promise<Response>, expect: number, scheduled: number, latencies: number[]): Promise<string | null> {
  // A hard deadline of our own beside the request's AbortSignal.timeout: once, at 150 POSTs/s, a phase waited for
  // ever on a fetch whose timeout signal never fired, while the app answered everything else.
  let timer: NodeJS.Timeout | undefined;
  const hard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${REQUEST_TIMEOUT_MS + HARD_DEADLINE_SLACK_MS} ms`)), REQUEST_TIMEOUT_MS + HARD_DEADLINE_SLACK_MS);
  });
  try {
    const res = await Promise.race([send().then(async (r) => (await r.arrayBuffer(), r)), hard]);
    latencies.push(performance.now() - scheduled);
    return res.status === expect ? null : `HTTP ${res.status}`;
  } catch (e) {
    return describe(e);
  } finally {
    clearTimeout(timer);
  }
}

/** Sends `request(i)` at `rate` per second for `seconds`, on schedule, and waits for every answer. */
async function openLoop(what: string, rate: number, seconds: number, expect: number, request: (i: number) => () => Promise<Response>): Promise<Phase> {
  const total = Math.round(rate * seconds);
  const phase: Phase = { what, rate, offered: total, ok: 0, failed: 0, shed: 0, seconds, latencies: [], errors: [] };
  const pending: Promise<void>[] = [];
  let inFlight = 0;
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const scheduled = start + (i * 1000) / rate;
    const wait = scheduled - performance.now();
    if (wait > 1) await sleep(wait);
    if (inFlight >= MAX_IN_FLIGHT) {
      phase.shed++;
      continue;
    }
    inFlight++;
    pending.push(
      timed(request(i), expect, scheduled, phase.latencies).then((err) => {
        inFlight--;
        if (err === null) phase.ok++;
        else {
          phase.failed++;
          if (phase.errors.length < 5) phase.errors.push(err);
        }
      }),
    );
  }
  await Promise.all(pending);
  phase.latencies.sort((a, b) => a - b);
  return phase;
}

function row(p: Phase, pgbenchBest: number | undefined): string[] {
  const accepted = p.ok / p.seconds;
  const ms = (q: number) => percentile(p.latencies, q).toFixed(1);
  return [p.what, String(p.rate), String(p.offered), String(p.ok), String(p.failed + p.shed), accepted.toFixed(1), ms(50), ms(99), ms(100), ratio(accepted, pgbenchBest)];
}

async function main(): Promise<void> {
  const rates = (arg("--rates") ?? RATES_DEFAULT.join(",")).split(",").map(Number);
  if (rates.some((r) => !Number.isFinite(r) || r <= 0)) throw new Error("--rates must be positive numbers");
  const seconds = positiveInt("--seconds", SECONDS_DEFAULT);
  const pgbenchSeconds = Number(arg("--pgbench-seconds") ?? PGBENCH_SECONDS_DEFAULT);
  const given = arg("--url")?.replace(/\/+$/, "");
  if (!given) requireBuild();
  console.error(given ? `using ${given}` : "starting the platform (scripts/dev.ts --prod --ephemeral)…");
  const platform: Platform = given ? { url: given, stop: async () => {}, logTail: () => "" } : await startPlatform();
  process.once("SIGINT", () => void platform.stop().finally(() => process.exit(130)));
  const app = platform.url;
  const run = `api_${Date.now().toString(36)}`;
  const orderIds: string[] = [];
  const post = (tag: string) => (i: number) => {
    const id = `${run}_${tag}_${i}`;
    orderIds.push(`${id}_${ORDERS[0].seller}`);
    return () => fetch(`${app}/api/v1/payments`, { method: "POST", headers: headers(id), body: JSON.stringify(paymentBody(id)), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  };
  try {
    console.error(`warming up (${WARMUP_REQUESTS} requests one at a time)…`);
    for (let i = 0; i < WARMUP_REQUESTS; i++) {
      const res = await post("warm")(i)();
      if (res.status !== 201) throw new Error(`warm-up POST /api/v1/payments: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
      await res.arrayBuffer();
    }
    const phases: Phase[] = [];
    for (const rate of rates) {
      console.error(`POST /api/v1/payments at ${rate}/s for ${seconds} s…`);
      phases.push(await openLoop("POST /api/v1/payments", rate, seconds, 201, post(`r${rate}`)));
    }
    const meeting = phases.filter((p) => p.failed + p.shed === 0 && percentile(p.latencies, 99) < POST_P99_TARGET_MS);
    const best = meeting.length > 0 ? meeting.reduce((a, b) => (b.ok / b.seconds > a.ok / a.seconds ? b : a)) : undefined;
    const getRate = Math.max(1, Math.round((best?.rate ?? rates[0]!) / 2));
    console.error(`GET /api/v1/payments/{id} at ${getRate}/s for ${seconds} s…`);
    const created = orderIds.slice();
    const get = await openLoop("GET /api/v1/payments/{id}", getRate, seconds, 200, (i) => {
      const id = created[(i * 7919) % created.length]!;
      return () => fetch(`${app}/api/v1/payments/${encodeURIComponent(id)}`, { headers: headers(), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    });
    console.error(`pgbench (${pgbenchSeconds} s per client count) on a second embedded Postgres of the same build…`);
    const pgb = await pgbenchBeside(pgbenchSeconds);
    const pgBest = "best" in pgb ? pgb.best : undefined;
    const head = ["request", "rate/s", "offered", "ok", "failed", "ok/s", "p50 ms", "p99 ms", "max ms", "ok/s : pgbench best tps"];
    console.log(`\npublic API, open loop (${os.availableParallelism()} cores, ${given ? app : "own platform, fsync off"}, ${seconds} s per rate, ${ORDERS.length} orders per POST; latency from the scheduled time)\n`);
    console.log(table(head, [...phases, get].map((p) => row(p, pgBest))));
    if ("runs" in pgb) console.log(`\npgbench tpcb-like, same build, same run: ${pgb.runs.map((r) => `${r.clients} clients ${r.tps.toFixed(0)} tps`).join(", ")} (best ${pgBest!.toFixed(0)})`);
    else console.log(`\npgbench skipped: ${pgb.skipped}`);
    const bestOk = best ? best.ok / best.seconds : 0;
    console.log(
      `\ntargets: POST ${best ? `${bestOk.toFixed(1)}/s at ${best.rate}/s (p99 ${percentile(best.latencies, 99).toFixed(1)} ms)` : `no rate kept p99 < ${POST_P99_TARGET_MS} ms`} = ${ratio(bestOk, pgBest)} (≥ ${POST_RATIO_TARGET.toFixed(2)}× with p99 < ${POST_P99_TARGET_MS} ms); ` +
        `GET p99 ${percentile(get.latencies, 99).toFixed(1)} ms at ${getRate}/s (< ${GET_P99_TARGET_MS} ms)`,
    );
    const failures = [...phases, get].flatMap((p) => p.errors.map((e) => `${p.what} at ${p.rate}/s: ${e}`));
    if (failures.length > 0) console.log(`\nfailed requests, e.g.:\n${failures.slice(0, 8).map((f) => `  ${f}`).join("\n")}`);
  } finally {
    await platform.stop();
  }
}

main().catch((err: unknown) => {
  console.error(describe(err));
  process.exit(1);
});
