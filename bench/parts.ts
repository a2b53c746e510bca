/**
 * The platform as an operator runs it, for the benches that start, kill and count its processes (bench/chaos.ts,
 * bench/scaleout.ts): a throwaway embedded Postgres in a temp dir (fsync off, commits synchronous: an acknowledged
 * commit survives the postmaster's kill, as in production), migrated and seeded with the demo tenant, and each
 * part as a separate process through its production start command (scripts/start/*.ts), in its own process group
 * so a kill takes all of it (next-server too). A part that dies by itself is restarted as a supervisor would
 * (Restart=on-failure) and reported. After the run, `moneyChecks` says whether any money was lost or doubled.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, createWriteStream, existsSync, openSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { sql, type SQL } from "drizzle-orm";
import { createDb, type DbHandle } from "../db/client";
import { ensureDatabase, startEmbeddedPostgres, type EmbeddedPostgresHandle } from "../db/embedded";
import { runMigrations } from "../db/migrate";
import { generateSigningKey } from "../inngest/engine/protocol";
import { DEMO, seedDemo } from "../scripts/seed-demo";
import { checkLedgerInvariants, verifyLedger } from "../server/ledger";
import { createStripeClient } from "../server/psp/stripe/client";
import { env as ownEnv } from "../server/env.js";
import { describe, sleep } from "./card-flow";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const APP_DATABASE = "paybridge";
/** Generous ceilings: nothing here may hang, however loaded the machine. */
const PART_READY_TIMEOUT_MS = 180_000;
const FUNCTIONS_SYNC_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 15_000;
const POLL_MS = 250;
/** Restart=on-failure with RestartSec=1, at most RESTART_TRIES in a row for a planned restart. */
const SUPERVISOR_RESTART_MS = 1000;
const RESTART_TRIES = 3;
/** Lifted API limits: the benches measure the platform, not the limiter. */
const RATE_LIMIT = "1000000";

export type Part = "app" | "engine" | "dispatcher" | "sandbox";

const log = (m: string) => console.error(`[parts] ${m}`);

interface Child {
  part: Part;
  /** Environment on top of the platform's (a second app instance's PORT). */
  env: Record<string, string>;
  proc: ChildProcess;
  exited: Promise<void>;
  /** Set before a planned kill or the final stop: its exit is then no failure. */
  expected: boolean;
  /** Logged its ready line; an exit before that is start()'s failure, not the supervisor's. */
  ready: boolean;
}

export interface PlatformUrls {
  /** APP_URL: where buyers, merchants, the engine and the PSP reach the app (one instance, or a proxy in front of several). */
  app: string;
  engine: string;
  sandbox: string;
}

export class Platform {
  /** By instance name: the part's own name, or a name given at start ("app2"). */
  readonly children = new Map<string, Child>();
  readonly unplanned: string[] = [];
  pg: EmbeddedPostgresHandle | undefined;
  private handle: DbHandle | undefined;
  private stopping = false;

