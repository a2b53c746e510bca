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
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, createWriteStream, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync } from "node:fs";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { and, inArray, notInArray, sql, type SQL } from "drizzle-orm";
import { seededRandom } from "../sandbox/faults";
import { createDb, type DbHandle } from "../db/client";
import { ensureDatabase, releaseEmbeddedPostgresSignalHooks, startEmbeddedPostgres, type EmbeddedPostgresHandle } from "../db/embedded";
import { runMigrations } from "../db/migrate";
import { generateSigningKey } from "../inngest/engine/protocol";
import { paymentOrders } from "../db/schema";
import { DEMO, seedDemo } from "../scripts/seed-demo";
import { checkLedgerInvariants, verifyLedger } from "../server/ledger";
import { createStripeClient } from "../server/psp/stripe/client";
import { env as ownEnv } from "../server/env.js";
import { arg, CardFlow, describe, freePort, ORDERS, positiveInt, sleep, table, type OrderOutcome, type Psp } from "./card-flow";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const APP_DATABASE = "paybridge";
const KILLS_DEFAULT = 15;
const CHECKOUTS_PER_KILL_DEFAULT = 10;
const SHORT = { kills: 5, checkouts: 30 };
const MAX_RECOVERY_S_DEFAULT = 30;
/** Generous ceilings: nothing here may hang, however loaded the machine. */
const PART_READY_TIMEOUT_MS = 180_000;
const FUNCTIONS_SYNC_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 15_000;
const BUYER_CEILING_MS = 300_000;
const SETTLE_TIMEOUT_MS = 180_000;
const POLL_MS = 250;
const BATCH_STORED_TIMEOUT_MS = 30_000;
/** Restart=on-failure with RestartSec=1, at most RESTART_TRIES in a row for a planned restart. */
const SUPERVISOR_RESTART_MS = 1000;
const RESTART_TRIES = 3;
/** Every HTTP call of the buyer/merchant flow: retried with backoff while a part is down. */
const RETRY = { ceilingMs: 180_000, baseMs: 200, maxMs: 2_000 };
/** Lifted API limits: the run measures recovery, not the limiter. */
const RATE_LIMIT = "1000000";
type Part = "app" | "engine" | "dispatcher" | "sandbox";
type Target = Part | "postmaster";
const KILL_ORDER: Target[] = ["app", "engine", "dispatcher", "sandbox", "postmaster"];
const ERRORS_SHOWN = 8;


const log = (m: string) => console.error(`[chaos] ${m}`);
const seconds = (ms: number) => (ms / 1000).toFixed(1);

interface Child {
  part: Part;
  proc: ChildProcess;
  exited: Promise<void>;
  /** Set before a planned kill or the final stop: its exit is then no failure. */
  expected: boolean;
  /** Logged its ready line; an exit before that is start()'s failure, not the supervisor's. */
  ready: boolean;
}

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

class Platform {
  readonly children = new Map<Part, Child>();
  readonly unplanned: string[] = [];
  pg: EmbeddedPostgresHandle | undefined;
  private handle: DbHandle | undefined;
  private stopping = false;

  constructor(
    readonly tmp: string,
    readonly logs: string,
    readonly pgDir: string,
    readonly env: NodeJS.ProcessEnv,
    readonly urls: { app: string; engine: string; sandbox: string },
  ) {}

  /** The harness's own connection; closed around a postmaster kill and reopened. */
  db() {
    if (!this.handle) this.handle = createDb(this.env.DATABASE_URL!, { max: 3 });
    return this.handle.db;
  }
  async closeDb(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    await h?.close().catch(() => {});
  }
  /** A query that waits out a database that is briefly away. */
  async query<T>(q: SQL, ceilingMs = 60_000): Promise<T[]> {
    const deadline = performance.now() + ceilingMs;
    for (;;) {
      try {
        return (await this.db().execute(q)) as unknown as T[];
      } catch (e) {
        if (performance.now() > deadline) throw e;
        await sleep(500);
      }
    }
  }

  async startPostgres(port?: number): Promise<void> {
    const pgLog = createWriteStream(path.join(this.logs, "postgres.log"), { flags: "a" });
    const deadline = performance.now() + PART_READY_TIMEOUT_MS;
    for (;;) {
      try {
        this.pg = await startEmbeddedPostgres({ dir: this.pgDir, port, fast: true, commitsSurviveKill: true, log: (l) => pgLog.write(`${l}\n`) });
        if (port !== undefined && this.pg.port !== port) throw new Error(`Postgres came back on port ${this.pg.port}, not ${port}`);
        return;
      } catch (e) {
        // The killed postmaster's backends may still hold its shared memory for a moment.
        if (performance.now() > deadline) throw e;
        pgLog.write(`[chaos] start failed, retrying: ${describe(e)}\n`);
        await sleep(1000);
      }
    }
  }

