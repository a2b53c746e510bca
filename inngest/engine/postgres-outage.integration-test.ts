import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { Inngest } from "inngest";
import { serve } from "inngest/next";
import postgres from "postgres";
import { ensureDatabase, findFreePort, startEmbeddedPostgres, type EmbeddedPostgresHandle } from "@/db/embedded";
import { runMigrations } from "@/db/migrate";
import { TEST_EVENT_KEY, TEST_SIGNING_KEY } from "./test-keys";
import { pollUntil, serveHandlersOverHttp, silentLogger } from "./testing";
import type { RouteHandlers } from "./transport";

// Postgres killed under load (SIGKILL of the postmaster), then restarted on the same data dir and port.
// postgres.js 3.4.9 could throw an uncaught `TypeError: Cannot read properties of null (reading 'write')`
// from a write scheduled after its socket closed, killing the process (patches/postgres+3.4.9.patch).
// Two real processes ride it out: a load process running queries through createDb's pool, and the engine
// (bin.ts, which exits 1 on anything uncaught). Both must survive, and both must work again afterwards.

const children: ChildProcess[] = [];
let pg: EmbeddedPostgresHandle | undefined;
let dir = "";
let closeApp: (() => Promise<void>) | undefined;

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await closeApp?.();
  await pg?.stop().catch(() => {});
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Watched {
  child: ChildProcess;
  out: string[];
  err: string[];
  exit: { code: number | null; signal: string | null } | undefined;
}

function watch(args: string[]): Watched {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], { stdio: ["ignore", "pipe", "pipe"], cwd: path.resolve(import.meta.dirname, "../..") });
  children.push(child);
  const w: Watched = { child, out: [], err: [], exit: undefined };
  child.stdout?.on("data", (b: Buffer) => w.out.push(...b.toString().split("\n").filter(Boolean)));
  child.stderr?.on("data", (b: Buffer) => w.err.push(b.toString()));
  child.once("exit", (code, signal) => (w.exit = { code, signal }));
  return w;
}

function loadStats(w: Watched): { ok: number; errors: number; lastError: string } | undefined {
  for (let i = w.out.length - 1; i >= 0; i--) {
    const line = w.out[i]!;
    if (line.startsWith("{")) return JSON.parse(line) as { ok: number; errors: number; lastError: string };
  }
  return undefined;
}

/** Pids whose parent is `pid` (Linux /proc). */
function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid …: comm may hold spaces and parens, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

function alive(w: Watched, name: string): void {
  if (w.exit) throw new Error(`${name} died (${JSON.stringify(w.exit)}): ${w.err.join("").slice(-2000)}`);
}

