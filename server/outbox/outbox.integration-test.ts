import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineEvents, engineRuns, outboxEvents } from "@/db/schema";
import { startTestApp, type TestApp } from "@/inngest/engine/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { dispatchOnce, enqueueEvent, OutboxEventConflictError, startOutboxDispatcher, type OutboxSend } from "./index";

// The outbox against the real local engine: rows commit with the domain transaction, the dispatcher sends
// them with their ids, and a crash between send and commit re-sends the same id, which the engine dedupes.

let tdb: TestDatabase;
let app: TestApp;
const handled: string[] = [];

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = await startTestApp({
    db: tdb.db,
    clientId: "outbox",
    functions: (client) => [
      client.createFunction({ id: "on-ping", triggers: [{ event: "platform/ping" }] }, async ({ event, step }) => {
        await step.run("handle", () => handled.push(String(event.data.message)));
      }),
    ],
  });
});
afterAll(async () => {
  await app?.stop();
  await tdb?.drop();
});

const send: OutboxSend = (events) => app.client.send(events);

/** The runs started for a message, once they have all ended (the engine's worker runs in the background). */
async function runsFor(message: string) {
  for (let i = 0; ; i++) {
    const rows = await tdb.db.select().from(engineRuns).where(sql`${engineRuns.event}->'data'->>'message' = ${message}`);
    if ((rows.length > 0 && rows.every((r) => r.status !== "running")) || i > 200) return rows;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("transactional outbox", () => {
  it("writes nothing when the domain transaction rolls back", async () => {
    await expect(
      tdb.db.transaction(async (tx) => {
        await enqueueEvent(tx, { id: "rolled-back-1", name: "platform/ping", data: { message: "never" } });
        throw new Error("domain rule failed");
      }),
    ).rejects.toThrow("domain rule failed");
    expect(await tdb.db.select().from(outboxEvents).where(eq(outboxEvents.id, "rolled-back-1"))).toEqual([]);
  });

  it("validates catalog events and refuses one id for two different facts", async () => {
    await expect(enqueueEvent(tdb.db, { id: "bad-1", name: "platform/ping", data: { message: 42 } })).rejects.toThrow();
    await enqueueEvent(tdb.db, { id: "same-1", name: "platform/ping", data: { message: "a" } });
    expect(await enqueueEvent(tdb.db, { id: "same-1", name: "platform/ping", data: { message: "a" } })).toEqual({ id: "same-1", inserted: false });
    await expect(enqueueEvent(tdb.db, { id: "same-1", name: "platform/ping", data: { message: "b" } })).rejects.toBeInstanceOf(OutboxEventConflictError);
  });

  it("dispatches committed events with their ids and marks them sent", async () => {
    await tdb.db.transaction((tx) => enqueueEvent(tx, { id: "ping-ok-1", name: "platform/ping", data: { message: "ok-1" } }));
    const r = await dispatchOnce(tdb.db, send);
    expect(r.sent).toBeGreaterThanOrEqual(1);
    const [row] = await tdb.db.select().from(outboxEvents).where(eq(outboxEvents.id, "ping-ok-1"));
    expect(row?.sentAt).toBeInstanceOf(Date);
    const runs = await runsFor("ok-1");
    expect(runs).toHaveLength(1);
    expect(runs[0]?.event).toMatchObject({ id: "ping-ok-1", name: "platform/ping" });
    expect(handled.filter((m) => m === "ok-1")).toHaveLength(1);
  });

  it("a crash between send and mark-sent re-sends the same id, and the engine dedupes it", async () => {
    await enqueueEvent(tdb.db, { id: "ping-crash-1", name: "platform/ping", data: { message: "crash-1" } });
    const crashAfterSend: OutboxSend = async (events) => {
      await send(events);
      throw new Error("process died before commit");
    };
    expect(await dispatchOnce(tdb.db, crashAfterSend)).toEqual({ sent: 0, failed: 1 });
    await tdb.db.update(outboxEvents).set({ nextAttemptAt: sql`now()` }).where(eq(outboxEvents.id, "ping-crash-1"));
    expect(await dispatchOnce(tdb.db, send)).toEqual({ sent: 1, failed: 0 });
    const events = await tdb.db.select().from(engineEvents).where(sql`${engineEvents.payload}->>'id' = 'ping-crash-1'`);
    expect(events).toHaveLength(2);
    expect(await runsFor("crash-1")).toHaveLength(1);
    expect(handled.filter((m) => m === "crash-1")).toHaveLength(1);
  });

  it("a failed send is retried later with backoff, not lost", async () => {
    await enqueueEvent(tdb.db, { id: "ping-down-1", name: "platform/ping", data: { message: "down-1" } });
    const down: OutboxSend = async () => {
      throw new Error("connect ECONNREFUSED");
    };
    expect(await dispatchOnce(tdb.db, down)).toEqual({ sent: 0, failed: 1 });
    const [row] = await tdb.db.select().from(outboxEvents).where(eq(outboxEvents.id, "ping-down-1"));
    expect(row).toMatchObject({ sentAt: null, attempts: 1, lastError: "connect ECONNREFUSED" });
    expect(row!.nextAttemptAt.getTime()).toBeGreaterThan(Date.now());
    expect(await dispatchOnce(tdb.db, send)).toEqual({ sent: 0, failed: 0 });
  });

  it("the dispatcher loop delivers what commits while it runs", async () => {
    const d = startOutboxDispatcher({ db: tdb.db, send, pollMs: 20 });
    try {
      await enqueueEvent(tdb.db, { id: "ping-loop-1", name: "platform/ping", data: { message: "loop-1" } });
      d.nudge();
      for (let i = 0; i < 200 && handled.every((m) => m !== "loop-1"); i++) await new Promise((r) => setTimeout(r, 25));
    } finally {
      await d.stop();
    }
    expect(handled.filter((m) => m === "loop-1")).toHaveLength(1);
  });
});
