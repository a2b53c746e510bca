/**
 * The app half of the payout crash test (inngest/functions/payouts.crash.integration-test.ts), as its own process so
 * that the test can SIGKILL it: the local engine and the real serve() handler with the payout functions (and the
 * payment functions, which process the PSP's webhooks and callbacks, and the exception functions), the outbox
 * dispatcher, and the webhook / callback receiver the sandbox posts to (Stripe webhooks, Daraja results). Everything
 * durable is in the test's database; the PSP sandbox lives in the test process and survives the kill.
 * A failpoint (server/observability/failpoints.ts) armed through PAYBRIDGE_FAILPOINTS kills this process with
 * SIGKILL at that step of a payout, as a power cut would.
 * Usage: node --import tsx test/payout-crash-child.ts --database-url U --sandbox-url U --port P --webhook-secret S
 *   [--lease-ms N] [--status-waits 300ms,600ms]
 * Prints `[payout-crash-child] ready` once the engine has synced the functions.
 */
import http from "node:http";
import { createDb, type Db } from "@/db/client";
import { startTestApp } from "@/inngest/engine/testing";
import { createExceptionFunctions } from "@/inngest/functions/exceptions";
import { createPaymentFunctions } from "@/inngest/functions/payments";
import { createPayoutFunctions } from "@/inngest/functions/payouts";
import { startOutboxDispatcher } from "@/server/outbox";
import { getConnector, type PspName } from "@/server/psp";
import { receiveMpesaCallback } from "@/server/webhooks/receive-mpesa-callback";
import { receiveStripeWebhook } from "@/server/webhooks/receive-stripe-webhook";

const MPESA_PREFIX = "/api/webhooks/mpesa/";
const STRIPE_PATH = "/api/webhooks/stripe";
/** PSP calls are cut after this (a loaded machine is slow; the sandbox is local). */
const PSP_TIMEOUT_MS = 10_000;

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) throw new Error(`payout-crash-child: ${name} is required`);
  return v;
}

async function main(): Promise<void> {
  const databaseUrl = arg("--database-url");
  const sandboxUrl = arg("--sandbox-url");
  const port = Number(arg("--port"));
  const webhookSecret = arg("--webhook-secret");
  const leaseMs = Number(arg("--lease-ms", "4000"));
  const statusWaits = arg("--status-waits", "300ms,600ms,1s").split(",");
  const appUrl = `http://127.0.0.1:${port}`;

  const handle = createDb(databaseUrl, { max: 8 });
  const db: Db = handle.db;
  const connectorFor = (d: Db, psp: PspName) => getConnector(d, psp, { apiBase: sandboxUrl, appUrl, timeoutMs: PSP_TIMEOUT_MS });

  // The receiver first: the sandbox may post a Result the moment the process is back.
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const path = req.url ?? "/";
      const reply = path.startsWith(MPESA_PREFIX)
        ? receiveMpesaCallback(db, path.slice(MPESA_PREFIX.length), body)
        : path === STRIPE_PATH
          ? receiveStripeWebhook(db, body, typeof req.headers["stripe-signature"] === "string" ? req.headers["stripe-signature"] : null, webhookSecret)
          : Promise.resolve({ status: 404, body: {} });
      reply.then(
        (r) => {
          res.writeHead(r.status, { "content-type": "application/json" });
          res.end(JSON.stringify(r.body));
        },
        (e: unknown) => {
          res.writeHead(500);
          res.end(String(e));
        },
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });

  const app = await startTestApp({
    db,
    clientId: "paybridge",
    leaseMs,
    functions: (client) => [
      ...createPaymentFunctions(client, { getDb: () => db, connectorFor, statusWaits: ["200ms"] }),
      ...createPayoutFunctions(client, { getDb: () => db, connectorFor, statusWaits }),
      ...createExceptionFunctions(client, { getDb: () => db }),
    ],
  });
  const outbox = startOutboxDispatcher({ db, send: (events) => app.client.send(events), pollMs: 25 });
  process.stdout.write("[payout-crash-child] ready\n");

  let stopping = false;
  process.on("SIGTERM", () => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      await outbox.stop();
      await app.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await handle.close();
      process.exit(0);
    })().catch(() => process.exit(1));
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`[payout-crash-child] failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
