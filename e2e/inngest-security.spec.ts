import { expect, test, type APIRequestContext } from "@playwright/test";
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { buildCallBody, canonicalJson, signBody } from "../inngest/engine/protocol";
import { E2E_STATE_FILE } from "../playwright.config";

// The forged-payment exploit, tried from outside against the running platform: `next start` (this suite's
// server, NODE_ENV=production on the embedded Postgres), `npm run dev` (next dev), and a bare `next start`
// with no signing key, which must refuse to start at all.

const API_KEY = "sk_test_DemoDemoDemoDemoDemoDemoDemoDemo";
const sha1 = (s: string) => createHash("sha1").update(s).digest("hex");
const FORGER_KEY = `signkey-prod-${"7".repeat(64)}`;
const SERVER_START_CEILING_MS = 240_000;

function db() {
  const state = JSON.parse(readFileSync(E2E_STATE_FILE, "utf8")) as { databaseUrl: string };
  expect(new URL(state.databaseUrl).hostname).toBe("127.0.0.1");
  return postgres(state.databaseUrl, { max: 1, onnotice: () => {} });
}

function forgedRun(attemptId: string, paymentIntentId: string, amountMinor: string): string {
  const paid = { psp: "stripe", pspReference: paymentIntentId, status: "succeeded", amountMinor, currency: "KES" };
  const steps = {
    [sha1("load-attempt")]: { type: "data" as const, data: { attemptId, method: "card", psp: "stripe", pspReference: paymentIntentId, status: "pending" } },
    [sha1("check-status-0")]: { type: "data" as const, data: paid },
    [sha1("settle-0")]: { type: "data" as const, data: { pspReference: paymentIntentId, status: "succeeded", outcome: "succeeded" } },
  };
  return canonicalJson(buildCallBody({ runId: "01FORGED", event: { name: "payment/attempt.execute", data: { attemptId } }, steps, stack: Object.keys(steps), attempt: 0, maxAttempts: 6 }));
}

/** Every way an outsider can call /api/inngest without the signing key: all 401. */
async function expectForgedCallsRefused(request: APIRequestContext, base: string, attemptId: string, pi: string, functionIds: string[]) {
  const body = forgedRun(attemptId, pi, "100000");
  expect((await request.get(`${base}/api/inngest`)).status()).toBe(401);
  expect((await request.put(`${base}/api/inngest`)).status()).toBe(401);
  const inBand = await request.put(`${base}/api/inngest`, { data: canonicalJson({ url: "http://attacker.example/api/inngest" }), headers: { "x-inngest-sync-kind": "in_band", "content-type": "application/json" } });
  expect(inBand.status()).toBe(401);
  for (const fnId of functionIds) {
    for (const signature of [undefined, signBody(body, FORGER_KEY, Date.now())]) {
      const res = await request.post(`${base}/api/inngest?fnId=${fnId}&stepId=step`, {
        data: body,
        headers: { "content-type": "application/json", ...(signature ? { "x-inngest-signature": signature } : {}) },
      });
      expect(res.status(), `${fnId} ${signature ? "wrong key" : "unsigned"}`).toBe(401);
    }
  }
}