  /** The running postmaster's pid (the handle of the last start). */
  postmasterPid(): number {
    return this.pg!.pid!;
  }

  /** Spawns the part's start command; resolves with the time it took to log its ready line. */
  async start(part: Part): Promise<number> {
    const file = path.join(this.logs, `${part}.log`);
    const fd = openSync(file, "a");
    const offset = statSync(file).size;
    const t0 = performance.now();
    const proc = spawn(process.execPath, ["--import", "tsx", `scripts/start/${part}.ts`], { cwd: ROOT, env: this.env, stdio: ["ignore", fd, fd] as ["ignore", number, number], detached: true });
    closeSync(fd);
    const child: Child = { part, proc, expected: false, ready: false, exited: new Promise((r) => proc.once("exit", () => r())) };
    this.children.set(part, child);
    proc.once("exit", (code, signal) => {
      // Only the part's current process is supervised: a planned kill and restart may have replaced it.
      if (!child.ready || child.expected || this.stopping || this.children.get(part) !== child) return;
      const what = `${part} exited by itself (${signal ?? `code ${code}`}) at ${new Date().toISOString()}`;
      this.unplanned.push(what);
      log(`${what}; restarting it as a supervisor would`);
      void sleep(SUPERVISOR_RESTART_MS).then(() => {
        if (this.stopping || this.children.get(part) !== child) return;
        this.restart(part).catch((e: unknown) => log(`restart of ${part} failed: ${describe(e)}`));
      });
    });
    const deadline = t0 + PART_READY_TIMEOUT_MS;
    for (;;) {
      const text = readFileSync(file, "utf8").slice(offset);
      if (text.includes(`[${part}] ready:`)) {
        child.ready = true;
        return performance.now() - t0;
      }
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${part} exited before it was ready; see ${file}`);
      if (performance.now() > deadline) {
        child.expected = true;
        signalGroup(proc.pid!, "SIGKILL");
        throw new Error(`${part} not ready within ${PART_READY_TIMEOUT_MS / 1000} s; see ${file}`);
      }
      await sleep(100);
    }
  }

  async kill(target: Target): Promise<void> {
    if (target === "postmaster") {
      const pid = this.postmasterPid();
      await this.closeDb();
      process.kill(pid, "SIGKILL");
      // Wait until it is gone (and its port with it).
      for (let i = 0; i < 100; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          return;
        }
        await sleep(100);
      }
      return;
    }
    const child = this.children.get(target)!;
    child.expected = true;
    signalGroup(child.proc.pid!, "SIGKILL");
    await child.exited;
  }

  async restart(target: Target): Promise<number> {
    const t0 = performance.now();
    if (target === "postmaster") {
      await this.startPostgres(this.pg!.port);
      return performance.now() - t0;
    }
    // As a supervisor would: a start that fails is tried again.
    for (let n = 1; ; n++) {
      try {
        return await this.start(target);
      } catch (e) {
        if (n >= RESTART_TRIES) throw e;
        log(`restart of ${target} failed (${describe(e)}); trying again`);
        await sleep(SUPERVISOR_RESTART_MS);
      }
    }
  }

  /** SIGTERM to every part (graceful), SIGKILL after a grace; then Postgres. Never throws. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.children.values()].map(async (c) => {
        c.expected = true;
        if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
        if (!signalGroup(c.proc.pid!, "SIGTERM")) return;
        const timer = setTimeout(() => signalGroup(c.proc.pid!, "SIGKILL"), STOP_GRACE_MS);
        await c.exited;
        clearTimeout(timer);
      }),
    );
    await this.closeDb();
    await this.pg?.stop().catch((e: unknown) => log(`stopping Postgres failed: ${describe(e)}`));
  }

  /** Last resort on exit: SIGKILL whatever is left, synchronously. */
  killAllSync(): void {
    for (const c of this.children.values()) signalGroup(c.proc.pid!, "SIGKILL");
    try {
      // Only while its pid file says it runs: a pid from a postmaster already gone could be someone else's now.
      if (this.pg?.pid && existsSync(path.join(this.pgDir, "postmaster.pid"))) process.kill(this.pg.pid, "SIGKILL");
    } catch {
      // gone
    }
  }
}

/** Signals a part's whole process group; false when it is already gone. */
function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
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
    const boot = new Platform(tmp, logs, pgDir, { NODE_ENV: "production" }, urls);
    await boot.startPostgres();
    await ensureDatabase(boot.pg!.url, APP_DATABASE);
    const databaseUrl = boot.pg!.databaseUrl(APP_DATABASE);
    await runMigrations(databaseUrl);
    const seedHandle = createDb(databaseUrl, { max: 1 });
    await seedDemo(seedHandle.db).finally(() => seedHandle.close());

    const childEnv: NodeJS.ProcessEnv = {
      // eslint-disable-next-line no-restricted-properties
      ...process.env,
      // Configured through the environment like any deployment; "" means unset (server/env.js).
      NODE_ENV: "production",
      DATABASE_URL: databaseUrl,
      EMBEDDED_DATABASE: "true",
      PORT: String(appPort),
      APP_URL: urls.app,
      AUTH_SECRET: randomBytes(32).toString("base64url"),
      AUTH_TRUST_HOST: "true",
      AUTH_URL: "",
      PSP_MODE: "sandbox",
      SANDBOX_PORT: String(sandboxPort),
      SANDBOX_URL: urls.sandbox,
      STRIPE_API_BASE: "",
      DARAJA_API_BASE: "",
      // The local engine as production runs it: INNGEST_DEV is refused there (server/startup/guard.ts).
      INNGEST_BASE_URL: urls.engine,
      INNGEST_LOCAL_ENGINE: "true",
      INNGEST_DEV: "",
      INNGEST_ENGINE_PORT: String(enginePort),
      INNGEST_SIGNING_KEY: generateSigningKey("chaos", randomBytes),
      INNGEST_SIGNING_KEY_FALLBACK: "",
      INNGEST_EVENT_KEY: randomBytes(24).toString("base64url"),
      API_RATE_LIMIT_PER_KEY: RATE_LIMIT,
      API_RATE_LIMIT_PER_IP: RATE_LIMIT,
      CHECKOUT_RATE_LIMIT_PER_IP: RATE_LIMIT,
      LOG_LEVEL: "info",
      NEXT_TELEMETRY_DISABLED: "1",
      TMPDIR: tmp,
    };
    platform = new Platform(tmp, logs, pgDir, childEnv, urls);
    platform.pg = boot.pg;
    const p = platform;

    log(`starting the parts (app ${urls.app}, engine ${urls.engine}, sandbox ${urls.sandbox}, dispatcher)…`);
    await Promise.all([p.start("sandbox"), p.start("engine")]);
    await p.start("app");
    await p.start("dispatcher");
    const syncDeadline = performance.now() + FUNCTIONS_SYNC_TIMEOUT_MS;
    while ((await p.query<{ n: number }>(sql`select count(*)::int as n from engine_functions where active = 1`))[0]!.n === 0) {
      if (performance.now() > syncDeadline) throw new Error(`the engine did not sync the app's functions within ${FUNCTIONS_SYNC_TIMEOUT_MS / 1000} s; see ${logs}/engine.log`);
      await sleep(POLL_MS);
    }

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
    const checks: { name: string; ok: boolean; detail: string }[] = [];
    const db = p.db();
    const orders = await p.query<{ id: string; checkout_id: string; status: string; payment_order_id: string }>(sql`select id, checkout_id, status, payment_order_id from payment_orders where merchant_id = ${DEMO.merchant.id}`);
    const byStatus = new Map<string, number>();
    for (const o of orders) byStatus.set(o.status, (byStatus.get(o.status) ?? 0) + 1);
    const successCheckouts = new Set(orders.filter((o) => o.status === "SUCCESS").map((o) => o.checkout_id));
    const allCheckouts = new Set(orders.map((o) => o.checkout_id));

    // PSP: the sandbox's own record of charges, through the stripe SDK with the secret key.
    const stripe = createStripeClient({ apiKey: ownEnv.STRIPE_SECRET_KEY, apiBase: urls.sandbox, timeoutMs: 30_000 });
    const chargesByPi = new Map<string, number>();
    for await (const ch of stripe.charges.list({ limit: 100 })) {
      if (ch.status !== "succeeded" || typeof ch.payment_intent !== "string") continue;
      chargesByPi.set(ch.payment_intent, (chargesByPi.get(ch.payment_intent) ?? 0) + 1);
    }
    const attempts = await p.query<{ checkout_id: string; psp_reference: string }>(sql`select checkout_id, psp_reference from payment_attempts where psp = 'stripe' and psp_reference is not null`);
    const chargesByCheckout = new Map<string, number>();
    const knownPis = new Set<string>();
    for (const a of attempts) {
      knownPis.add(a.psp_reference);
      chargesByCheckout.set(a.checkout_id, (chargesByCheckout.get(a.checkout_id) ?? 0) + (chargesByPi.get(a.psp_reference) ?? 0));
    }
    const notOnce = [...successCheckouts].filter((c) => chargesByCheckout.get(c) !== 1);
    const chargedNotSuccess = [...allCheckouts].filter((c) => !successCheckouts.has(c) && (chargesByCheckout.get(c) ?? 0) > 0);
    const strayCharges = [...chargesByPi.keys()].filter((pi) => !knownPis.has(pi));
    const [{ n: doubleCharges }] = await p.query<{ n: number }>(sql`select count(*)::int as n from double_charges`) as [{ n: number }];
    checks.push({
      name: "one PSP charge per SUCCESS checkout",
      ok: notOnce.length === 0 && chargedNotSuccess.length === 0 && strayCharges.length === 0,
      detail: `${successCheckouts.size} SUCCESS checkouts; not charged exactly once: ${notOnce.length}${notOnce.length ? ` (${notOnce.slice(0, 3).join(", ")})` : ""}; charged but not SUCCESS: ${chargedNotSuccess.length}; charges of unknown PaymentIntents: ${strayCharges.length}; double charges recorded: ${doubleCharges}`,
    });

    const ledger = await p.query<{ id: string; status: string; n: number }>(sql`select o.id, o.status::text as status, count(t.id)::int as n from payment_orders o left join ledger_transactions t on t.source = 'payment_order' and t.source_id = o.id group by o.id, o.status`);
    const badLedger = ledger.filter((r) => (r.status === "SUCCESS" ? r.n !== 1 : r.n !== 0));
    checks.push({ name: "one ledger transaction per SUCCESS order", ok: badLedger.length === 0, detail: `${ledger.filter((r) => r.status === "SUCCESS").length} SUCCESS orders; wrong count: ${badLedger.length}${badLedger.length ? ` (${badLedger.slice(0, 3).map((r) => `${r.id} ${r.status} ${r.n}`).join(", ")})` : ""}` });

    const inv = await checkLedgerInvariants(db);
    checks.push({ name: "no drift (ledger:check)", ok: inv.ok, detail: `${inv.accountsChecked} accounts; drifts ${inv.drifts.length}, unbalanced ${inv.unbalancedTransactions.length}, negative ${inv.negativeAccounts.length}, hold mismatches ${inv.holdMismatches.length}` });
    const chain = await verifyLedger(db, {});
    checks.push({ name: "hash chains intact (ledger:verify)", ok: chain.ok, detail: JSON.stringify(chain, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)).slice(0, 200) });

