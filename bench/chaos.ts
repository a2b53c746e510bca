/**
 * `npm run chaos` — card load through the public API while the platform's processes are SIGKILLed in turn and
 * restarted as a supervisor would, then the money invariants and each kill's recovery time. Bench-style and
 * bounded: it starts its own platform as an operator would (docs/operations.md) and stops all of it at the end.
 *   - a throwaway embedded Postgres in a temp dir (fsync off, commits synchronous: an acknowledged commit survives
 *     the postmaster's kill, as in production), migrated (db/migrate.ts) and seeded with the demo
 *     tenant (scripts/seed-demo.ts);
 *   - the parts as separate processes through their production start commands (scripts/start/*.ts): app
 *     (`next start`: needs `npm run build` first), engine, dispatcher, sandbox; on free ports, with the API rate
 *     limits lifted; each in its own process group, so a kill takes all of a part (next-server too);
 *   - per kill: a batch of checkouts starts (bench/card-flow.ts, retrying with backoff and the same
 *     Idempotency-Key while a part is down), then one part is SIGKILLed (app, engine, dispatcher, sandbox,
 *     postmaster in turn), restarted after a short pause, and the orders that were in flight at the kill are
 *     timed until every one is final: that is the kill's recovery time;
 *   - a part that dies by itself is restarted too (a supervisor's Restart=on-failure) and reported.
 * At the end it checks: exactly one succeeded PSP charge per checkout whose orders are SUCCESS and none for the
 * others (the sandbox's own record, through the stripe SDK), one ledger transaction per SUCCESS order and none
 * for the others, no drift (checkLedgerInvariants), the hash chains intact (verifyLedger), no order that is
 * neither final nor visible to ops (review queue, open ops exceptions, double charges), no buyer flow that gave up, and
 * every recovery within --max-recovery-s. Exit code 1 if any check fails.
 * Flags: --kills N (15), --checkouts N (10 per kill), --seed S (1), --short (5 kills, 30 checkouts: part of
 * `npm test`), --max-recovery-s S (30), --app-port / --engine-port / --sandbox-port P (default: free ports).
 * The sandbox persists its state in the same Postgres (schema `sandbox`), so it is killed like the others.
 */
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { and, inArray, notInArray, sql, type SQL } from "drizzle-orm";
import { seededRandom } from "../sandbox/faults";
import { releaseEmbeddedPostgresSignalHooks } from "../db/embedded";
import { paymentOrders } from "../db/schema";
import { arg, CardFlow, describe, freePort, ORDERS, positiveInt, sleep, table, type OrderOutcome, type Psp } from "./card-flow";
import { moneyChecks, preparePlatform, type Part, type Platform } from "./parts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const KILLS_DEFAULT = 15;
const CHECKOUTS_PER_KILL_DEFAULT = 10;
const SHORT = { kills: 5, checkouts: 30 };
const MAX_RECOVERY_S_DEFAULT = 30;
/** Generous ceilings: nothing here may hang, however loaded the machine. */
const BUYER_CEILING_MS = 300_000;
const SETTLE_TIMEOUT_MS = 180_000;
const POLL_MS = 250;
const BATCH_STORED_TIMEOUT_MS = 30_000;
/** Every HTTP call of the buyer/merchant flow: retried with backoff while a part is down. */
const RETRY = { ceilingMs: 180_000, baseMs: 200, maxMs: 2_000 };
type Target = Part | "postmaster";
const KILL_ORDER: Target[] = ["app", "engine", "dispatcher", "sandbox", "postmaster"];
const ERRORS_SHOWN = 8;


const log = (m: string) => console.error(`[chaos] ${m}`);
const seconds = (ms: number) => (ms / 1000).toFixed(1);

interface KillRecord {
  n: number;
  target: Target;
  inFlight: number;
  downMs: number;
  readyMs: number;
  /** From the restart until every order in flight at the kill was final; undefined: not within the ceiling. */
  recoveryMs: number | undefined;
}

interface BuyerResult {
  id: string;
  checkoutId?: string;
  outcomes?: OrderOutcome[];
  error?: string;
}

async function portArg(name: string): Promise<number> {
  return arg(name) ? positiveInt(name, 1) : freePort();
}


