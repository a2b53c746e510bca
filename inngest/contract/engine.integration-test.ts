import { and, eq } from "drizzle-orm";
import { serve } from "inngest/next";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineRuns, engineSteps } from "@/db/schema";
import { startEngine, type EngineHandle } from "@/inngest/engine";
import { canonicalJson, functionUuid, hashSigningKey, removeSigningKeyPrefix } from "@/inngest/engine/protocol";
import { createTestClient, pollUntil, TEST_APP_URL, TEST_BACKOFF, TEST_EVENT_KEY, TEST_SIGNING_KEY } from "@/inngest/engine/testing";
import type { RouteHandlers } from "@/inngest/engine/transport";
import { serveOptions } from "@/inngest/serve-options";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createHmac } from "node:crypto";
import { fixture, loadFixtures } from "./fixtures";

// Inngest's side of the contract against the running local engine: what its calls carry (fixtures/call-request.json,
// seen at the transport as the app receives them) and how its checkpoint API answers the SDK's checkpoints
// (fixtures/checkpoint.json, replayed against the engine's own HTTP handler during a real in-flight call).

interface Seen {
  url: URL;
  headers: Headers;
  body: string;
}

let t: TestDatabase;
let handle: EngineHandle;
const seen: Seen[] = [];
let release: () => void = () => {};
const gate = new Promise<void>((resolve) => (release = resolve));

const calls = loadFixtures<Record<string, unknown>>("call-request");
const checkpoints = loadFixtures<Record<string, unknown>, Record<string, unknown>>("checkpoint");

beforeAll(async () => {
  t = await createTestDatabase();
  const ref: { handle?: EngineHandle } = {};
  const client = createTestClient(() => ref.handle?.fetch, "contract");
  const functions = [
    client.createFunction({ id: "two", retries: 1, triggers: [{ event: "contract/two" }] }, async ({ step }) => {
      const a = await step.run("a", () => 1);
      return step.run("b", () => a + 1);
    }),
    client.createFunction({ id: "fanout", retries: 1, triggers: [{ event: "contract/fanout" }] }, async ({ step }) => {
      const [x, y] = await Promise.all([step.run("x", () => 1), step.run("y", () => 2)]);
      return step.run("after", () => x + y);
    }),
    // Holds its call open (a step that waits), so checkpoints can be replayed against a run whose call is in flight.
    client.createFunction({ id: "held", retries: 0, triggers: [{ event: "contract/held" }] }, async ({ step }) => {
      await step.run("wait-here", async () => {
        await gate;
        return "released";
      });
      return "done";
    }),
  ];
  const served = serve({ client, functions, ...serveOptions(TEST_APP_URL) });
  const asRoute = (h: unknown) => h as RouteHandlers["POST"];
  // The app's handlers, with every call the engine makes recorded as the app receives it.
  const handlers: RouteHandlers = {
    GET: asRoute(served.GET),
    PUT: asRoute(served.PUT),
    POST: async (req) => {
      seen.push({ url: new URL(req.url), headers: new Headers(req.headers), body: await req.clone().text() });
      return asRoute(served.POST)(req);
    },
  };
  const { inProcessTransport } = await import("@/inngest/engine/transport");
  handle = await startEngine({ db: t.db, backoff: TEST_BACKOFF, pollMs: 20, callTimeoutMs: 20_000, signingKey: TEST_SIGNING_KEY, eventKey: TEST_EVENT_KEY, transport: inProcessTransport(handlers) });
  ref.handle = handle;
  await handle.engine.syncApp(TEST_APP_URL);
});
afterAll(async () => {
  release();
  await handle?.stop();
  await t?.drop();
});

async function send(name: string): Promise<string> {
  const res = await handle.fetch(`http://engine.test/e/${TEST_EVENT_KEY}`, { method: "POST", body: JSON.stringify([{ name, data: {} }]) });
  const { ids } = (await res.json()) as { ids: string[] };
  const eventId = ids[0]!;
  const run = await pollUntil(async () => (await t.db.select().from(engineRuns).where(eq(engineRuns.eventId, eventId)))[0]);
  return run.id;
}

const runEnded = (runId: string) =>
  pollUntil(async () => {
    const [r] = await t.db.select().from(engineRuns).where(eq(engineRuns.id, runId));
    return r && r.status !== "running" ? r : undefined;
  });

const callsOf = (runId: string) => seen.filter((s) => s.headers.get("x-run-id") === runId || (JSON.parse(s.body) as { ctx?: { run_id?: string } }).ctx?.run_id === runId);

