import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { inArray } from "drizzle-orm";
import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findFreePort } from "@/db/embedded";
import { payouts } from "@/db/schema";
import { pollUntil } from "@/inngest/engine/testing";
import { checkLedgerInvariants, formatInvariantReport } from "@/server/ledger";
import { FAILPOINTS, type Failpoint } from "@/server/observability/failpoints";
import { requestManualPayout } from "@/server/payouts/build";
import type { Payout } from "@/server/payouts/state-machine";
import { sandboxStripe, setupPayoutSeller, type PayoutSeller } from "@/server/payouts/test-helpers";
import type { Sandbox } from "@/sandbox";
import { startTestSandbox } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";

// Crash test (issue 13): kill -9 of the process that runs the payout functions, at each step of a payout (before the
// PSP call, after the PSP answered and before anything is recorded, after recording), on both rails, ends with exactly
// ONE PSP payout per payout. The app half (the local engine, the real serve() handler with the payout, payment and
// exception functions, the outbox dispatcher, the webhook / callback receiver) is a child process
// (test/payout-crash-child.ts) armed with PAYBRIDGE_FAILPOINTS, which SIGKILLs itself at that step; it is then
// restarted without the failpoint and must finish every payout. The PSP sandbox lives here, in the test process, so
// it survives the kill, and it is the witness: the assertions list ITS transfers (by transfer_group), ITS payouts on
// the connected account (by metadata.payout_key) and ITS B2C requests (by OriginatorConversationID) — never our rows,
// which only say when to look.

/** Minor units paid into the platform's sandbox balance first (10,000,000.00 KES). */
const PLATFORM_FLOAT = 1_000_000_000;
const WEBHOOK_SECRET = "whsec_payout_crash_test";
const RAILS = ["stripe", "mpesa"] as const;
type Rail = (typeof RAILS)[number];
/** Payouts in flight per run: the kill lands on one of them at the failpoint, on the other wherever it is. */
const PAYOUTS_PER_RUN = 2;
/** Minor units (500.00 KES: whole shillings, above Daraja's B2C minimum). */
const AMOUNT = 50_000n;
/**
 * Armed starts per run. Stripe makes two PSP creates per payout (the transfer, then the payout on the connected
 * account): the second armed start dies at the second create's step. Daraja makes one (the B2C).
 */
const ARMED_STARTS: Record<Rail, number> = { stripe: 2, mpesa: 1 };
/** The engine's lease in the child: a killed child's jobs are free again this long after the kill. */
const CHILD_LEASE_MS = 4_000;
/** Generous ceilings (a loaded 2-core machine is slow, not wrong); nothing waits a fixed time. */
const START_CEILING_MS = 120_000;
const DEATH_CEILING_MS = 90_000;
const PAID_CEILING_MS = 150_000;
const STOP_GRACE_MS = 20_000;
const ROOT = path.resolve(import.meta.dirname, "../..");
const CHILD_SCRIPT = path.join(ROOT, "test/payout-crash-child.ts");

let t: TestDatabase;
let sandbox: Sandbox;
let stripe: Stripe;
let childPort: number;

interface Child {
  proc: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  stderr: string[];
}