/**
 * What a stuck checkout looks like from every side, written next to the logs (the cluster is deleted at the end):
 * its rows, its attempts and transitions, the PSP events about its PaymentIntents, the outbox events and the engine
 * runs, steps and jobs that name its attempts.
 */
async function dumpStuck(p: Platform, checkoutIds: string[], file: string): Promise<void> {
  const out: Record<string, unknown> = {};
  const ids = sql.join(checkoutIds.map((id) => sql`${id}`), sql`, `);
  const attempts = sql`select id from payment_attempts where checkout_id in (${ids})`;
  const refs = sql`select psp_reference from payment_attempts where checkout_id in (${ids})`;
  const runs = sql`select id from engine_runs where event::text like any (select '%' || id || '%' from payment_attempts where checkout_id in (${ids}))`;
  const queries: Record<string, SQL> = {
    checkouts: sql`select * from checkouts where id in (${ids})`,
    checkoutTransitions: sql`select * from checkout_transitions where checkout_id in (${ids}) order by created_at`,
    orders: sql`select id, checkout_id, status from payment_orders where checkout_id in (${ids})`,
    orderTransitions: sql`select t.* from payment_order_transitions t join payment_orders o on o.id = t.payment_order_id where o.checkout_id in (${ids}) order by t.created_at`,
    attempts: sql`select id, checkout_id, attempt_no, method, status, psp_reference, idempotency_key, created_at, last_submitted_at from payment_attempts where checkout_id in (${ids})`,
    attemptTransitions: sql`select * from payment_attempt_transitions where attempt_id in (${attempts}) order by created_at`,
    pspEvents: sql`select id, event_id, event_type, object_id, status, verdict, received_at, processed_at from psp_events where object_id in (${refs})`,
    outbox: sql`select * from outbox_events where data::text like any (select '%' || id || '%' from payment_attempts where checkout_id in (${ids})) or data::text like any (select '%' || id || '%' from psp_events where object_id in (${refs}))`,
    engineRuns: sql`select id, function_id, event_id, status, error, created_at, ended_at from engine_runs where id in (${runs})`,
    engineSteps: sql`select s.run_id, s.step_id, s.name, s.status, s.attempts from engine_steps s where s.run_id in (${runs})`,
    engineJobs: sql`select * from engine_jobs where run_id in (${runs})`,
    engineAttempts: sql`select * from engine_attempts where run_id in (${runs})`,
  };
  for (const [name, q] of Object.entries(queries)) {
    try {
      out[name] = await p.query(q);
    } catch (e) {
      out[name] = { error: describe(e) };
    }
  }
  await writeFile(file, JSON.stringify(out, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2));
}

