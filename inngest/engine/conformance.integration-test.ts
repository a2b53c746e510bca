import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Inngest, NonRetriableError, type InngestFunction } from "inngest";
import { serve } from "inngest/next";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { newUlid } from "./ids";
import { silentLogger, startTestApp, serveHandlersOverHttp, type TestApp } from "./testing";
import type { RouteHandlers } from "./transport";

// Conformance suite: what our Inngest functions may rely on, asserted only through the functions' own
// side effects, so the same suite runs against a real Inngest server:
//   INNGEST_CONFORMANCE_BASE_URL=http://127.0.0.1:8288 INNGEST_CONFORMANCE_EVENT_KEY=… \
//   INNGEST_CONFORMANCE_SIGNING_KEY=… INNGEST_CONFORMANCE_APP_PORT=3939 npx vitest run inngest/engine/conformance
// Default: the local engine, in-process, on a fresh test database.

/* eslint-disable no-restricted-properties -- test parameters, read once here */
const remote = {
  baseUrl: process.env.INNGEST_CONFORMANCE_BASE_URL,
  eventKey: process.env.INNGEST_CONFORMANCE_EVENT_KEY,
  signingKey: process.env.INNGEST_CONFORMANCE_SIGNING_KEY,
  appPort: Number(process.env.INNGEST_CONFORMANCE_APP_PORT ?? 3939),
};
/** Real Inngest retries after 15 s, 30 s…: give it time. The local engine backs off in milliseconds. */
const WAIT_MS = Number(process.env.INNGEST_CONFORMANCE_TIMEOUT_MS ?? (remote.baseUrl ? 180_000 : 15_000));
/* eslint-enable no-restricted-properties */

const effects = new Map<string, unknown[]>();
function record(key: string, value: unknown = true): void {
  effects.set(key, [...(effects.get(key) ?? []), value]);
}
function seen(key: string): unknown[] {
  return effects.get(key) ?? [];
}
async function waitFor(key: string, count = 1, timeoutMs = WAIT_MS): Promise<unknown[]> {
  const start = Date.now();
  while (seen(key).length < count) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${count} x ${key}; have ${JSON.stringify(seen(key))}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return seen(key);
}
/** Proves a negative after the positive it races with has been observed. */
async function settle(ms = 300): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

interface FailureArgs {
  event: { data: { event: { data: Record<string, unknown> } } };
  error: Error;
}