describe("the engine's calls carry what Inngest's driver sends (fixtures/call-request.json)", () => {
  it("body fields, headers, JCS body, signature, stepId query", async () => {
    const runId = await send("contract/two");
    expect((await runEnded(runId)).status).toBe("completed");
    const made = callsOf(runId);
    expect(made.length).toBeGreaterThan(0);
    const fields = fixture(calls, "call request body fields (driver.MarshalV1)").request as { bodyFields: string[]; ctxFields: string[] };
    const hdrs = fixture(calls, "call request headers (httpdriver do())").request as { headers: Record<string, string> };
    const { signatureFormat } = fixture(calls, "signature: t=<unix seconds>&s=<hex HMAC-SHA256 of body followed by t>").request as { signatureFormat: string };
    for (const c of made) {
      const body = JSON.parse(c.body) as Record<string, unknown> & { ctx: Record<string, unknown> };
      expect(Object.keys(body).sort()).toEqual([...fields.bodyFields].sort());
      for (const f of fields.ctxFields) expect(body.ctx, `ctx.${f}`).toHaveProperty(f);
      expect(body.ctx.fn_id).toBe(functionUuid("contract-two"));
      expect(body.ctx.fn_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(body.ctx.qi_id).toEqual(expect.any(String));
      expect(body.ctx.run_id).toBe(runId);
      // JCS (driver.go L263): the bytes are their own canonical form.
      expect(c.body).toBe(canonicalJson(body));
      for (const h of Object.keys(hdrs.headers)) expect(c.headers.has(h), `header ${h}`).toBe(true);
      expect(c.headers.get("content-type")).toBe(hdrs.headers["Content-Type"]);
      expect(c.headers.get("x-run-id")).toBe(runId);
      expect(c.headers.get("x-inngest-req-version")).toBe(String(body.version));
      expect(c.headers.get("x-inngest-step-id")).toBe(c.url.searchParams.get("stepId"));
      const sig = c.headers.get("x-inngest-signature") ?? "";
      expect(sig).toMatch(new RegExp(signatureFormat));
      const ts = new URLSearchParams(sig).get("t") ?? "";
      expect(new URLSearchParams(sig).get("s")).toBe(createHmac("sha256", removeSigningKeyPrefix(TEST_SIGNING_KEY)).update(c.body + ts).digest("hex"));
      expect(c.url.searchParams.get("fnId")).toBe("contract-two");
      expect(c.url.searchParams.get("stepId")).toBeTruthy();
    }
  });

  it("after a call reported parallel steps, their calls set disable_immediate_execution, and the discovery after the fan-in clears it (SDK_SPEC 5.5, executor.go)", async () => {
    const runId = await send("contract/fanout");
    expect((await runEnded(runId)).status).toBe("completed");
    const made = callsOf(runId).map((c) => ({ stepId: c.url.searchParams.get("stepId"), ctx: (JSON.parse(c.body) as { ctx: { disable_immediate_execution: boolean } }).ctx }));
    const want = fixture(calls, "after a call reported more than one step, disable_immediate_execution is true on the calls of those steps and false again once the discovery after the fan-in is enqueued").request as {
      afterParallelPlan: { ctx: { disable_immediate_execution: boolean } };
      afterFanIn: { ctx: { disable_immediate_execution: boolean } };
    };
    // The first (discovery) call found x and y and planned both; the calls that run x and y carry the flag, and the
    // discovery call after both finished (stepId "step") no longer does.
    const first = made[0];
    expect(first?.stepId).toBe("step");
    const planned = made.slice(1).filter((c) => c.stepId !== "step");
    const later = made.slice(1).filter((c) => c.stepId === "step");
    expect(planned.length).toBe(2);
    expect(later.length).toBeGreaterThan(0);
    for (const c of planned) expect(c.ctx.disable_immediate_execution).toBe(want.afterParallelPlan.ctx.disable_immediate_execution);
    for (const c of later) expect(c.ctx.disable_immediate_execution).toBe(want.afterFanIn.ctx.disable_immediate_execution);
  });
});

describe("the engine's checkpoint API answers as Inngest's (fixtures/checkpoint.json)", () => {
  type Step = { id: string; op: string; name?: string; data?: unknown; dataStringOfXBytes?: number };
  let runId: string;
  let fnId: string;
  let qiId: string;
  const auth = `Bearer ${hashSigningKey(TEST_SIGNING_KEY)}`;

  beforeAll(async () => {
    runId = await send("contract/held");
    // The call that runs "wait-here" is in flight: its body names the job's queue item (ctx.qi_id).
    const c = await pollUntil(() => callsOf(runId)[0]);
    const ctx = (JSON.parse(c.body) as { ctx: { fn_id: string; qi_id: string } }).ctx;
    fnId = ctx.fn_id;
    qiId = ctx.qi_id;
  });

  const post = (body: string, headers: Record<string, string> = {}, run = runId) =>
    handle.fetch(`http://engine.test/v1/checkpoint/${run}/async`, { method: "POST", body, headers: { "content-type": "application/json", authorization: auth, ...headers } });
  const stepsOf = (c: { request?: Record<string, unknown> }): Step[] => {
    const r = c.request as { steps?: Step[]; generatedSteps?: Step[] };
    return (r.steps ?? r.generatedSteps ?? []).map((s) => (s.dataStringOfXBytes ? { id: s.id, op: s.op, name: s.name, data: "x".repeat(s.dataStringOfXBytes) } : s));
  };
  const checkpointBody = (steps: Step[], run = runId) => JSON.stringify({ run_id: run, fn_id: fnId, qi_id: qiId, steps, ts: Date.now() });
  const saved = async (ids: string[]) => {
    const out: Record<string, unknown> = {};
    for (const id of ids) {
      const [row] = await t.db.select({ result: engineSteps.result }).from(engineSteps).where(and(eq(engineSteps.runId, runId), eq(engineSteps.stepId, id)));
      // The engine stores {type: "data", data}; Inngest stores {"data": …} (opcode.go Output): compare the content.
      if (row?.result) out[id] = { data: (row.result as { data?: unknown }).data };
    }
    return out;
  };

  for (const name of [
    "three StepRun ops are saved as {data} and answered 200",
    "an async opcode (Sleep) is refused and nothing is saved",
    "a step output over 4 MiB is refused with 413",
    "StepPlanned is a sync opcode and is accepted",
  ]) {
    it(name, async () => {
      const c = fixture(checkpoints, name);
      const steps = stepsOf(c);
      const want = c.expected as { status: number; saved: Record<string, unknown> };
      const res = await post(checkpointBody(steps));
      expect(res.status, await res.clone().text()).toBe(want.status);
      expect(await saved(steps.map((s) => s.id))).toEqual(want.saved);
    });
  }

  it("every async opcode (enums.opcodeSyncMap) is refused with 400 and nothing is saved", async () => {
    const ops = loadFixtures<never, { names?: string[]; sync?: string[] }>("opcodes");
    const names = fixture(ops, "opcode names, in enum order").expected?.names ?? [];
    const sync = new Set(fixture(ops, "sync (checkpointable) opcodes").expected?.sync);
    const refusal = fixture(checkpoints, "an async opcode (Sleep) is refused and nothing is saved").expected as { status: number };
    for (const op of names.filter((n) => !sync.has(n))) {
      const id = `async-${op}`;
      const res = await post(checkpointBody([{ id, op }, { id: `${id}-run`, op: "StepRun", data: 1 }]));
      expect(res.status, op).toBe(refusal.status);
      expect(await saved([id, `${id}-run`]), op).toEqual({});
    }
  });

  it("a body that is not JSON is refused with 400", async () => {
    const c = fixture(checkpoints, "a body that is not JSON is refused with 400");
    const res = await post((c.request as { rawBody: string }).rawBody);
    expect(res.status).toBe((c.expected as { status: number }).status);
  });

  it("a request without valid auth is refused with 401", async () => {
    const c = fixture(checkpoints, "a request without valid auth is refused with 401");
    const r = c.request as { headers: Record<string, string> };
    const res = await post(checkpointBody(stepsOf(c)), { authorization: r.headers.Authorization ?? "" });
    expect(res.status).toBe((c.expected as { status: number }).status);
  });

  it("a run the server does not know is refused (400)", async () => {
    const c = fixture(checkpoints, "a run the server does not know is refused (400)");
    const unknown = "01JNOSUCHRUN00000000000000";
    const res = await post(checkpointBody(stepsOf(c), unknown), {}, unknown);
    expect(res.status).toBe((c.expected as { status: number }).status);
  });

  it("the held run completes once released", async () => {
    release();
    expect((await runEnded(runId)).status).toBe("completed");
  });
});