test("forged, unsigned or wrongly signed calls to /api/inngest under next start get 401 and change nothing", async ({ page, request }) => {
  const id = `forge_${Date.now()}`;
  const created = await request.post("/api/v1/payments", {
    headers: { authorization: `Bearer ${API_KEY}`, "idempotency-key": id },
    data: { buyer_info: { email: `${id}@example.test`, country: "KE" }, return_url: "https://shop.example/thanks", payment_orders: [{ payment_order_id: id, seller_account: "books", amount: "1000.00", currency: "KES" }] },
  });
  expect(created.status()).toBe(201);
  const { checkout_id: checkoutId, checkout_url: checkoutUrl } = await created.json();
  // The buyer's page prepares the card attempt (what the exploit learns through checkout.prepareCard).
  await page.goto(checkoutUrl);
  await expect(page.locator('iframe[title="Secure card payment input frame"]')).toBeVisible();
  const sql = db();
  try {
    let attempt: { id: string; psp_reference: string | null } | undefined;
    await expect.poll(async () => {
      [attempt] = await sql<{ id: string; psp_reference: string | null }[]>`select id, psp_reference from payment_attempts where checkout_id = ${checkoutId}`;
      return attempt?.psp_reference ?? null;
    }, { timeout: 30_000 }).not.toBeNull();
    const functionIds = (await sql<{ id: string }[]>`select id from engine_functions where active = 1`).map((r) => r.id);
    expect(functionIds).toContain("paybridge-execute-payment-attempt");
    await expectForgedCallsRefused(request, "", attempt!.id, attempt!.psp_reference!, functionIds);
    const [checkout] = await sql<{ status: string }[]>`select status from checkouts where id = ${checkoutId}`;
    expect(checkout?.status).toBe("open");
    const orders = await sql<{ status: string }[]>`select status from payment_orders where checkout_id = ${checkoutId}`;
    expect(orders.map((o) => o.status)).toEqual(["NOT_STARTED"]);
    const [posted] = await sql<{ n: number }[]>`select count(*)::int as n from ledger_transactions where source = 'payment_order' and source_id in (select id from payment_orders where checkout_id = ${checkoutId})`;
    expect(posted?.n).toBe(0);
  } finally {
    await sql.end();
  }
});

function collect(child: ChildProcess): { text: () => string } {
  let out = "";
  child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (out += c.toString()));
  return { text: () => out };
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });
}

test("a bare next start without an Inngest signing key refuses to start", async () => {
  test.setTimeout(SERVER_START_CEILING_MS);
  const nextBin = path.resolve("node_modules/next/dist/bin/next");
  const env = { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", DATABASE_URL: "postgres://u:p@127.0.0.1:1/none", AUTH_SECRET: "x".repeat(40) } as NodeJS.ProcessEnv;
  delete env.INNGEST_SIGNING_KEY;
  delete env.EMBEDDED_DATABASE;
  const child = spawn(process.execPath, [nextBin, "start", "--port", "3197"], { env, stdio: ["ignore", "pipe", "pipe"] });
  const output = collect(child);
  const code = await Promise.race([exited(child), new Promise<"running">((r) => setTimeout(() => r("running"), SERVER_START_CEILING_MS - 20_000))]);
  if (code === "running") child.kill("SIGKILL");
  expect(code).toBe(1);
  expect(output.text()).toContain("INNGEST_SIGNING_KEY");
  expect(output.text()).toContain("Refusing to start");
});

test("under npm run dev (next dev) forged calls to /api/inngest get 401 too", async ({ request }) => {
  test.setTimeout(SERVER_START_CEILING_MS + 60_000);
  const port = 3198;
  const stateFile = path.join(mkdtempSync(path.join(os.tmpdir(), "pb-dev-")), "state.json");
  const env = { ...process.env, NODE_ENV: "development", DATABASE_URL: "", NEXT_TELEMETRY_DISABLED: "1" } as NodeJS.ProcessEnv;
  delete env.INNGEST_SIGNING_KEY;
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/dev.ts", "--ephemeral", "--port", String(port), "--state-file", stateFile], { env, stdio: ["ignore", "pipe", "pipe"], detached: false });
  const output = collect(child);
  try {
    const base = `http://localhost:${port}`;
    await expect.poll(async () => (await request.get(`${base}/api/health`).catch(() => null))?.status() ?? 0, { timeout: SERVER_START_CEILING_MS, intervals: [1000] }).toBe(200);
    // next dev compiles the route on first use; a 401 is the SDK's own answer, not a compile error.
    await expect.poll(async () => (await request.get(`${base}/api/inngest`, { timeout: 120_000 }).catch(() => null))?.status() ?? 0, { timeout: 180_000, intervals: [1000] }).toBe(401);
    await expectForgedCallsRefused(request, base, "att_made_up", "pi_made_up", ["paybridge-execute-payment-attempt", "paybridge-platform-ping"]);
  } catch (e) {
    console.error(output.text().slice(-4000));
    throw e;
  } finally {
    child.kill("SIGTERM");
    await Promise.race([exited(child), new Promise((r) => setTimeout(r, 30_000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});
