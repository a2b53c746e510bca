import { afterAll, beforeAll, expect, it } from "vitest";
import type { EngineHandle } from "@/inngest/engine";
import { TEST_SIGNING_KEY } from "@/inngest/engine/test-keys";
import { HEARTBEAT_STALE_S } from "@/server/observability/heartbeat";
import type { OutboxDispatcher } from "@/server/outbox";
import { createTestDatabase, pointRoutesAt, type TestDatabase } from "@/test/db";
import { closedPort } from "@/test/unreachable";

// /api/health with the database up: 200 with each part's state. The dispatcher being down (never started,
// or its heartbeat stale) is "degraded", never a 503 (scripts/services.ts waits for a 200 before starting it).

let t: TestDatabase;
let engine: EngineHandle;
let dispatcher: OutboxDispatcher | undefined;
let GET: () => Promise<Response>;
let sandboxPort: number;
let startOutboxDispatcher: typeof import("@/server/outbox").startOutboxDispatcher;

beforeAll(async () => {
  t = await createTestDatabase();
  sandboxPort = await closedPort();
  const enginePort = await closedPort();
  // The sandbox is not running (a closed port): "psp" is down; the engine really answers. Env first: the
  // modules below read it once, at their first import.
  pointRoutesAt(t, { INNGEST_DEV: `http://127.0.0.1:${enginePort}`, PSP_MODE: "sandbox", SANDBOX_URL: `http://127.0.0.1:${sandboxPort}` });
  const { startEngine } = await import("@/inngest/engine");
  ({ startOutboxDispatcher } = await import("@/server/outbox"));
  engine = await startEngine({ db: t.db, port: enginePort, pollMs: 50, signingKey: TEST_SIGNING_KEY });
  ({ GET } = await import("./route"));
});
afterAll(async () => {
  await dispatcher?.stop();
  await engine?.stop();
  await t?.drop();
});

type Body = { ok: boolean; status: string; down: string[]; parts: Record<string, { state: string; reason?: string; [k: string]: unknown }> };
async function health(): Promise<{ status: number; body: Body; text: string }> {
  const res = await GET();
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Body, text };
}

it("with no dispatcher running: 200, degraded, the dispatcher down for want of a heartbeat, the sandbox down", async () => {
  const { status, body, text } = await health();
  expect(status).toBe(200);
  expect(body).toMatchObject({ ok: true, status: "degraded" });
  expect(body.parts.database).toMatchObject({ state: "up" });
  expect(body.parts.engine).toMatchObject({ state: "up", kind: "local" });
  expect(body.parts.dispatcher).toMatchObject({ state: "down", reason: "no heartbeat", outboxPending: 0 });
  expect(body.parts.psp).toMatchObject({ state: "down", reason: "unreachable", mode: "sandbox" });
  expect(body.down.sort()).toEqual(["dispatcher", "psp"]);
  // Public: no URL, host, port or error text.
  expect(text).not.toMatch(/127\.0\.0\.1|postgres:|localhost|ECONNREFUSED|stack|String\(/i);
  expect(text).not.toContain(String(sandboxPort));
});

it("a running dispatcher beats: up, with the outbox lag; an old unsent event makes it degraded", async () => {
  dispatcher = startOutboxDispatcher({ db: t.db, send: async () => {}, pollMs: 50, heartbeat: { intervalMs: 100 } });
  let body!: Body;
  for (let i = 0; i < 400; i++) {
    body = (await health()).body;
    if (body.parts.dispatcher?.state === "up") break;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(body.parts.dispatcher).toMatchObject({ state: "up", liveInstances: 1, outboxPending: 0 });
  expect(body.parts.dispatcher!.lastBeatAgeS).toBeLessThan(HEARTBEAT_STALE_S);
  // An event that has waited two minutes (its next attempt is later: a send that keeps failing).
  await t.sql`insert into outbox_events (id, name, data, created_at, next_attempt_at) values ('evt-lagging', 'platform/ping', '{}', now() - interval '2 minutes', now() + interval '1 hour')`;
  const lagging = (await health()).body;
  expect(lagging.parts.dispatcher).toMatchObject({ state: "degraded", reason: "outbox lag", outboxPending: 1 });
  expect(lagging.parts.dispatcher!.outboxLagS).toBeGreaterThanOrEqual(119);
  await t.sql`delete from outbox_events where id = 'evt-lagging'`;
});

it("a dispatcher whose last beat is older than the stale window is down (still HTTP 200)", async () => {
  await dispatcher?.stop();
  dispatcher = undefined;
  await t.sql`update process_heartbeats set beat_at = now() - make_interval(secs => ${HEARTBEAT_STALE_S + 5})`;
  const { status, body } = await health();
  expect(status).toBe(200);
  expect(body.parts.dispatcher).toMatchObject({ state: "down", reason: "heartbeat stale", liveInstances: 0 });
});
