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
 * The buyer and merchant calls are bench/card-flow.ts (shared with `npm run chaos`), made once each here: no retries.
 * After the payments, pgbench (TPC-B-like) at 1, 8 and 32 clients on a second embedded Postgres of the same build,
 * and SUCCESS/s as a ratio to the best: --pgbench-seconds S (per client count, default 5; 0 skips it), --pgbench PATH.
 */
import os from "node:os";
import { arg, CardFlow, describe, ORDERS, percentile, positiveInt, table, type Psp } from "./card-flow";
import { ratio } from "./pgbench";
import { pgbenchBeside, requireBuild, startPlatform, type Platform } from "./platform";

const PAYMENTS_DEFAULT = 200;
const CONCURRENCY_DEFAULT = 16;
const SUCCESS_TIMEOUT_MS = 60_000;
const ERRORS_SHOWN = 5;
const PGBENCH_SECONDS_DEFAULT = 5;


interface Sample {
  postMs: number;
  successMs: number;
}

/** Every order SUCCESS, or an error naming the ones that are not. */
async function untilSuccess(flow: CardFlow, orderIds: string[], deadline: number): Promise<void> {
  const outcomes = await flow.untilFinal(orderIds, deadline).catch((e: unknown) => {
    throw new Error(`${describe(e)} (${SUCCESS_TIMEOUT_MS} ms)`);
  });
  const failed = outcomes.filter((o) => o.status !== "SUCCESS");
  if (failed.length > 0) throw new Error(failed.map((o) => `${o.id} FAILED (${o.failureCode})`).join(", "));
}

async function payment(flow: CardFlow, psp: Psp, id: string, onAccepted: () => void): Promise<Sample> {
  const t0 = performance.now();
  const c = await flow.createCheckout(id);
  onAccepted();
  await flow.payByCard(psp, c.checkoutId);
  await untilSuccess(flow, c.orderIds, t0 + SUCCESS_TIMEOUT_MS);
  return { postMs: c.postMs, successMs: performance.now() - t0 };
}

async function main(): Promise<void> {
  const payments = positiveInt("--payments", PAYMENTS_DEFAULT);
  const concurrency = positiveInt("--concurrency", CONCURRENCY_DEFAULT);
  const given = arg("--url")?.replace(/\/+$/, "");
  if (!given) requireBuild();
  console.error(given ? `using ${given}` : "starting the platform (scripts/dev.ts --prod --ephemeral)…");
  const platform: Platform = given ? { url: given, stop: async () => {}, logTail: () => "" } : await startPlatform();
  const app = platform.url;
  const flow = new CardFlow(app);
  process.once("SIGINT", () => void platform.stop().finally(() => process.exit(130)));
  try {
    const run = `bench_${Date.now().toString(36)}`;
    // One untimed payment first: it finds the PSP the checkout page uses and warms every route on the way.
    const warmup = await flow.createCheckout(`${run}_warmup`);
    const psp = await flow.discoverPsp(warmup.checkoutId);
    await flow.payByCard(psp, warmup.checkoutId);
    await untilSuccess(flow, warmup.orderIds, performance.now() + SUCCESS_TIMEOUT_MS);

    console.error(`paying ${payments} checkouts (${ORDERS.length} orders each), ${concurrency} at a time, PSP sandbox ${psp.url}…`);
    const samples: Sample[] = [];
    const errors: string[] = [];
    let next = 0;
    let accepted = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: Math.min(concurrency, payments) }, async () => {
        for (let i = next++; i < payments; i = next++) {
          await payment(flow, psp, `${run}_${i}`, () => accepted++).then(
            (s) => samples.push(s),
            (e: unknown) => errors.push(describe(e)),
          );
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;

    const post = samples.map((s) => s.postMs).sort((a, b) => a - b);
    const success = samples.map((s) => s.successMs).sort((a, b) => a - b);
    const pgbenchSeconds = Number(arg("--pgbench-seconds") ?? PGBENCH_SECONDS_DEFAULT);
    console.error(`pgbench (${pgbenchSeconds} s per client count) on a second embedded Postgres of the same build…`);
    const pgb = await pgbenchBeside(pgbenchSeconds);
    const best = "best" in pgb ? pgb.best : undefined;
    const succeeded = samples.length / seconds;
    const head = ["cores", "payments", "concurrency", "failed", "accepted/s", "SUCCESS/s", "POST p50 ms", "POST p99 ms", "SUCCESS p50 ms", "SUCCESS p99 ms", "SUCCESS/s : pgbench best tps"];
    const row = [os.availableParallelism(), payments, concurrency, errors.length].map(String);
    row.push((accepted / seconds).toFixed(1), succeeded.toFixed(1), ...[post, success].flatMap((l) => [percentile(l, 50).toFixed(0), percentile(l, 99).toFixed(0)]), ratio(succeeded, best));
    console.log(`\npayments end to end (card, ${ORDERS.length} orders per checkout, ${given ? app : "own platform, fsync off"}, ${seconds.toFixed(1)} s)\n`);
    console.log(table(head, [row]));
    if ("runs" in pgb) console.log(`\npgbench tpcb-like, same build, same run: ${pgb.runs.map((r) => `${r.clients} clients ${r.tps.toFixed(0)} tps`).join(", ")} (best ${best!.toFixed(0)})`);
    else console.log(`\npgbench skipped: ${pgb.skipped}`);
    if (flow.rateLimited > 0) console.log(`\n${flow.rateLimited} requests were rate limited (429) and retried after Retry-After: the numbers include those waits.`);
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
