// Supervision for `npm run dev` (scripts/dev.ts): its children die with it, even when it is SIGKILLed; it notices
// when one of them dies; and a start reclaims what an earlier, killed start left behind, or refuses with a
// clear message. See README.md ("When npm run dev is killed").
//   - node children get NODE_OPTIONS=--require parent-watchdog.cjs (inherited by their own node children);
//   - the embedded Postgres (native) gets a detached pg-reaper.mjs that stops it when the orchestrator dies;
//   - each start records what it launched in .data/dev-processes-<port>.json (pid + start time + cmdline).
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { isSameProcess, processInfo } from "./proc";

const HERE = import.meta.dirname;
export const PARENT_WATCHDOG = path.join(HERE, "parent-watchdog.cjs");
export const PG_REAPER = path.join(HERE, "pg-reaper.mjs");
export const PID_POLL_MS = 500;
const RECLAIM_GRACE_MS = 10_000;

/** `env` for a node child so that it (and its node children) exit when their parent dies. */
export function withParentWatchdog(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const preload = `--require=${PARENT_WATCHDOG}`;
  const current = env.NODE_OPTIONS ?? "";
  return { ...env, NODE_OPTIONS: current.includes(preload) ? current : `${current} ${preload}`.trim() };
}

/** Calls `onOrphaned` once when this process's parent dies (the parent-watchdog logic, for the orchestrator itself). */
export function watchOwnParent(onOrphaned: () => void): () => void {
  const parent = process.ppid;
  if (parent <= 1) return () => {};
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onOrphaned();
  }, PID_POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** Calls `onExit` once when `pid` is no longer the process it was when this was called. */
export function watchPid(pid: number, onExit: () => void, intervalMs = PID_POLL_MS): () => void {
  const start = processInfo(pid)?.start;
  const check = () => start !== undefined && isSameProcess(pid, start);
  if (!check()) {
    queueMicrotask(onExit);
    return () => {};
  }
  const timer = setInterval(() => {
    if (check()) return;
    clearInterval(timer);
    onExit();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Starts the detached reaper of the postmaster `postmasterPid`: it stops it when this process dies (and removes
 * `removeDir`, for --ephemeral). It ends by itself when the postmaster stops. Returns the reaper's pid.
 */
export function startPostgresReaper(postmasterPid: number, removeDir?: string): number | undefined {
  const owner = processInfo(process.pid);
  const postmaster = processInfo(postmasterPid);
  if (!owner || !postmaster) return undefined;
  const spec = JSON.stringify({ ownerPid: process.pid, ownerStart: owner.start, postmasterPid, postmasterStart: postmaster.start, removeDir });
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // no watchdog (it must outlive us) and no tsx loader
  const child = spawn(process.execPath, [PG_REAPER, spec], { detached: true, stdio: "ignore", env });
  child.unref();
  return child.pid;
}

export interface LaunchedProcess {
  role: string;
  pid: number;
  start: string;
  cmdline: string;
}

export interface DevRecord {
  orchestrator: LaunchedProcess;
  ports: Record<string, number>;
  processes: LaunchedProcess[];
  /** --ephemeral's temp dir: removed when a later start reclaims this one. */
  tmpDir?: string;
}

export function describeProcess(role: string, pid: number | undefined): LaunchedProcess | undefined {
  const info = pid === undefined ? undefined : processInfo(pid);
  return info ? { role, pid: info.pid, start: info.start, cmdline: info.cmdline } : undefined;
}

/** Where a start on app port `port` records what it launched (one file per port: e2e and dev can run side by side). */
export function devRecordFile(dataDir: string, port: number): string {
  return path.join(dataDir, `dev-processes-${port}.json`);
}

/** Written whole or not at all (a temp file renamed over it): a reader never sees half a record. */
export async function writeDevRecord(file: string, record: DevRecord): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(record, null, 2));
  await rename(tmp, file);
}

export function readDevRecord(file: string): DevRecord | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as DevRecord;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Before a start: what an earlier start on the same port recorded. Its orchestrator still running: refuse (that
 * is another `npm run dev`). Otherwise stop each recorded process that is provably the same one (pid alive with
 * the recorded start time and command line), remove its temp dir and the record. Returns what it stopped.
 */
export async function reclaimLeftovers(file: string, log: (m: string) => void = () => {}): Promise<LaunchedProcess[]> {
  const record = readDevRecord(file);
  if (!record) return [];
  const o = record.orchestrator;
  if (o.pid !== process.pid && isSameProcess(o.pid, o.start, o.cmdline)) {
    const ports = Object.entries(record.ports).map(([k, v]) => `${k} ${v}`).join(", ");
    throw new Error(`Another npm run dev is running (pid ${o.pid}: ${o.cmdline.slice(0, 160)}; ${ports}). Stop it first (Ctrl-C, or kill ${o.pid}).`);
  }
  const mine = record.processes.filter((p) => isSameProcess(p.pid, p.start, p.cmdline));
  for (const p of mine) {
    log(`[dev] stopping ${p.role} (pid ${p.pid}) left by an earlier start`);
    try {
      process.kill(p.pid, p.role === "postgres" ? "SIGINT" : "SIGTERM");
    } catch {
      /* gone meanwhile */
    }
  }
  const deadline = Date.now() + RECLAIM_GRACE_MS;
  while (mine.some((p) => isSameProcess(p.pid, p.start)) && Date.now() < deadline) await sleep(100);
  for (const p of mine) {
    if (!isSameProcess(p.pid, p.start)) continue;
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      /* gone meanwhile */
    }
  }
  while (mine.some((p) => isSameProcess(p.pid, p.start)) && Date.now() < deadline + RECLAIM_GRACE_MS) await sleep(100);
  if (record.tmpDir) await rm(record.tmpDir, { recursive: true, force: true });
  await rm(file, { force: true });
  return mine;
}
