// The PSP sandbox's durability (issue 10): its state survives a restart (Postgres schema `sandbox`, or a state
// file), an answered PaymentIntent survives a SIGKILL right after the answer, pending webhooks survive a restart,
// a failing webhook target is retried on the sandbox clock for three days, and `npm run sandbox` exits 1 on an
// unrecoverable error. Real sandbox processes, the real stripe SDK, a real Postgres.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedPort } from "@/test/unreachable";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import type { Sandbox } from "./index";
import { startTestSandbox, waitFor } from "./testing";
import { retryOffsetsS, STRIPE_RETRY_WINDOW_S } from "./webhooks";

const SANDBOX_PORT = 12331;
let t: TestDatabase;
let tmp: string;
beforeAll(async () => {
  t = await createTestDatabase();
  tmp = await mkdtemp(path.join(os.tmpdir(), "paybridge-sandbox-state-"));
});
afterAll(async () => {
  await t?.drop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const sdkFor = (port: number) => new Stripe("sk_test_sandbox_paybridge_dev", { host: "127.0.0.1", port, protocol: "http", maxNetworkRetries: 0, timeout: 10_000 });

/** A webhook target that answers `fail` times with 500, then 200; it records every event id it got. */
async function flakyTarget(fail: number, port = 0): Promise<{ url: string; port: number; got: string[]; calls: () => number; stop: () => Promise<void> }> {
  const got: string[] = [];
  let calls = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      calls++;
      if (calls <= fail) return void res.writeHead(500).end("{}");
      got.push((JSON.parse(Buffer.concat(chunks).toString()) as { id: string }).id);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", () => r()));
  const p = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${p}/api/webhooks/stripe`,
    port: p,
    got,
    calls: () => calls,
    stop: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}


async function paidIntent(stripe: Stripe) {
  return stripe.paymentIntents.create({ amount: 2500, currency: "usd", payment_method: "pm_card_visa", confirm: true, metadata: { order: "po_1" } }, { idempotencyKey: `persist_${Math.random()}` });
}

describe.each([
  ["postgres", () => ({ databaseUrl: t.url })],
  ["file", () => ({ stateFile: path.join(tmp, "state.jsonl") })],
] as const)("state survives a restart (%s)", (mode, opts) => {
  it("keeps PaymentIntents, charges, refunds, events, idempotent answers, the clock and list order", async () => {
    let sandbox: Sandbox = await startTestSandbox(opts());
    expect(sandbox.persistence).toBe(mode);
    let stripe = sdkFor(sandbox.port);
    const first = await paidIntent(stripe);
    const second = await stripe.paymentIntents.create({ amount: 700, currency: "usd", payment_method: "pm_card_visa", confirm: true }, { idempotencyKey: `k_${mode}` });
    sandbox.advanceClock(3600);
    await stripe.refunds.create({ payment_intent: first.id, amount: 1000 });
    await sandbox.stop();

    sandbox = await startTestSandbox(opts());
    stripe = sdkFor(sandbox.port);
    try {
      const again = await stripe.paymentIntents.retrieve(first.id);
      expect(again).toMatchObject({ id: first.id, status: "succeeded", amount: 2500, metadata: { order: "po_1" } });
      // A refund of an earlier payment (the finding): works, and knows what was refunded before the restart.
      await expect(stripe.refunds.create({ payment_intent: first.id, amount: 2000 })).rejects.toMatchObject({ code: "amount_too_large" });
      const refund = await stripe.refunds.create({ payment_intent: first.id, amount: 1500 });
      expect(refund.status).toBe("succeeded");
      expect((await stripe.charges.retrieve(again.latest_charge as string)).amount_refunded).toBe(2500);
      // The same key and body replays the stored answer instead of charging again.
      const replay = await stripe.paymentIntents.create({ amount: 700, currency: "usd", payment_method: "pm_card_visa", confirm: true }, { idempotencyKey: `k_${mode}` });
      expect(replay.id).toBe(second.id);
      expect((await stripe.paymentIntents.list({ limit: 10 })).data.map((p) => p.id)).toEqual([second.id, first.id]);
      const events = await stripe.events.list({ limit: 100 });
      expect(events.data.some((e) => e.type === "payment_intent.succeeded" && (e.data.object as { id: string }).id === first.id)).toBe(true);
      // The clock kept its advance: the refund made after it is an hour later than the charge.
      const refunds = await stripe.refunds.list({ payment_intent: first.id });
      expect(refunds.data[1]!.created - again.created).toBeGreaterThanOrEqual(3600);
    } finally {
      await sandbox.stop();
    }
  });
});

describe("webhook retries", () => {
  it("the Stripe schedule backs off exponentially and spans exactly three days of sandbox time", () => {
    const offsets = retryOffsetsS("stripe").map((s) => Math.round(s * 1000) / 1000);
    expect(offsets.at(-1)).toBe(STRIPE_RETRY_WINDOW_S);
    expect(offsets.length).toBeGreaterThan(10);
    const gaps = offsets.slice(1).map((o, i) => Math.round((o - offsets[i]!) * 1000));
    for (let i = 1; i < gaps.length - 1; i++) expect(gaps[i]).toBeGreaterThanOrEqual(gaps[i - 1]!);
    expect(gaps.at(-2)).toBe(12 * 3600 * 1000);
    expect(retryOffsetsS("daraja")).toHaveLength(3);
  });

  it("a target that fails many times gets the event once the sandbox clock reaches the retry", async () => {
    const target = await flakyTarget(8);
    const sandbox = await startTestSandbox({ webhookTargets: { stripe: [target.url] } });
    try {
      const pi = await sdkFor(sandbox.port).paymentIntents.create({ amount: 900, currency: "usd" });
      const event = sandbox.stripeObjects("event").find((e) => (e.data as { object: { id: string } }).object.id === pi.id)!;
      await sandbox.webhooksIdle(); // the first try and the quick retries: all failed
      expect(target.got).toEqual([]);
      expect(sandbox.pendingDeliveries().map((p) => p.id)).toEqual([event.id]);
      // Hours of sandbox time: each jump makes the next retry due.
      await waitFor(() => {
        if (target.got.includes(event.id)) return true;
        sandbox.advanceClock(3600);
        return undefined;
      }, 25_000, 50);
      await waitFor(() => (sandbox.pendingDeliveries().length === 0 ? true : undefined));
      expect(target.calls()).toBe(9);
    } finally {
      await sandbox.stop();
      await target.stop();
    }
  });

  it("gives a webhook up three days (of sandbox time) after its first attempt", async () => {
    const target = await flakyTarget(Infinity);
    const sandbox = await startTestSandbox({ webhookTargets: { stripe: [target.url] } });
    try {
      await sdkFor(sandbox.port).paymentIntents.create({ amount: 900, currency: "usd" });
      await sandbox.webhooksIdle(); // the first attempt (and the quick retries) before the clock moves
      await waitFor(() => {
        if (sandbox.pendingDeliveries().length === 0) return true;
        sandbox.advanceClock(6 * 3600);
        return undefined;
      }, 25_000, 30);
      const attempts = sandbox.deliveries.filter((d) => d.url === target.url);
      // Each clock jump makes one retry due (the next is scheduled from then), so fewer than the full schedule.
      expect(attempts.length).toBeGreaterThan(6);
      expect(attempts.length).toBeLessThanOrEqual(retryOffsetsS("stripe").length);
      const span = attempts.at(-1)!.clockAt! - attempts[0]!.clockAt!;
      expect(span).toBeGreaterThanOrEqual((STRIPE_RETRY_WINDOW_S - 1) * 1000);
      expect(span).toBeLessThan((STRIPE_RETRY_WINDOW_S + 6 * 3600) * 1000 + 60_000);
    } finally {
      await sandbox.stop();
      await target.stop();
    }
  });
});

/** `npm run sandbox` as its own process, on SANDBOX_PORT 12331, persisting into the test database. */
function sandboxProcess(appUrl: string, extraEnv: Record<string, string> = {}): { child: ChildProcess; exited: Promise<number | null>; output: () => string } {
  let out = "";
  const child = spawn(process.execPath, ["--import", "tsx", "sandbox/main.ts"], {
    // eslint-disable-next-line no-restricted-properties -- the child process needs this one's PATH etc., plus its own settings
    env: { ...process.env, SANDBOX_PORT: String(SANDBOX_PORT), SANDBOX_DATABASE_URL: t.url, APP_URL: appUrl, DATABASE_URL: "", ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (out += c.toString()));
  return { child, exited: new Promise((r) => child.once("exit", (code) => r(code))), output: () => out };
}

const identity = () => fetch(`http://127.0.0.1:${SANDBOX_PORT}/_sandbox/identity`).then((r) => (r.ok ? r.json() : undefined), () => undefined);

describe("the sandbox process", () => {
  it("an answered PaymentIntent and its pending webhook survive a SIGKILL right after the answer", { timeout: 90_000 }, async () => {
    const appPort = await closedPort(); // nothing listens there yet: every webhook fails and stays pending
    const appUrl = `http://127.0.0.1:${appPort}`;
    let p = sandboxProcess(appUrl);
    let pi: Stripe.PaymentIntent;
    try {
      await waitFor(identity, 60_000, 100);
      pi = await paidIntent(sdkFor(SANDBOX_PORT));
    } finally {
      p.child.kill("SIGKILL");
      await p.exited;
    }
    const target = await flakyTarget(0, appPort);
    p = sandboxProcess(appUrl);
    try {
      await waitFor(identity, 60_000, 100);
      expect(await sdkFor(SANDBOX_PORT).paymentIntents.retrieve(pi.id)).toMatchObject({ id: pi.id, status: "succeeded" });
      const succeeded = (await sdkFor(SANDBOX_PORT).events.list({ type: "payment_intent.succeeded" })).data.find((e) => (e.data.object as { id: string }).id === pi.id)!;
      // The webhook that never got through before the kill is still pending: the restarted sandbox sends it.
      await waitFor(async () => {
        if (target.got.includes(succeeded.id)) return true;
        await fetch(`http://127.0.0.1:${SANDBOX_PORT}/_sandbox/clock/advance`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ seconds: 600 }) });
        return undefined;
      }, 25_000, 100);
    } finally {
      p.child.kill("SIGTERM");
      expect(await p.exited).toBe(0);
      await target.stop();
    }
  });

  it("exits 1 on an unrecoverable error", { timeout: 60_000 }, async () => {
    // The persistence database does not exist: starting cannot succeed, and the process must say so by its code.
    const bad = new URL(t.url);
    bad.pathname = "/no_such_database_h5";
    const p = sandboxProcess("http://127.0.0.1:9", { SANDBOX_DATABASE_URL: bad.toString() });
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(/exiting 1/);
  });
});