async function main(): Promise<number> {
  const short = process.argv.includes("--short");
  const kills = positiveInt("--kills", short ? SHORT.kills : KILLS_DEFAULT);
  const checkouts = positiveInt("--checkouts", short ? SHORT.checkouts : kills * CHECKOUTS_PER_KILL_DEFAULT);
  const seed = positiveInt("--seed", 1);
  const maxRecoveryS = positiveInt("--max-recovery-s", MAX_RECOVERY_S_DEFAULT);
  const random = seededRandom(seed);
  if (!existsSync(path.join(ROOT, ".next/BUILD_ID"))) {
    console.error("No production build in .next: run `npm run build` first (npm run chaos runs the app with `next start`).");
    return 1;
  }
  const order = KILL_ORDER;

  const tmp = await mkdtemp(path.join(os.tmpdir(), "paybridge-chaos-"));
  await chmod(tmp, 0o755); // initdb runs as the postgres user (as root) and must reach the data dir
  const logs = path.join(tmp, "logs");
  mkdirSync(logs);
  const [appPort, enginePort, sandboxPort] = [await portArg("--app-port"), await portArg("--engine-port"), await portArg("--sandbox-port")];
  const urls = { app: `http://localhost:${appPort}`, engine: `http://127.0.0.1:${enginePort}`, sandbox: `http://127.0.0.1:${sandboxPort}` };
  log(`logs in ${logs}`);

  releaseEmbeddedPostgresSignalHooks();
  const pgDir = path.join(tmp, "pg");
  let platform: Platform | undefined;
  // Everything but the logs goes: the database cluster, the parts' temp files.
  const cleanup = async () => {
    await platform?.stop();
    for (const entry of readdirSync(tmp)) if (entry !== "logs") await rm(path.join(tmp, entry), { recursive: true, force: true }).catch(() => {});
  };
  process.on("exit", () => platform?.killAllSync());
  process.once("SIGINT", () => void cleanup().finally(() => process.exit(130)));
  process.once("SIGTERM", () => void cleanup().finally(() => process.exit(143)));

  try {
    log("starting Postgres, migrating, seeding the demo tenant…");
    platform = await preparePlatform(logs, pgDir, tmp, urls, { engine: enginePort, sandbox: sandboxPort });
    const p = platform;

    log(`starting the parts (app ${urls.app}, engine ${urls.engine}, sandbox ${urls.sandbox}, dispatcher)…`);
    await Promise.all([p.start("sandbox"), p.start("engine")]);
    await p.start("app");
    await p.start("dispatcher");
    await p.untilFunctionsSynced();

    const flow = new CardFlow(urls.app, RETRY);
    const run = `chaos_${Date.now().toString(36)}`;
    // One payment first: it finds the PSP the checkout page uses and warms every route on the way.
    const warm = await flow.createCheckout(`${run}_warmup`);
    const psp: Psp = await flow.discoverPsp(warm.checkoutId);
    await flow.payByCard(psp, warm.checkoutId);
    await flow.untilFinal(warm.orderIds, performance.now() + BUYER_CEILING_MS);

    const buyers: Promise<BuyerResult>[] = [];
    let started = 0;
    // Checkouts already reported (a buyer flow that gave up, or orders a previous recovery timed out on): left out
    // of later kills' in-flight sets, so one stuck checkout fails its own kill, not every kill after it.
    const reported = new Set<string>();
    const buyer = async (id: string): Promise<BuyerResult> => {
      const result: BuyerResult = { id };
      let step = "POST /api/v1/payments";
      try {
        const c = await flow.createCheckout(id);
        result.checkoutId = c.checkoutId;
        step = "card payment (prepareCard, the PSP's card field, submitCard)";
        await flow.payByCard(psp, c.checkoutId);
        step = "GET /api/v1/payments until final";
        result.outcomes = await flow.untilFinal(c.orderIds, performance.now() + BUYER_CEILING_MS);
      } catch (e) {
        result.error = `${step}: ${describe(e)}`;
        if (result.checkoutId) reported.add(result.checkoutId);
        log(`buyer ${id}${result.checkoutId ? ` (${result.checkoutId})` : ""} gave up at ${result.error}`);
      }
      return result;
    };
    const nonFinal = async (ids?: string[]) => {
      if (ids?.length === 0) return [];
      const where = and(notInArray(paymentOrders.status, ["SUCCESS", "FAILED"]), ids ? inArray(paymentOrders.id, ids) : undefined);
      const rows = await p.query<{ id: string; checkout_id: string }>(sql`select id, checkout_id from ${paymentOrders} where ${where}`, 600_000);
      return rows.filter((r) => !reported.has(r.checkout_id));
    };
    const inFlightOrders = async () => (await nonFinal()).map((r) => r.id);

    log(`${kills} kills (${order.join(", ")} in turn), ${checkouts} checkouts of ${ORDERS.length} orders, seed ${seed}`);
    const records: KillRecord[] = [];
    const recoveryCeilingMs = Math.max(3 * maxRecoveryS, 120) * 1000;
    for (let k = 0; k < kills; k++) {
      const target = order[k % order.length]!;
      const batch = Math.floor(((k + 1) * checkouts) / kills) - Math.floor((k * checkouts) / kills);
      for (let i = 0; i < batch; i++) buyers.push(buyer(`${run}_${started++}`));
      // Kill while the batch is in flight: once its first orders are stored, after a seeded pause.
      const storedBy = performance.now() + BATCH_STORED_TIMEOUT_MS;
      while ((await nonFinal()).length === 0 && performance.now() < storedBy) await sleep(50);
      await sleep(200 + random() * 1300);
      const inFlight = await inFlightOrders();
      const killedAt = performance.now();
      await p.kill(target);
      await sleep(500 + random() * 1500);
      const restartAt = performance.now();
      const readyMs = await p.restart(target);
      let recoveryMs: number | undefined;
      for (;;) {
        const left = await nonFinal(inFlight);
        if (left.length === 0) {
          recoveryMs = performance.now() - restartAt;
          break;
        }
        if (performance.now() - restartAt > recoveryCeilingMs) {
          for (const r of left) reported.add(r.checkout_id);
          const dump = path.join(logs, `stuck-kill-${k + 1}.json`);
          await dumpStuck(p, [...new Set(left.map((r) => r.checkout_id))], dump);
          log(`kill ${k + 1}: not final ${recoveryCeilingMs / 1000} s after the restart: ${left.map((r) => r.id).join(", ")} (their rows: ${dump})`);
          break;
        }
        await sleep(POLL_MS);
      }
      const record: KillRecord = { n: k + 1, target, inFlight: inFlight.length, downMs: restartAt - killedAt, readyMs, recoveryMs };
      records.push(record);
      log(`kill ${k + 1}/${kills}: ${target}, ${inFlight.length} orders in flight, down ${seconds(record.downMs)} s, ready in ${seconds(readyMs)} s, recovered in ${recoveryMs === undefined ? `> ${recoveryCeilingMs / 1000}` : seconds(recoveryMs)} s`);
    }

    log(`waiting for the ${buyers.length} buyers to finish…`);
    const results = await Promise.all(buyers);
    const settleDeadline = performance.now() + SETTLE_TIMEOUT_MS;
    while ((await inFlightOrders()).length > 0 && performance.now() < settleDeadline) await sleep(500);

    // ---- invariants ----
    const { checks, byStatus, orders } = await moneyChecks(p);

    const gaveUp = results.filter((r) => r.error);
    checks.push({ name: "no buyer flow gave up", ok: gaveUp.length === 0, detail: `${results.length} checkouts, ${gaveUp.length} gave up; ${flow.retried} calls retried` });

    const slow = records.filter((r) => r.recoveryMs === undefined || r.recoveryMs > maxRecoveryS * 1000);
    checks.push({ name: `every recovery <= ${maxRecoveryS} s`, ok: slow.length === 0, detail: `${slow.length} of ${records.length} kills slower${slow.length ? `: ${slow.map((r) => `#${r.n} ${r.target}`).join(", ")}` : ""}` });

    // ---- report ----
    console.log(`\nchaos: ${kills} kills, ${results.length} checkouts (${orders} orders: ${[...byStatus].map(([s, n]) => `${n} ${s}`).join(", ")}), seed ${seed}, ${os.availableParallelism()} cores\n`);
    console.log(table(["kill", "part", "in flight", "down s", "ready s", "recovery s"], records.map((r) => [String(r.n), r.target, String(r.inFlight), seconds(r.downMs), seconds(r.readyMs), r.inFlight === 0 ? "-" : r.recoveryMs === undefined ? `>${recoveryCeilingMs / 1000}` : seconds(r.recoveryMs)])));
    const perPart = order.map((t) => {
      const rs = records.filter((r) => r.target === t);
      const rec = rs.filter((r) => r.inFlight > 0).map((r) => r.recoveryMs ?? Infinity);
      return [t, String(rs.length), rec.length ? seconds(Math.max(...rec)) : "-", rec.length ? seconds(rec.reduce((a, b) => a + b, 0) / rec.length) : "-"];
    });
    console.log(`\n${table(["part", "kills", "max recovery s", "mean recovery s"], perPart)}`);
    console.log(`\n${table(["check", "ok", "detail"], checks.map((c) => [c.name, c.ok ? "ok" : "FAIL", c.detail]))}`);
    if (p.unplanned.length > 0) console.log(`\nParts that died by themselves and were restarted:\n  ${p.unplanned.join("\n  ")}`);
    if (gaveUp.length > 0) console.log(`\nBuyer flows that gave up, e.g.:\n  ${gaveUp.slice(0, ERRORS_SHOWN).map((r) => `${r.id}: ${r.error}`).join("\n  ")}`);
    console.log(`\nlogs: ${logs}`);
    return checks.every((c) => c.ok) ? 0 : 1;
  } catch (e) {
    console.error(`chaos run failed: ${describe(e)}\nlogs: ${logs}`);
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