    // Not final: must be in front of ops (review queue, an open exception on one of its checkout's attempts, a double
    // charge). The ops queue is the app's own ops_exceptions rows; the engine's dead letters are only a debugging aid.
    const stuck = await p.query<{ id: string; checkout_id: string; status: string; checkout_status: string }>(sql`
      select o.id, o.checkout_id, o.status::text as status, c.status::text as checkout_status
      from payment_orders o join checkouts c on c.id = o.checkout_id
      where o.status not in ('SUCCESS', 'FAILED')
        and c.status not in ('review', 'blocked')
        and not exists (select 1 from double_charges d where d.checkout_id = o.checkout_id)
        and not exists (
          select 1 from ops_exceptions x join payment_attempts a on a.id = x.subject_id
          where x.subject_type in ('payment_attempt', 'payment_cancel') and x.status in ('open', 'retrying')
            and a.checkout_id = o.checkout_id)`);
    const [{ n: openExceptions }] = await p.query<{ n: number }>(sql`select count(*)::int as n from ops_exceptions where status in ('open', 'retrying')`) as [{ n: number }];
    const notFinalCount = orders.length - (byStatus.get("SUCCESS") ?? 0) - (byStatus.get("FAILED") ?? 0);
    checks.push({ name: "every order final or visible in ops", ok: stuck.length === 0, detail: `${notFinalCount} not final, of which in no ops queue: ${stuck.length}${stuck.length ? ` (${stuck.slice(0, 3).map((s) => `${s.id} ${s.status}/${s.checkout_status}`).join(", ")})` : ""}; open exceptions ${openExceptions}` });

    const gaveUp = results.filter((r) => r.error);
    checks.push({ name: "no buyer flow gave up", ok: gaveUp.length === 0, detail: `${results.length} checkouts, ${gaveUp.length} gave up; ${flow.retried} calls retried` });

    const slow = records.filter((r) => r.recoveryMs === undefined || r.recoveryMs > maxRecoveryS * 1000);
    checks.push({ name: `every recovery <= ${maxRecoveryS} s`, ok: slow.length === 0, detail: `${slow.length} of ${records.length} kills slower${slow.length ? `: ${slow.map((r) => `#${r.n} ${r.target}`).join(", ")}` : ""}` });

    // ---- report ----
    console.log(`\nchaos: ${kills} kills, ${results.length} checkouts (${orders.length} orders: ${[...byStatus].map(([s, n]) => `${n} ${s}`).join(", ")}), seed ${seed}, ${os.availableParallelism()} cores\n`);
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