function defineFunctions(client: Inngest): InngestFunction.Any[] {
  const child = client.createFunction({ id: "child", triggers: [{ event: "conf/child" }] }, async ({ event, step }) => {
    const doubled = await step.run("double", () => (event.data.n as number) * 2);
    record(`child:${String(event.data.key)}`, doubled);
    return { doubled };
  });
  return [
    child,
    client.createFunction({ id: "flaky", retries: 3, triggers: [{ event: "conf/flaky" }] }, async ({ event, step }) => {
      const key = String(event.data.key);
      const v = await step.run("flaky-step", () => {
        record(`flaky-attempt:${key}`);
        if (seen(`flaky-attempt:${key}`).length <= (event.data.failTimes as number)) throw new Error("transient");
        return "ok";
      });
      await step.run("done", () => record(`flaky-done:${key}`, v));
    }),
    client.createFunction(
      {
        id: "always-fails",
        retries: 2,
        triggers: [{ event: "conf/always-fails" }],
        onFailure: async ({ event, error }: FailureArgs) => record(`failure:${String(event.data.event.data.key)}`, error.message),
      },
      async ({ event, step }) => {
        await step.run("fail", () => {
          record(`always-attempt:${String(event.data.key)}`);
          throw new Error("always broken");
        });
      },
    ),
    client.createFunction(
      {
        id: "non-retriable",
        retries: 3,
        triggers: [{ event: "conf/non-retriable" }],
        onFailure: async ({ event, error }: FailureArgs) => record(`nr-failure:${String(event.data.event.data.key)}`, error.message),
      },
      async ({ event, step }) => {
        await step.run("refuse", () => {
          record(`nr-attempt:${String(event.data.key)}`);
          throw new NonRetriableError("card permanently declined");
        });
      },
    ),
    client.createFunction({ id: "sleeper", triggers: [{ event: "conf/sleep" }] }, async ({ event, step }) => {
      const before = await step.run("before", () => Date.now());
      await step.sleep("nap", "1s");
      await step.run("after", () => record(`slept:${String(event.data.key)}`, Date.now() - before));
    }),
    client.createFunction({ id: "waiter", triggers: [{ event: "conf/wait" }] }, async ({ event, step }) => {
      const got = await step.waitForEvent("approval", { event: "conf/approve", timeout: event.data.timeout as string, match: "data.key" });
      await step.run("record", () => record(`waited:${String(event.data.key)}`, got ? got.data : null));
    }),
    client.createFunction({ id: "invoker", triggers: [{ event: "conf/invoke" }] }, async ({ event, step }) => {
      const res = await step.invoke("call-child", { function: child, data: { n: 21, key: `inv-${String(event.data.key)}` } });
      await step.run("record", () => record(`invoked:${String(event.data.key)}`, res));
    }),
    client.createFunction({ id: "fan-out", triggers: [{ event: "conf/fan-out" }] }, async ({ event, step }) => {
      const key = String(event.data.key);
      const parts = await Promise.all([1, 2, 3, 4, 5].map((n) => step.run(`part-${n}`, () => (record(`part:${key}:${n}`), n))));
      await step.sendEvent(
        "fan",
        parts.map((n) => ({ name: "conf/child", data: { n, key: `fan-${key}` } })),
      );
      await step.run("sum", () => record(`fan-sum:${key}`, parts.reduce((a, b) => a + b, 0)));
    }),
    client.createFunction({ id: "idempotent", idempotency: "event.data.orderId", triggers: [{ event: "conf/idem" }] }, async ({ event, step }) => {
      await step.run("charge", () => record(`charge:${String(event.data.orderId)}`));
    }),
    client.createFunction(
      { id: "cancellable", cancelOn: [{ event: "conf/cancel", match: "data.key" }], triggers: [{ event: "conf/cancellable" }] },
      async ({ event, step }) => {
        await step.run("start", () => record(`cancellable-start:${String(event.data.key)}`));
        await step.sleep("wait-a-bit", "2s");
        await step.run("finish", () => record(`cancellable-finish:${String(event.data.key)}`));
      },
    ),
    client.createFunction(
      { id: "singleton", singleton: { key: "event.data.key", mode: "skip" }, triggers: [{ event: "conf/singleton" }] },
      async ({ event, step }) => {
        await step.run("hold", async () => {
          record(`singleton-run:${String(event.data.key)}`, event.data.n);
          await new Promise((r) => setTimeout(r, 400));
        });
      },
    ),
    client.createFunction({ id: "limited", concurrency: { limit: 1 }, triggers: [{ event: "conf/limited" }] }, async ({ step }) => {
      await step.run("work", async () => {
        record("limited-inflight", seen("limited-active").length - seen("limited-left").length);
        record("limited-active");
        await new Promise((r) => setTimeout(r, 100));
        record("limited-left");
      });
    }),
  ];
}

let tdb: TestDatabase | undefined;
let app: TestApp | undefined;
let client: Inngest;
let closeRemote: (() => Promise<void>) | undefined;

beforeAll(async () => {
  if (remote.baseUrl) {
    client = new Inngest({ id: "conformance", isDev: !remote.signingKey, baseUrl: remote.baseUrl, eventKey: remote.eventKey, signingKey: remote.signingKey, logger: silentLogger });
    const served = serve({ client, functions: defineFunctions(client) });
    const asRoute = (h: unknown) => h as RouteHandlers["POST"];
    const http = await serveHandlersOverHttp({ GET: asRoute(served.GET), POST: asRoute(served.POST), PUT: asRoute(served.PUT) }, remote.appPort);
    closeRemote = http.close;
    const res = await fetch(http.appUrl, { method: "PUT" });
    if (!res.ok) throw new Error(`registering with ${remote.baseUrl} failed: ${res.status} ${await res.text()}`);
    return;
  }
  tdb = await createTestDatabase();
  app = await startTestApp({ db: tdb.db, functions: defineFunctions });
  client = app.client;
});

afterAll(async () => {
  await app?.stop();
  await closeRemote?.();
  await tdb?.drop();
});

const k = () => newUlid();