  constructor(
    readonly logs: string,
    readonly pgDir: string,
    readonly env: NodeJS.ProcessEnv,
    readonly urls: PlatformUrls,
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
        pgLog.write(`[parts] start failed, retrying: ${describe(e)}\n`);
        await sleep(1000);
      }
    }
  }

  /** The running postmaster's pid (the handle of the last start). */
  postmasterPid(): number {
    return this.pg!.pid!;
  }

  /**
   * Spawns the part's start command as instance `name` (default: the part), with `env` on top of the platform's;
   * resolves with the time it took to log its ready line. Its output goes to `<logs>/<name>.log`.
   */
  async start(part: Part, opts: { name?: string; env?: Record<string, string> } = {}): Promise<number> {
    const name = opts.name ?? part;
    const file = path.join(this.logs, `${name}.log`);
    const fd = openSync(file, "a");
    const offset = statSync(file).size;
    const t0 = performance.now();
    const extra = opts.env ?? {};
    const proc = spawn(process.execPath, ["--import", "tsx", `scripts/start/${part}.ts`], { cwd: ROOT, env: { ...this.env, ...extra }, stdio: ["ignore", fd, fd] as ["ignore", number, number], detached: true });
    closeSync(fd);
    const child: Child = { part, env: extra, proc, expected: false, ready: false, exited: new Promise((r) => proc.once("exit", () => r())) };
    this.children.set(name, child);
    proc.once("exit", (code, signal) => {
      // Only the instance's current process is supervised: a planned kill and restart may have replaced it.
      if (!child.ready || child.expected || this.stopping || this.children.get(name) !== child) return;
      const what = `${name} exited by itself (${signal ?? `code ${code}`}) at ${new Date().toISOString()}`;
      this.unplanned.push(what);
      log(`${what}; restarting it as a supervisor would`);
      void sleep(SUPERVISOR_RESTART_MS).then(() => {
        if (this.stopping || this.children.get(name) !== child) return;
        this.restart(name).catch((e: unknown) => log(`restart of ${name} failed: ${describe(e)}`));
      });
    });
    const deadline = t0 + PART_READY_TIMEOUT_MS;
    for (;;) {
      const text = readFileSync(file, "utf8").slice(offset);
      if (text.includes(`[${part}] ready:`)) {
        child.ready = true;
        return performance.now() - t0;
      }
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${name} exited before it was ready; see ${file}`);
      if (performance.now() > deadline) {
        child.expected = true;
        signalGroup(proc.pid!, "SIGKILL");
        throw new Error(`${name} not ready within ${PART_READY_TIMEOUT_MS / 1000} s; see ${file}`);
      }
      await sleep(100);
    }
  }

  /** Until the engine has synced the app's functions: an event sent before that starts no run. */
  async untilFunctionsSynced(): Promise<void> {
    const deadline = performance.now() + FUNCTIONS_SYNC_TIMEOUT_MS;
    while ((await this.query<{ n: number }>(sql`select count(*)::int as n from engine_functions where active = 1`))[0]!.n === 0) {
      if (performance.now() > deadline) throw new Error(`the engine did not sync the app's functions within ${FUNCTIONS_SYNC_TIMEOUT_MS / 1000} s; see ${this.logs}/engine.log`);
      await sleep(POLL_MS);
    }
  }

  /** SIGKILLs an instance (its whole process group), or the postmaster. */
  async kill(target: string): Promise<void> {
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

  /** Starts a killed instance (or the postmaster) again, as a supervisor would: a start that fails is tried again. */
  async restart(target: string): Promise<number> {
    const t0 = performance.now();
    if (target === "postmaster") {
      await this.startPostgres(this.pg!.port);
      return performance.now() - t0;
    }
    const { part, env } = this.children.get(target)!;
    for (let n = 1; ; n++) {
      try {
        return await this.start(part, { name: target, env });
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

/**
 * Postgres started in `pgDir`, migrated and seeded with the demo tenant, and the platform around it configured
 * through the environment as a production deployment is (the parts are not started yet). The app's PORT is the
 * port of `urls.app`; a bench that puts a proxy there gives each app instance its own PORT at start.
 */
export async function preparePlatform(logs: string, pgDir: string, tmp: string, urls: PlatformUrls, ports: { engine: number; sandbox: number }): Promise<Platform> {
  const boot = new Platform(logs, pgDir, { NODE_ENV: "production" }, urls);
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
    PORT: new URL(urls.app).port,
    APP_URL: urls.app,
    AUTH_SECRET: randomBytes(32).toString("base64url"),
    AUTH_TRUST_HOST: "true",
    AUTH_URL: "",
    PSP_MODE: "sandbox",
    SANDBOX_PORT: String(ports.sandbox),
    SANDBOX_URL: urls.sandbox,
    STRIPE_API_BASE: "",
    DARAJA_API_BASE: "",
    // The local engine as production runs it: INNGEST_DEV is refused there (server/startup/guard.ts).
    INNGEST_BASE_URL: urls.engine,
    INNGEST_LOCAL_ENGINE: "true",
    INNGEST_DEV: "",
    INNGEST_ENGINE_PORT: String(ports.engine),
    INNGEST_SIGNING_KEY: generateSigningKey("bench", randomBytes),
    INNGEST_SIGNING_KEY_FALLBACK: "",
    INNGEST_EVENT_KEY: randomBytes(24).toString("base64url"),
    API_RATE_LIMIT_PER_KEY: RATE_LIMIT,
    API_RATE_LIMIT_PER_IP: RATE_LIMIT,
    CHECKOUT_RATE_LIMIT_PER_IP: RATE_LIMIT,
    LOG_LEVEL: "info",
    NEXT_TELEMETRY_DISABLED: "1",
    TMPDIR: tmp,
  };
  const platform = new Platform(logs, pgDir, childEnv, urls);
  platform.pg = boot.pg;
  return platform;
}

/** Signals a part's whole process group; false when it is already gone. */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/**
 * Whether money was lost or doubled, from every side, once the run has settled: exactly one succeeded PSP charge
 * per checkout whose orders are SUCCESS and none for the others (the sandbox's own record, through the stripe SDK),
 * one ledger transaction per SUCCESS order and none for the others, no drift (ledger:check), the hash chains
 * intact (ledger:verify), and no order that is neither final nor in front of ops (review queue, an open exception
 * on its checkout's attempts, a double charge).
 */
export async function moneyChecks(p: Platform): Promise<{ checks: Check[]; byStatus: Map<string, number>; orders: number }> {
  const checks: Check[] = [];
  const orders = await p.query<{ id: string; checkout_id: string; status: string }>(sql`select id, checkout_id, status from payment_orders where merchant_id = ${DEMO.merchant.id}`);
  const byStatus = new Map<string, number>();
  for (const o of orders) byStatus.set(o.status, (byStatus.get(o.status) ?? 0) + 1);
  const successCheckouts = new Set(orders.filter((o) => o.status === "SUCCESS").map((o) => o.checkout_id));
  const allCheckouts = new Set(orders.map((o) => o.checkout_id));

  const stripe = createStripeClient({ apiKey: ownEnv.STRIPE_SECRET_KEY, apiBase: p.urls.sandbox, timeoutMs: 30_000 });
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
  const [{ n: doubleCharges }] = (await p.query<{ n: number }>(sql`select count(*)::int as n from double_charges`)) as [{ n: number }];
  checks.push({
    name: "one PSP charge per SUCCESS checkout",
    ok: notOnce.length === 0 && chargedNotSuccess.length === 0 && strayCharges.length === 0,
    detail: `${successCheckouts.size} SUCCESS checkouts; not charged exactly once: ${notOnce.length}${notOnce.length ? ` (${notOnce.slice(0, 3).join(", ")})` : ""}; charged but not SUCCESS: ${chargedNotSuccess.length}; charges of unknown PaymentIntents: ${strayCharges.length}; double charges recorded: ${doubleCharges}`,
  });

  const ledger = await p.query<{ id: string; status: string; n: number }>(sql`select o.id, o.status::text as status, count(t.id)::int as n from payment_orders o left join ledger_transactions t on t.source = 'payment_order' and t.source_id = o.id group by o.id, o.status`);
  const badLedger = ledger.filter((r) => (r.status === "SUCCESS" ? r.n !== 1 : r.n !== 0));
  checks.push({ name: "one ledger transaction per SUCCESS order", ok: badLedger.length === 0, detail: `${ledger.filter((r) => r.status === "SUCCESS").length} SUCCESS orders; wrong count: ${badLedger.length}${badLedger.length ? ` (${badLedger.slice(0, 3).map((r) => `${r.id} ${r.status} ${r.n}`).join(", ")})` : ""}` });

  const db = p.db();
  const inv = await checkLedgerInvariants(db);
  checks.push({ name: "no drift (ledger:check)", ok: inv.ok, detail: `${inv.accountsChecked} accounts; drifts ${inv.drifts.length}, unbalanced ${inv.unbalancedTransactions.length}, negative ${inv.negativeAccounts.length}, hold mismatches ${inv.holdMismatches.length}` });
  const chain = await verifyLedger(db, {});
  checks.push({ name: "hash chains intact (ledger:verify)", ok: chain.ok, detail: JSON.stringify(chain, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)).slice(0, 200) });

  // The ops queue is the app's own ops_exceptions rows; the engine's dead letters are only a debugging aid.
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
  const [{ n: openExceptions }] = (await p.query<{ n: number }>(sql`select count(*)::int as n from ops_exceptions where status in ('open', 'retrying')`)) as [{ n: number }];
  const notFinalCount = orders.length - (byStatus.get("SUCCESS") ?? 0) - (byStatus.get("FAILED") ?? 0);
  checks.push({ name: "every order final or visible in ops", ok: stuck.length === 0, detail: `${notFinalCount} not final, of which in no ops queue: ${stuck.length}${stuck.length ? ` (${stuck.slice(0, 3).map((s) => `${s.id} ${s.status}/${s.checkout_status}`).join(", ")})` : ""}; open exceptions ${openExceptions}` });
  return { checks, byStatus, orders: orders.length };
}
