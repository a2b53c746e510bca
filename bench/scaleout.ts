/**
 * `npm run bench:scaleout` — the platform scaled out as a deployment would be: two app instances (`next start`,
 * each its own process on its own port) behind a round-robin proxy run by this bench, one local engine, one
 * outbox dispatcher and the PSP sandbox, all against one Postgres (bench/parts.ts: a throwaway embedded cluster,
 * production start commands). APP_URL is the proxy, so buyers, merchants, the engine's calls to `serve()` and the
 * PSP's webhooks are all spread over the instances, and any state one instance kept in memory would show.
 * Card checkouts (bench/card-flow.ts, no retries: a failure is a failure) run in phases, first with the proxy
 * sending to one instance, then to both (--instances 1,2), each phase at --concurrency C for --checkouts N.
 * Prints per phase: checkouts/s reaching SUCCESS, POST and SUCCESS latencies, and how the proxy split the requests;
 * then pgbench at 1/8/32 clients on a second embedded Postgres of the same build with the ratio to its best; then
 * the money checks (bench/parts.ts moneyChecks: one PSP charge per SUCCESS checkout, one ledger transaction per
 * SUCCESS order, ledger:check, ledger:verify, nothing stuck out of ops' sight). Exit code 1 if any fails.
 * Needs `npm run build` first. Flags: --checkouts N (120 per phase), --concurrency C (32), --instances 1,2,
 * --pgbench-seconds S (5; 0 skips it).
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { mkdirSync, readdirSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { releaseEmbeddedPostgresSignalHooks } from "../db/embedded";
import { arg, CardFlow, describe, freePort, ORDERS, percentile, positiveInt, sleep, table, type Psp } from "./card-flow";
import { moneyChecks, preparePlatform, type Platform } from "./parts";
import { ratio } from "./pgbench";
import { pgbenchBeside, requireBuild } from "./platform";

const CHECKOUTS_DEFAULT = 120;
const CONCURRENCY_DEFAULT = 32;
const PGBENCH_SECONDS_DEFAULT = 5;
/** Generous: the phases measure throughput, and nothing may hang however loaded the machine. */
const SUCCESS_CEILING_MS = 300_000;
const SETTLE_TIMEOUT_MS = 180_000;
const SETTLE_POLL_MS = 500;
const ERRORS_SHOWN = 5;

const log = (m: string) => console.error(`[scaleout] ${m}`);

/**
 * A round-robin HTTP proxy: each request goes to the next backend of the current set (changed between phases),
 * streamed both ways, with the Host header kept (the instances see what a load balancer would pass on).
 * A backend that cannot be reached answers 502, as a load balancer would: the bench counts it as a failure.
 */
class RoundRobinProxy {
  backends: string[] = [];
  readonly served = new Map<string, number>();
  private next = 0;
  // A connection per request to the instance: a reused keep-alive socket that the instance closes as idle at the
  // moment a request is written to it is a reset the proxy could only retry for idempotent methods.
  private readonly agent = new http.Agent({ keepAlive: false, maxSockets: 256 });
  private server: http.Server | undefined;

  async listen(port: number): Promise<string> {
    this.server = http.createServer((req, res) => this.forward(req, res));
    await new Promise<void>((resolve) => this.server!.listen(port, "127.0.0.1", resolve));
    return `http://localhost:${(this.server.address() as AddressInfo).port}`;
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const backend = this.backends[this.next++ % this.backends.length]!;
    this.served.set(backend, (this.served.get(backend) ?? 0) + 1);
    const target = new URL(backend);
    const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent: this.agent }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on("error", (e) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "bad_gateway", message: `proxy: ${backend}: ${e.message}` } }));
    });
    req.pipe(upstream);
  }

  async close(): Promise<void> {
    this.agent.destroy();
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve(undefined)));
  }
}

interface Phase {
  instances: number;
  seconds: number;
  succeeded: number;
  failed: number;
  post: number[];
  success: number[];
  /** Requests the proxy sent to each instance during the phase. */
  split: number[];
  errors: string[];
}