describe("Inngest conformance", () => {
  it("retries a step that fails N times, then succeeds, once", async () => {
    const key = k();
    await client.send({ name: "conf/flaky", data: { key, failTimes: 2 } });
    expect(await waitFor(`flaky-done:${key}`)).toEqual(["ok"]);
    expect(seen(`flaky-attempt:${key}`)).toHaveLength(3);
  });

  it("an always-failing function exhausts its retries and runs onFailure once", async () => {
    const key = k();
    await client.send({ name: "conf/always-fails", data: { key } });
    expect(await waitFor(`failure:${key}`)).toEqual([expect.stringContaining("always broken")]);
    expect(seen(`always-attempt:${key}`)).toHaveLength(3);
    await settle();
    expect(seen(`failure:${key}`)).toHaveLength(1);
  });

  it("NonRetriableError stops at the first attempt and runs onFailure", async () => {
    const key = k();
    await client.send({ name: "conf/non-retriable", data: { key } });
    expect(await waitFor(`nr-failure:${key}`)).toEqual([expect.stringContaining("card permanently declined")]);
    expect(seen(`nr-attempt:${key}`)).toHaveLength(1);
  });

  it("step.sleep resumes after the duration", async () => {
    const key = k();
    await client.send({ name: "conf/sleep", data: { key } });
    const [elapsed] = await waitFor(`slept:${key}`);
    expect(elapsed as number).toBeGreaterThanOrEqual(1000);
  });

  it("step.waitForEvent resolves with the matching event only", async () => {
    const key = k();
    await client.send({ name: "conf/wait", data: { key, timeout: "30s" } });
    await settle(500);
    await client.send({ name: "conf/approve", data: { key: "someone-else", v: 0 } });
    await client.send({ name: "conf/approve", data: { key, v: 1 } });
    expect(await waitFor(`waited:${key}`)).toEqual([{ key, v: 1 }]);
  });

  it("step.waitForEvent times out with null", async () => {
    const key = k();
    await client.send({ name: "conf/wait", data: { key, timeout: "1s" } });
    expect(await waitFor(`waited:${key}`)).toEqual([null]);
  });

  it("step.invoke returns the invoked function's result", async () => {
    const key = k();
    await client.send({ name: "conf/invoke", data: { key } });
    expect(await waitFor(`invoked:${key}`)).toEqual([{ doubled: 42 }]);
    expect(seen(`child:inv-${key}`)).toEqual([42]);
  });

  it("fans out: parallel steps run once each, step.sendEvent triggers one run per event", async () => {
    const key = k();
    await client.send({ name: "conf/fan-out", data: { key } });
    expect(await waitFor(`fan-sum:${key}`)).toEqual([15]);
    for (const n of [1, 2, 3, 4, 5]) expect(seen(`part:${key}:${n}`)).toHaveLength(1);
    const children = await waitFor(`child:fan-${key}`, 5);
    expect([...children].sort((a, b) => (a as number) - (b as number))).toEqual([2, 4, 6, 8, 10]);
    await settle();
    expect(seen(`child:fan-${key}`)).toHaveLength(5);
  });

  it("two triggers with the same idempotency key start one run", async () => {
    const orderId = k();
    await client.send({ name: "conf/idem", data: { orderId } });
    await client.send({ name: "conf/idem", data: { orderId } });
    await waitFor(`charge:${orderId}`);
    await settle(800);
    expect(seen(`charge:${orderId}`)).toHaveLength(1);
  });

  it("the same event id sent twice starts one run", async () => {
    const key = k();
    const id = `evt-${key}`;
    await client.send({ id, name: "conf/child", data: { n: 1, key } });
    await client.send({ id, name: "conf/child", data: { n: 1, key } });
    await waitFor(`child:${key}`);
    await settle(800);
    expect(seen(`child:${key}`)).toEqual([2]);
  });

  it("cancelOn stops a run at its next step", async () => {
    const key = k();
    await client.send({ name: "conf/cancellable", data: { key } });
    await waitFor(`cancellable-start:${key}`);
    await client.send({ name: "conf/cancel", data: { key } });
    await settle(2600);
    expect(seen(`cancellable-finish:${key}`)).toHaveLength(0);
  });

  it("singleton skip drops a run while one with the same key is running", async () => {
    const key = k();
    await client.send({ name: "conf/singleton", data: { key, n: 1 } });
    await waitFor(`singleton-run:${key}`);
    await client.send({ name: "conf/singleton", data: { key, n: 2 } });
    await settle(800);
    expect(seen(`singleton-run:${key}`)).toEqual([1]);
  });

  it("a concurrency limit of 1 runs steps one at a time", async () => {
    await client.send([1, 2, 3, 4].map(() => ({ name: "conf/limited", data: {} })));
    await waitFor("limited-left", 4);
    expect(seen("limited-inflight")).toEqual([0, 0, 0, 0]);
  });
});
