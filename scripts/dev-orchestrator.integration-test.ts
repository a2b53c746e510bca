// `npm run dev`'s supervision (issue 10): the real orchestrator (scripts/dev.ts --ephemeral: a real embedded
// Postgres, the real sandbox and outbox dispatcher) with a real node stand-in for next (it forks a server
// process and outlives it, as `next dev` does; --app-script), so the suite does not compile the app. Each test
// kills a part with SIGKILL and checks what the orchestrator does. Ports 3300-3399.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@/sandbox/testing";
import { devRecordFile, type DevRecord } from "./supervise";
import { isSameProcess, listenersOf } from "./supervise/proc";

const STAND_IN = "scripts/supervise/testing/standin-app.mjs";
const GONE_CEILING_MS = 30_000;
const START_CEILING_MS = 90_000;
let tmp: string;
const started: ChildProcess[] = [];

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "paybridge-dev-test-"));
});
afterEach(async () => {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

interface Dev {
  child: ChildProcess;
  exited: Promise<number | null>;
  output: () => string;
  port: number;
}

/** `viaTsxCli`: as `npm run dev` runs it, under the tsx CLI (which runs scripts/dev.ts in a child node process). */
function startDev(port: number, extra: string[] = [], viaTsxCli = false): Dev {
  let out = "";
  const runner = viaTsxCli ? ["node_modules/tsx/dist/cli.mjs"] : ["--import", "tsx"];
  const child = spawn(process.execPath, [...runner, "scripts/dev.ts", "--ephemeral", "--port", String(port), "--state-file", path.join(tmp, `state-${port}.json`), "--app-script", STAND_IN, ...extra], {
    env: { ...process.env, DATABASE_URL: "", NODE_ENV: "development", SANDBOX_PORT: "12331", INNGEST_ENGINE_PORT: "8331", NEXT_TELEMETRY_DISABLED: "1", LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.push(child);
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (out += c.toString()));
  return { child, exited: new Promise((r) => child.once("exit", (code) => r(code))), output: () => out, port };
}

const health = (port: number) => new Promise<boolean>((resolve) => {
  const req = http.get({ host: "127.0.0.1", port, path: "/api/health", timeout: 2_000 }, (res) => {
    res.resume();
    resolve(res.statusCode === 200);
  });
  req.on("error", () => resolve(false));
  req.on("timeout", () => (req.destroy(), resolve(false)));
});

/** Up: the app answers and the record lists the orchestrator, Postgres, the next CLI and its server. */
async function up(dev: Dev): Promise<DevRecord> {
  return waitFor(async () => {
    if (dev.child.exitCode !== null) throw new Error(`dev exited early (${dev.child.exitCode}):\n${dev.output()}`);
    const file = devRecordFile(".data", dev.port);
    if (!existsSync(file) || !(await health(dev.port))) return undefined;
    const r = JSON.parse(readFileSync(file, "utf8")) as DevRecord;
    return ["postgres", "next", "next-server"].every((role) => r.processes.some((p) => p.role === role)) ? r : undefined;
  }, START_CEILING_MS, 200);
}

const roleOf = (r: DevRecord, role: string) => r.processes.find((p) => p.role === role)!;
const alive = (r: DevRecord) => r.processes.filter((p) => isSameProcess(p.pid, p.start));

async function allGone(r: DevRecord): Promise<void> {
  await waitFor(() => (alive(r).length === 0 ? true : undefined), GONE_CEILING_MS, 100);
}

describe("npm run dev supervision", () => {
  it("SIGKILL of the orchestrator takes its children (next, its server, Postgres, the temp dir) with it; the next start succeeds", { timeout: 240_000 }, async () => {
    const dev = startDev(3311);
    const r = await up(dev);
    dev.child.kill("SIGKILL");
    await dev.exited;
    await allGone(r);
    expect(r.tmpDir).toBeTruthy();
    await waitFor(() => (existsSync(r.tmpDir!) ? undefined : true), GONE_CEILING_MS, 100); // the reaper removes it
    const again = startDev(3311);
    await up(again);
    again.child.kill("SIGTERM");
    expect(await again.exited).toBe(0);
    expect(existsSync(devRecordFile(".data", 3311))).toBe(false);
  });

  it("SIGKILL of the tsx CLI that runs it (npm run dev's parent of scripts/dev.ts) stops the orchestrator and its children", { timeout: 240_000 }, async () => {
    const dev = startDev(3316, [], true);
    const r = await up(dev);
    expect(r.orchestrator.pid).not.toBe(dev.child.pid);
    dev.child.kill("SIGKILL");
    await allGone({ ...r, processes: [...r.processes, r.orchestrator] });
    await waitFor(() => (existsSync(devRecordFile(".data", 3316)) ? undefined : true), GONE_CEILING_MS, 100);
  });

  it("the app's server dying (its CLI staying alive, as next dev does) stops everything with a non-zero exit", { timeout: 240_000 }, async () => {
    const dev = startDev(3312);
    const r = await up(dev);
    process.kill(roleOf(r, "next-server").pid, "SIGKILL");
    expect(await dev.exited).toBe(1);
    expect(dev.output()).toMatch(/app server .* exited/);
    await allGone(r);
  });

  it("the postmaster dying stops everything with a non-zero exit (no part keeps running on a dead database)", { timeout: 240_000 }, async () => {
    const dev = startDev(3313);
    const r = await up(dev);
    process.kill(roleOf(r, "postgres").pid, "SIGKILL");
    expect(await dev.exited).toBe(1);
    expect(dev.output()).toMatch(/embedded Postgres .* exited/);
    await allGone(r);
  });

  it("a start reclaims what a killed start provably left (pid and command line recorded), then starts", { timeout: 240_000 }, async () => {
    const dev = startDev(3314);
    const r = await up(dev);
    // A frozen server cannot run its watchdog: after the kill it is left holding the app port.
    const server = roleOf(r, "next-server");
    process.kill(server.pid, "SIGSTOP");
    dev.child.kill("SIGKILL");
    await dev.exited;
    await new Promise((res) => setTimeout(res, 1_500));
    expect(isSameProcess(server.pid, server.start)).toBe(true);
    const again = startDev(3314);
    await up(again);
    expect(again.output()).toMatch(new RegExp(`stopping next-server \\(pid ${server.pid}\\) left by an earlier start`));
    expect(isSameProcess(server.pid, server.start)).toBe(false);
    again.child.kill("SIGTERM");
    expect(await again.exited).toBe(0);
  });

  it("refuses, naming the port and the process holding it, when something else has the app port", { timeout: 60_000 }, async () => {
    const squatter = http.createServer((_req, res) => res.end("not ours"));
    await new Promise<void>((res) => squatter.listen(3315, () => res()));
    try {
      const dev = startDev(3315);
      expect(await dev.exited).toBe(1);
      expect(dev.output()).toMatch(new RegExp(`Port 3315 \\(the app, --port / PORT\\) is already in use by pid ${process.pid} `));
      expect(listenersOf(3315).map((p) => p.pid)).toContain(process.pid);
    } finally {
      await new Promise((res) => squatter.close(res));
    }
  });
});