async function runPhase(flow: CardFlow, psp: Psp, proxy: RoundRobinProxy, apps: string[], instances: number, checkouts: number, concurrency: number, run: string): Promise<Phase> {
  proxy.backends = apps.slice(0, instances);
  const before = apps.map((a) => proxy.served.get(a) ?? 0);
  const post: number[] = [];
  const success: number[] = [];
  const errors: string[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, checkouts) }, async () => {
      for (let i = next++; i < checkouts; i = next++) {
        const started = performance.now();
        try {
          const c = await flow.createCheckout(`${run}_${instances}i_${i}`);
          post.push(c.postMs);
          await flow.payByCard(psp, c.checkoutId);
          const outcomes = await flow.untilFinal(c.orderIds, started + SUCCESS_CEILING_MS);
          const failed = outcomes.filter((o) => o.status !== "SUCCESS");
          if (failed.length > 0) throw new Error(failed.map((o) => `${o.id} FAILED (${o.failureCode})`).join(", "));
          success.push(performance.now() - started);
        } catch (e) {
          errors.push(describe(e));
        }
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  post.sort((a, b) => a - b);
  success.sort((a, b) => a - b);
  return { instances, seconds, succeeded: success.length, failed: errors.length, post, success, split: apps.map((a, i) => (proxy.served.get(a) ?? 0) - before[i]!), errors };
}

async function main(): Promise<number> {
  requireBuild();
  const checkouts = positiveInt("--checkouts", CHECKOUTS_DEFAULT);
  const concurrency = positiveInt("--concurrency", CONCURRENCY_DEFAULT);
  const phases = (arg("--instances") ?? "1,2").split(",").map(Number);
  if (phases.some((n) => n !== 1 && n !== 2)) throw new Error("--instances takes a list of 1 and 2 (e.g. 1,2)");
  const pgbenchSeconds = Number(arg("--pgbench-seconds") ?? PGBENCH_SECONDS_DEFAULT);

  const tmp = await mkdtemp(path.join(os.tmpdir(), "paybridge-scaleout-"));
  await chmod(tmp, 0o755); // initdb runs as the postgres user (as root) and must reach the data dir
  const logs = path.join(tmp, "logs");
  mkdirSync(logs);
  const [proxyPort, app1Port, app2Port, enginePort, sandboxPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const apps = [`http://127.0.0.1:${app1Port}`, `http://127.0.0.1:${app2Port}`];
  const proxy = new RoundRobinProxy();
  const urls = { app: await proxy.listen(proxyPort), engine: `http://127.0.0.1:${enginePort}`, sandbox: `http://127.0.0.1:${sandboxPort}` };
  log(`logs in ${logs}; proxy ${urls.app} -> ${apps.join(", ")}`);

  releaseEmbeddedPostgresSignalHooks();
  let platform: Platform | undefined;
  const cleanup = async () => {
    await platform?.stop();
    await proxy.close();
    for (const entry of readdirSync(tmp)) if (entry !== "logs") await rm(path.join(tmp, entry), { recursive: true, force: true }).catch(() => {});
  };
  process.on("exit", () => platform?.killAllSync());
  process.once("SIGINT", () => void cleanup().finally(() => process.exit(130)));
  try {
    log("starting Postgres, migrating, seeding the demo tenant…");
    platform = await preparePlatform(logs, path.join(tmp, "pg"), tmp, urls, { engine: enginePort, sandbox: sandboxPort });
    const p = platform;
    log("starting the sandbox, the engine, two app instances and the dispatcher…");
    // Until an instance answers, the proxy sends only to those that do: the engine's first sync goes to app1.
    proxy.backends = [apps[0]!];
    await Promise.all([p.start("sandbox"), p.start("engine")]);
    await Promise.all([p.start("app", { name: "app1", env: { PORT: String(app1Port) } }), p.start("app", { name: "app2", env: { PORT: String(app2Port) } })]);
    await p.start("dispatcher");
    await p.untilFunctionsSynced();

    const flow = new CardFlow(urls.app);
    const run = `scaleout_${Date.now().toString(36)}`;
    // One payment per instance first: it finds the PSP the checkout page uses and warms every route of both.
    proxy.backends = apps;
    let psp: Psp | undefined;
    for (let i = 0; i < apps.length; i++) {
      const warm = await flow.createCheckout(`${run}_warmup_${i}`);
      psp ??= await flow.discoverPsp(warm.checkoutId);
      await flow.payByCard(psp, warm.checkoutId);
      await flow.untilFinal(warm.orderIds, performance.now() + SUCCESS_CEILING_MS);
    }

    const results: Phase[] = [];
    for (const instances of phases) {
      log(`phase: ${instances} instance(s), ${checkouts} checkouts of ${ORDERS.length} orders, ${concurrency} at a time…`);
      results.push(await runPhase(flow, psp!, proxy, apps, instances, checkouts, concurrency, run));
    }
    proxy.backends = apps;
    // Orders of a failed checkout may still be settling (a refund of a partial capture, a late webhook): wait for them.
    const settleBy = performance.now() + SETTLE_TIMEOUT_MS;
    const nonFinal = async () => (await p.query<{ n: number }>(sql`select count(*)::int as n from payment_orders where status not in ('SUCCESS', 'FAILED')`))[0]!.n;
    while ((await nonFinal()) > 0 && performance.now() < settleBy) await sleep(SETTLE_POLL_MS);
    const { checks, byStatus, orders } = await moneyChecks(p);
    const failures = results.flatMap((r) => r.errors);
    checks.push({ name: "every checkout of the phases reached SUCCESS", ok: failures.length === 0, detail: `${results.reduce((n, r) => n + r.succeeded, 0)} of ${results.length * checkouts}; failed ${failures.length}` });
    const both = results.find((r) => r.instances === 2);
    if (both) checks.push({ name: "both instances served", ok: both.split.every((n) => n > 0), detail: `requests per instance in the 2-instance phase: ${both.split.join(" / ")}` });

    log(`pgbench (${pgbenchSeconds} s per client count) on a second embedded Postgres of the same build…`);
    const pgb = await pgbenchBeside(pgbenchSeconds);
    const best = "best" in pgb ? pgb.best : undefined;

    console.log(`\nscale-out: app instances behind a round-robin proxy, one engine, one Postgres (fsync off), card checkouts of ${ORDERS.length} orders, ${os.availableParallelism()} cores\n`);
    const head = ["instances", "checkouts", "concurrency", "failed", "SUCCESS/s", "POST p50 ms", "POST p99 ms", "SUCCESS p50 ms", "SUCCESS p99 ms", "requests app1 / app2", "SUCCESS/s : pgbench best tps"];
    console.log(
      table(
        head,
        results.map((r) => {
          const rate = r.succeeded / r.seconds;
          return [String(r.instances), String(checkouts), String(concurrency), String(r.failed), rate.toFixed(1), ...[r.post, r.success].flatMap((l) => [percentile(l, 50).toFixed(0), percentile(l, 99).toFixed(0)]), r.split.join(" / "), ratio(rate, best)];
        }),
      ),
    );
    if ("runs" in pgb) console.log(`\npgbench tpcb-like, same build, same run: ${pgb.runs.map((r) => `${r.clients} clients ${r.tps.toFixed(0)} tps`).join(", ")} (best ${best!.toFixed(0)})`);
    else console.log(`\npgbench skipped: ${pgb.skipped}`);
    console.log(`\norders: ${orders} (${[...byStatus].map(([s, n]) => `${n} ${s}`).join(", ")})\n`);
    console.log(table(["check", "ok", "detail"], checks.map((c) => [c.name, c.ok ? "ok" : "FAIL", c.detail])));
    if (p.unplanned.length > 0) console.log(`\nParts that died by themselves and were restarted:\n  ${p.unplanned.join("\n  ")}`);
    if (failures.length > 0) console.log(`\nCheckouts that failed, e.g.:\n  ${failures.slice(0, ERRORS_SHOWN).join("\n  ")}`);
    console.log(`\nlogs: ${logs}`);
    return checks.every((c) => c.ok) && p.unplanned.length === 0 ? 0 : 1;
  } catch (e) {
    console.error(`scale-out run failed: ${describe(e)}\nlogs: ${logs}`);
    return 1;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(describe(e));
    process.exit(1);
  },
);