function startChild(point: Failpoint | undefined): Promise<Child> {
  const args = ["--import", "tsx", CHILD_SCRIPT, "--database-url", t.url, "--sandbox-url", sandbox.url, "--port", String(childPort), "--webhook-secret", WEBHOOK_SECRET, "--lease-ms", String(CHILD_LEASE_MS), "--status-waits", "500ms,1s,2s,4s"];
  // The child is configured through its environment like any process of the app; only the failpoint differs.
  // eslint-disable-next-line no-restricted-properties
  const env: NodeJS.ProcessEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };
  delete env.PAYBRIDGE_FAILPOINTS;
  // The child's PSP call timeout (test/payout-crash-child.ts): a B2C claimed but never recorded counts as "may have
  // left" for this long after its claim (server/payouts/execution.ts), so the status waits above outlast it.
  env.PSP_TIMEOUT_MS = "10000";
  if (point) env.PAYBRIDGE_FAILPOINTS = point;
  const proc = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const child: Child = { proc, stderr: [], exited: new Promise((resolve) => proc.once("exit", (code, signal) => resolve({ code, signal }))) };
  void child.exited.then((e) => (child.exit = e));
  proc.stderr!.on("data", (b: Buffer) => {
    child.stderr.push(b.toString());
    process.stderr.write(`[payout child${point ? ` ${point}` : ""}] ${b.toString()}`);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`payout child not ready within ${START_CEILING_MS} ms:\n${child.stderr.join("")}`)), START_CEILING_MS);
    let out = "";
    proc.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      if (out.includes("[payout-crash-child] ready")) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    void child.exited.then((e) => {
      clearTimeout(timer);
      // An armed child may reach its failpoint before it says ready: the engine takes the killed runs back at once.
      if (point && e.signal === "SIGKILL") resolve(child);
      else reject(new Error(`payout child exited before ready (${e.signal ?? `code ${e.code}`}):\n${child.stderr.join("")}`));
    });
  });
}

async function stopChild(c: Child | undefined): Promise<void> {
  if (!c || c.exit) return;
  c.proc.kill("SIGTERM");
  const timer = setTimeout(() => c.proc.kill("SIGKILL"), STOP_GRACE_MS);
  await c.exited;
  clearTimeout(timer);
}

const rowsOf = (ids: string[]) => t.db.select().from(payouts).where(inArray(payouts.id, ids));

beforeAll(async () => {
  t = await createTestDatabase();
  childPort = await findFreePort(18_500);
  sandbox = await startTestSandbox({ webhookTargets: { stripe: [`http://127.0.0.1:${childPort}/api/webhooks/stripe`] }, stripeWebhookSecret: WEBHOOK_SECRET });
  stripe = sandboxStripe(sandbox);
  // The platform's balance pays the transfers: the sellers' own card payments leave it short by the PSP's fees.
  const pi = await stripe.paymentIntents.create({ amount: PLATFORM_FLOAT, currency: "kes" });
  const paid = await stripe.paymentIntents.confirm(pi.id, { payment_method: "pm_card_visa" });
  expect(paid.status).toBe("succeeded");
}, 60_000);

let current: Child | undefined;
afterAll(async () => {
  await stopChild(current);
  await sandbox?.stop();
  await t?.drop();
});

/** The sandbox's own record of what it paid for one payout (not our rows). */
async function atThePsp(p: Payout, seller: PayoutSeller) {
  if (p.psp === "stripe") {
    const account = seller.destination.stripeAccountId!;
    const transfers = sandbox.stripeObjects("transfer").filter((x) => x.transfer_group === p.pspKey);
    const listed = await stripe.transfers.list({ transfer_group: p.pspKey, limit: 100 });
    const onAccount = await stripe.payouts.list({ limit: 100 }, { stripeAccount: account });
    const payoutsAtPsp = onAccount.data.filter((x) => x.metadata?.payout_key === p.pspKey);
    return { transfers, listedTransfers: listed.data, payouts: payoutsAtPsp, account };
  }
  const b2c = sandbox.b2cRequests().filter((r) => r.originatorConversationId === p.pspKey);
  return { b2c };
}

