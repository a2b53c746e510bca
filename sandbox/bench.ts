// `npm run bench:sandbox`: how fast the sandbox answers the real SDK (sequential and concurrent
// PaymentIntent create+confirm) and Daraja STK push. Prints a table; no assertions.
import Stripe from "stripe";
import { startSandbox } from "./index";

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

const sandbox = await startSandbox({ port: 0, stkDelayMs: 60_000 });
const stripe = new Stripe("sk_test_sandbox_paybridge_dev", { host: "127.0.0.1", port: sandbox.port, protocol: "http", maxNetworkRetries: 0, timeout: 10_000 });
const create = (i: number) => stripe.paymentIntents.create({ amount: 1000, currency: "usd", payment_method: "pm_card_visa", confirm: true }, { idempotencyKey: `bench_${i}_${Math.random()}` });
const rows = [await timeIt("payment_intent create+confirm", N, create), await timeIt("payment_intent create+confirm", N, create, CONCURRENCY), await timeIt("idempotent replay", N, () => stripe.paymentIntents.create({ amount: 1000, currency: "usd" }, { idempotencyKey: "bench_replay" }))];
console.table(rows);
await sandbox.stop();
