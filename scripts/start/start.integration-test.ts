// The production entry points (scripts/start/*.ts) as a supervisor sees them: a ready line, exit 0 after a
// graceful stop on SIGTERM, exit 1 on what they cannot recover from (a taken port, an uncaught exception), and
// the dispatcher holding events until the engine has the app's functions. Real processes, real Postgres.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type Server } from "node:http";
import net, { type AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedPort } from "@/test/unreachable";
import { engineApps, engineFunctions, outboxEvents } from "@/db/schema";
import { TEST_EVENT_KEY, TEST_SIGNING_KEY } from "@/inngest/engine/test-keys.js";
import { waitFor } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CEILING_MS = 60_000;

interface Proc {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

/** Every process a test started, killed after the tests whatever happened. */
const started: ChildProcess[] = [];
afterAll(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

function run(args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], { cwd: ROOT, env: { ...process.env, NODE_ENV: "test", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  started.push(child);
  let out = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (out += c.toString()));
  const exit = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return { child, output: () => out, exit };
}

const ready = (p: Proc, part: string) => waitFor(() => (p.output().includes(`[${part}] ready:`) ? true : undefined), CEILING_MS, 50);


describe("start:sandbox", () => {
  it("logs one ready line and exits 0 after a graceful stop on SIGTERM", { timeout: 2 * CEILING_MS }, async () => {
    const port = await closedPort();
    const p = run(["scripts/start/sandbox.ts"], { SANDBOX_PORT: String(port) });
    await ready(p, "sandbox");
    expect((await fetch(`http://127.0.0.1:${port}/_sandbox/faults`)).status).toBe(200);
    p.child.kill("SIGTERM");
    expect(await p.exit).toBe(0);
    expect(p.output()).toContain("[sandbox] stopped");
  });

  it("exits non-zero when it cannot listen (port taken), so a supervisor restarts it", { timeout: 2 * CEILING_MS }, async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
    try {
      const p = run(["scripts/start/sandbox.ts"], { SANDBOX_PORT: String((taken.address() as AddressInfo).port) });
      expect(await p.exit).toBe(1);
      expect(p.output()).toMatch(/\[sandbox\] failed to start: .*EADDRINUSE/);
      expect(p.output()).not.toContain("ready:");
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });
});

describe("runPart", () => {
  it("exits 1 on an uncaught exception instead of running on half-alive", { timeout: 2 * CEILING_MS }, async () => {
    const script = `import { runPart } from ${JSON.stringify(path.join(ROOT, "scripts/start/part.ts"))};
      runPart("probe", async () => { setTimeout(() => { throw new Error("boom"); }, 50); return { ready: "now", stop: async () => {} }; });
      setInterval(() => {}, 1000);`;
    const p = run(["--input-type=module", "-e", script], {});
    expect(await p.exit).toBe(1);
    expect(p.output()).toContain("[probe] ready: now");
    expect(p.output()).toMatch(/\[probe\] fatal: uncaught exception: Error: boom/);
  });
});

describe("start:engine", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t?.drop();
  });

  it("refuses to start without its keys, and serves /health until SIGTERM, then exits 0", { timeout: 3 * CEILING_MS }, async () => {
    const port = await closedPort();
    const base = { DATABASE_URL: t.url, INNGEST_ENGINE_PORT: String(port), APP_URL: "http://127.0.0.1:1" };
    const refused = run(["scripts/start/engine.ts"], { ...base, INNGEST_SIGNING_KEY: "", INNGEST_EVENT_KEY: "" });
    expect(await refused.exit).toBe(1);
    expect(refused.output()).toMatch(/\[engine\] failed to start: .*INNGEST_SIGNING_KEY, INNGEST_EVENT_KEY must be set/);

    // The app it syncs from is unreachable: that is retried, not fatal.
    const p = run(["scripts/start/engine.ts"], { ...base, INNGEST_SIGNING_KEY: TEST_SIGNING_KEY, INNGEST_EVENT_KEY: TEST_EVENT_KEY });
    await ready(p, "engine");
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    p.child.kill("SIGTERM");
    expect(await p.exit).toBe(0);
    expect(p.output()).toContain("[engine] stopped");
  });
});

describe("start:dispatcher", () => {
  let t: TestDatabase;
  let engine: Server;
  const received: { name: string; id: string }[] = [];
  let engineUrl: string;
  beforeAll(async () => {
    t = await createTestDatabase();
    // Stands in for the engine's event API (POST /e/:key), so the test sees exactly what is sent and when.
    engine = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        if (req.url?.startsWith("/e/")) for (const e of JSON.parse(body) as { name: string; id: string }[]) received.push(e);
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ids: [], status: 200 }));
      });
    });
    await new Promise<void>((r) => engine.listen(0, "127.0.0.1", r));
    engineUrl = `http://127.0.0.1:${(engine.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => engine?.close(r));
    await t?.drop();
  });

  it("in production, refuses a leftover INNGEST_DEV without INNGEST_BASE_URL instead of sending events there", { timeout: 2 * CEILING_MS }, async () => {
    const p = run(["scripts/start/dispatcher.ts"], { NODE_ENV: "production", DATABASE_URL: t.url, INNGEST_DEV: engineUrl, INNGEST_BASE_URL: "", INNGEST_LOCAL_ENGINE: "", INNGEST_EVENT_KEY: "test" });
    expect(await p.exit).toBe(1);
    expect(p.output()).toMatch(/\[dispatcher\] failed to start: unsafe configuration[\s\S]*INNGEST_DEV: set without INNGEST_BASE_URL/);
    expect(received).toEqual([]);
  });

  it("holds events until the engine has synced the app's functions, sends them, and stops cleanly", { timeout: 3 * CEILING_MS }, async () => {
    await t.db.insert(outboxEvents).values({ id: "evt_start_test_1", name: "test/start.dispatcher", data: { n: 1 } });
    // The local engine as production configures it (docs/operations.md): INNGEST_BASE_URL names it, INNGEST_LOCAL_ENGINE says it is the local one.
    const p = run(["scripts/start/dispatcher.ts"], { NODE_ENV: "production", DATABASE_URL: t.url, INNGEST_BASE_URL: engineUrl, INNGEST_LOCAL_ENGINE: "true", INNGEST_DEV: "", INNGEST_EVENT_KEY: "test" });
    await ready(p, "dispatcher");
    await waitFor(() => (p.output().includes("waiting for the engine to sync") ? true : undefined), CEILING_MS, 50);
    // Several poll intervals pass with no functions registered: nothing may be sent.
    await new Promise((r) => setTimeout(r, 2000));
    expect(received).toEqual([]);
    await t.db.insert(engineApps).values({ id: "paybridge", url: "http://127.0.0.1:1/api/inngest" });
    await t.db.insert(engineFunctions).values({ id: "paybridge-probe", appId: "paybridge", name: "probe", url: "http://127.0.0.1:1/api/inngest?fnId=paybridge-probe&stepId=step", config: {} });
    await waitFor(async () => {
      const [row] = await t.db.select({ sentAt: outboxEvents.sentAt }).from(outboxEvents).where(eq(outboxEvents.id, "evt_start_test_1"));
      return row?.sentAt ?? undefined;
    }, CEILING_MS, 100);
    expect(received.map((e) => e.id)).toContain("evt_start_test_1");
    p.child.kill("SIGTERM");
    expect(await p.exit).toBe(0);
  });
});