describe("payout crash test: kill -9 at each step, on each rail, one PSP payout per payout", () => {
  const runs = RAILS.flatMap((rail) => FAILPOINTS.map((point) => ({ rail, point })));

  it.each(runs)("$rail: killed at $point, restarted, paid exactly once", async ({ rail, point }) => {
    await stopChild(current); // a run that failed leaves its child behind
    const sellers = await Promise.all(Array.from({ length: PAYOUTS_PER_RUN }, () => setupPayoutSeller(t.db, { psp: rail, sandbox, available: AMOUNT })));
    current = await startChild(point);
    const created = await Promise.all(
      sellers.map((s, i) => requestManualPayout(t.db, { merchantId: s.merchant.id, sellerId: s.seller.id, currency: "KES", origin: "api", idempotencyKey: `crash-${rail}-${point}-${i}` })),
    );
    const ids = created.map((p) => p.id);
    expect(created.map((p) => [p.status, p.amount])).toEqual(created.map(() => ["pending", AMOUNT]));

    // The armed child dies by its own SIGKILL at the failpoint (the first armed start always reaches one). A later
    // armed start may find nothing left to kill itself at: then the payouts simply finish.
    let kills = 0;
    for (let start = 0; start < ARMED_STARTS[rail]; start++) {
      if (start > 0) current = await startChild(point);
      const c = current;
      const ended = await pollUntil(
        async () => {
          if (c.exit) return "died" as const;
          if (start > 0 && (await rowsOf(ids)).every((r) => r.status === "paid")) return "finished" as const;
          return undefined;
        },
        { ceilingMs: DEATH_CEILING_MS, stepMs: 50, why: async () => (await rowsOf(ids)).map((r) => r.status) },
      );
      if (ended === "finished") {
        await stopChild(c);
        break;
      }
      expect(c.exit).toEqual({ code: null, signal: "SIGKILL" });
      expect(c.stderr.join("")).toContain(`failpoint ${point}: SIGKILL`);
      kills++;
    }
    expect(kills).toBeGreaterThanOrEqual(1);

    // Restarted without the failpoint: the engine takes the killed runs back after their lease and finishes them.
    current = await startChild(undefined);
    const done = await pollUntil(
      async () => {
        const rows = await rowsOf(ids);
        return rows.every((r) => r.status === "paid" || r.status === "failed" || r.status === "canceled") ? rows : undefined;
      },
      { ceilingMs: PAID_CEILING_MS, stepMs: 100, why: async () => ({ ours: (await rowsOf(ids)).map((r) => ({ id: r.id, status: r.status })), psp: await Promise.all((await rowsOf(ids)).map((r) => atThePsp(r, sellers.find((s) => s.seller.id === r.sellerId)!))) }) },
    );
    expect(done.map((r) => ({ status: r.status, failure: r.failureCode ?? r.failureMessage }))).toEqual(done.map(() => ({ status: "paid", failure: null })));

    // The witness: exactly one PSP payout per payout, for its amount, to its destination.
    for (const p of done) {
      const seller = sellers.find((s) => s.seller.id === p.sellerId)!;
      expect(p.pspKey).toBe(`payout_${p.id}`);
      const psp = await atThePsp(p, seller);
      if (p.psp === "stripe") {
        expect(psp.transfers).toHaveLength(1);
        expect(psp.listedTransfers).toHaveLength(1);
        expect(psp.transfers![0]).toMatchObject({ amount: Number(AMOUNT), destination: psp.account, amount_reversed: 0 });
        expect(psp.payouts).toHaveLength(1);
        expect(psp.payouts![0]).toMatchObject({ amount: Number(AMOUNT), status: "paid" });
      } else {
        // One B2C request under the payout's OriginatorConversationID, sent once (never a repeat Daraja deduped), paid.
        expect(psp.b2c).toHaveLength(1);
        expect(psp.b2c![0]).toMatchObject({ amount: Number(AMOUNT / 100n), status: "completed", duplicates: 0 });
      }
    }
    await stopChild(current);
    current = undefined;
    console.log(`[payout crash] ${rail} ${point}: ${kills} kill(s), ${done.length} payouts paid, one PSP payout each`);
  }, 360_000);

  it("the ledger balances after every crash (holds captured, nothing posted twice)", async () => {
    const report = await checkLedgerInvariants(t.db);
    expect(report.ok, formatInvariantReport(report)).toBe(true);
    // Every transfer the sandbox made in this file belongs to exactly one payout (none without a group).
    const ours = (await t.db.select({ key: payouts.pspKey }).from(payouts).where(inArray(payouts.psp, ["stripe"]))).map((r) => r.key);
    const transfers = sandbox.stripeObjects("transfer");
    expect(transfers.map((x) => x.transfer_group).sort()).toEqual([...ours].sort());
  });
});