it("survives a SIGKILL of the postmaster under load and serves again after Postgres restarts", async () => {
  const t0 = Date.now();
  const phases: string[] = [];
  const phase = (name: string) => phases.push(`${name} +${Date.now() - t0} ms`);
  dir = await mkdtemp(path.join(os.tmpdir(), "pb-pg-outage-"));
  const dataDir = path.join(dir, "pg");
  // Durable settings (not `fast`): with synchronous_commit off a SIGKILL loses the last commits, the
  // engine's registration among them, and that would be a test artefact, not the behaviour under test.
  pg = await startEmbeddedPostgres({ dir: dataDir, port: await findFreePort(55_400) });
  const port = pg.port;
  await ensureDatabase(pg.url, "outage");
  const url = pg.databaseUrl("outage");
  await runMigrations(url);
  phase("migrated");

  // The app the engine calls, in this process (it does not touch the killed database).
  const enginePort = await findFreePort(18_460);
  const client = new Inngest({ id: "outage", isDev: false, signingKey: TEST_SIGNING_KEY, baseUrl: `http://127.0.0.1:${enginePort}`, eventKey: TEST_EVENT_KEY, logger: silentLogger });
  const fn = client.createFunction({ id: "ping", triggers: [{ event: "outage/ping" }] }, async ({ event, step }) => step.run("pong", () => ({ n: event.data.n })));
  const served = serve({ client, functions: [fn], enableUnauthedSync: false });
  const asRoute = (h: unknown) => h as RouteHandlers["POST"];
  const http = await serveHandlersOverHttp({ GET: asRoute(served.GET), POST: asRoute(served.POST), PUT: asRoute(served.PUT) });
  closeApp = http.close;
  const keyFile = path.join(dir, "signing-key");
  await writeFile(keyFile, TEST_SIGNING_KEY, { mode: 0o600 });

  const load = watch([path.join(import.meta.dirname, "testing-pg-load.ts"), url]);
  const engine = watch([path.join(import.meta.dirname, "bin.ts"), "--database-url", url, "--port", String(enginePort), "--app-url", http.appUrl,
    "--signing-key-file", keyFile, "--event-key", TEST_EVENT_KEY, "--poll-ms", "20", "--backoff-ms", "50"]);
  const db = postgres(url, { max: 1, onnotice: () => {} });
  const completed = async (n: number) => {
    const [row] = await db<{ n: number }[]>`select count(*)::int as n from engine_runs where function_id = 'outage-ping' and status = 'completed'`;
    return (row?.n ?? 0) >= n ? true : undefined;
  };
  try {
    await pollUntil(async () => {
      alive(engine, "engine");
      const [fnRow] = await db`select 1 from engine_functions where id = 'outage-ping'`;
      return fnRow ? true : undefined;
    });
    await client.send({ name: "outage/ping", data: { n: 1 } });
    await pollUntil(() => completed(1));
    const before = await pollUntil(() => (alive(load, "load"), (loadStats(load)?.ok ?? 0) > 200 ? loadStats(load) : undefined));
    await db.end({ timeout: 1 });

    // Kill the postmaster while the load runs, then its backends: orphaned backends would otherwise keep
    // serving their sessions for a while.
    const pid = pg!.pid!;
    const backends = childPids(pid);
    phase("loaded");
    process.kill(pid, "SIGKILL");
    for (const b of backends) {
      try {
        process.kill(b, "SIGKILL");
      } catch {
        // already gone
      }
    }
    const down = await pollUntil(() => {
      alive(load, "load");
      const s = loadStats(load);
      return s && s.errors > before.errors + 10 ? s : undefined;
    });
    phase("queries failing");
    // Down a while: the pool keeps reconnecting (refused) with queries queued behind it.
    await new Promise((r) => setTimeout(r, 5000));
    alive(load, "load");
    alive(engine, "engine");

    // Restart on the same dir and port (orphaned backends exit on their own once they notice; retry until then).
    pg = await pollUntil(
      async () => {
        try {
          return await startEmbeddedPostgres({ dir: dataDir, port });
        } catch {
          return undefined;
        }
      },
      { stepMs: 500 },
    );
    expect(pg.port).toBe(port);
    phase("restarted");
    const after = await pollUntil(() => {
      alive(load, "load");
      const s = loadStats(load);
      return s && s.ok > down.ok + 200 ? s : undefined;
    });
    // The engine's loop rode out the outage too: a run sent now completes.
    const db2 = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const done = async () => {
        alive(engine, "engine");
        const [row] = await db2<{ n: number }[]>`select count(*)::int as n from engine_runs where function_id = 'outage-ping' and status = 'completed'`;
        return (row?.n ?? 0) >= 2 ? true : undefined;
      };
      await pollUntil(async () => {
        try {
          await client.send({ name: "outage/ping", data: { n: 2 } });
          return true;
        } catch {
          return undefined;
        }
      });
      await pollUntil(done, { why: async () => ({ engine: engine.out.slice(-8), runs: await db2`select status, count(*)::int as n from engine_runs group by status`, jobs: await db2`select kind, attempt, run_at, lease_until from engine_jobs` }) });
      phase("engine served");
    } finally {
      await db2.end({ timeout: 1 });
    }
    alive(load, "load");
    alive(engine, "engine");
    const crashes = [...load.err, ...engine.err].join("").match(/Cannot read properties of null/g) ?? [];
    expect(crashes).toEqual([]);
    console.log(`[pg-outage] load: ${before.ok} ok before the kill, ${down.errors - before.errors}+ failed while down (last: ${down.lastError}), ${after.ok - down.ok} ok after the restart; engine alive, served a run after the restart; ${phases.join(", ")}`);
  } finally {
    await db.end({ timeout: 1 }).catch(() => {});
  }
}, 600_000);
