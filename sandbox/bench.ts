// `npm run bench:sandbox`: how fast the sandbox answers the real SDK (sequential and concurrent
// PaymentIntent create+confirm, idempotent replay), with its state in memory, in a state file and in Postgres
// (a throwaway embedded cluster with durable settings: fsync on, as the dev database). Prints a table; no assertions.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Stripe from "stripe";
import { startEmbeddedPostgres } from "../db/embedded";
import { type SandboxOptions, startSandbox } from "./index";

const N = 300;
const CONCURRENCY = 10;

async function timeIt(label: string, n: number, run: (i: number) => Promise<unknown>, concurrency = 1): Promise<Record<string, string | number>> {
  const latencies: number[] = [];
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) {
      const i = next++;
      const t0 = performance.now();
      await run(i);
      latencies.push(performance.now() - t0);
    }
  }));
  const total = performance.now() - started;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(2);
  return { operation: label, n, concurrency, "req/s": Math.round((n / total) * 1000), "p50 ms": pct(0.5), "p99 ms": pct(0.99) };
}

async function bench(state: string, opts: SandboxOptions): Promise<Record<string, string | number>[]> {
  const sandbox = await startSandbox({ port: 0, stkDelayMs: 60_000, ...opts });
  const stripe = new Stripe("sk_test_sandbox_paybridge_dev", { host: "127.0.0.1", port: sandbox.port, protocol: "http", maxNetworkRetries: 0, timeout: 10_000 });
  const create = (i: number) => stripe.paymentIntents.create({ amount: 1000, currency: "usd", payment_method: "pm_card_visa", confirm: true }, { idempotencyKey: `bench_${i}_${Math.random()}` });
  const rows = [await timeIt("payment_intent create+confirm", N, create), await timeIt("payment_intent create+confirm", N, create, CONCURRENCY), await timeIt("idempotent replay", N, () => stripe.paymentIntents.create({ amount: 1000, currency: "usd" }, { idempotencyKey: "bench_replay" }))];
  await sandbox.stop();
  return rows.map((r) => ({ state, ...r }));
}

const tmp = await mkdtemp(path.join(os.tmpdir(), "paybridge-sandbox-bench-"));
const pg = await startEmbeddedPostgres({ dir: path.join(tmp, "pg") });
try {
  console.table([...(await bench("memory", {})), ...(await bench("file", { stateFile: path.join(tmp, "state.jsonl") })), ...(await bench("postgres", { databaseUrl: pg.url }))]);
} finally {
  await pg.stop();
  await rm(tmp, { recursive: true, force: true });
}
