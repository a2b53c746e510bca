import { createHash } from "node:crypto";
import { and, eq, isNotNull, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineAttempts, engineJobs, engineRuns, engineSteps } from "@/db/schema";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { Engine } from "./engine";
import { MAX_RUN_STATE_BYTES, MAX_STEP_OUTPUT_BYTES } from "./limits";
import { functionUuid, hashSigningKey, signBody } from "./protocol";
import { createEngineHandler } from "./server";
import { pollUntil, startTestApp, TEST_SIGNING_KEY, type TestApp } from "./testing";

// The local engine runs the SDK's production path: every call carries ctx.fn_id + ctx.qi_id as Inngest's driver
// sends them, so the SDK (AsyncCheckpointing) runs the steps it discovers in-process and checkpoints each result to
// POST /v1/checkpoint/{runId}/async before it answers. These tests drive real SDK functions through the real
// serve() on the engine (testing.ts harness), and the checkpoint API directly for its refusals.

const CEILING_MS = 120_000;
const TEST_TIMEOUT_MS = 300_000;
/** The previous signing key of a rotation: the engine accepts it as signingKeyFallback. */
const OLD_KEY = `signkey-test-${"3c".repeat(32)}`;

let tdb: TestDatabase;
let app: TestApp;

// "ckpt-three": each step counts its executions and, in the last one, looks at what the engine has stored so far.
const executed = new Map<string, number>();
const count = (k: string) => executed.set(k, (executed.get(k) ?? 0) + 1);
let seenInLastStep: { completed: string[]; attemptRows: number } | undefined;

interface Latch {
  promise: Promise<void>;
  resolve: () => void;
}
function latch(): Latch {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

// "ckpt-held": blocks in its step until released, so its discovery job stays leased (a call in flight).
const gates = new Map<string, { entered: Latch; release: Latch }>();
function gate(key: string) {
  let g = gates.get(key);
  if (!g) gates.set(key, (g = { entered: latch(), release: latch() }));
  return g;
}

// "ckpt-takeover": step b blocks on its first execution only (a worker that stalls mid-call).
let takeoverB = 0;
const takeoverStall = { entered: latch(), release: latch() };
const takeoverAnswers: { status: number; body: string }[] = [];

// "ckpt-attempts": the function throws before its first step on its first two calls, then its step always throws.
let attemptsCalls = 0;
let attemptsStepRuns = 0;
const attemptsSeen: number[] = [];

// "ckpt-redrive-child": invoked by "ckpt-redrive-invoke"; blocks until released, so the invoke stays pending.
const redriveChildRelease = latch();
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the SDK's function type, assigned in the functions factory
let redriveChild: any;

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = await startTestApp({
    db: tdb.db,
    clientId: "ckpt",
    signingKeyFallback: OLD_KEY,
    // The held runs stay in one call while the checkpoint API is probed: no call timeout in the way.
    callTimeoutMs: 240_000,
    functions: (client) => [
      (redriveChild = client.createFunction({ id: "redrive-child", retries: 0, triggers: [{ event: "ckpt/redrive-child" }] }, async ({ step }) =>
        step.run("blocked", async () => (await redriveChildRelease.promise, "child")),
      )),
      client.createFunction({ id: "three", retries: 2, triggers: [{ event: "ckpt/three" }] }, async ({ step, runId }) => {
        const a = await step.run("a", () => (count("a"), 1));
        const b = await step.run("b", () => (count("b"), a + 1));
        const c = await step.run("c", async () => {
          count("c");
          const rows = await tdb.db.select({ stepId: engineSteps.stepId }).from(engineSteps).where(and(eq(engineSteps.runId, runId), isNotNull(engineSteps.result)));
          const attempts = await tdb.db.select({ id: engineAttempts.id }).from(engineAttempts).where(eq(engineAttempts.runId, runId));
          seenInLastStep = { completed: rows.map((r) => r.stepId).sort(), attemptRows: attempts.length };
          return b + 1;
        });
        return { a, b, c };
      }),
      client.createFunction({ id: "held", retries: 0, triggers: [{ event: "ckpt/held" }] }, async ({ event, step }) => {
        return step.run("wait", async () => {
          const g = gate(String(event.data.key));
          g.entered.resolve();
          await g.release.promise;
          return "released";
        });
      }),
      client.createFunction({ id: "takeover", retries: 2, triggers: [{ event: "ckpt/takeover" }] }, async ({ step }) => {
        const a = await step.run("a", () => (count("t:a"), "a"));
        const b = await step.run("b", async () => {
          count("t:b");
          const n = ++takeoverB;
          if (n === 1) {
            takeoverStall.entered.resolve();
            await takeoverStall.release.promise;
          }
          return `b-${n}`;
        });
        const c = await step.run("c", () => (count("t:c"), "c"));
        return [a, b, c];
      }),
      client.createFunction({ id: "attempts", retries: 3, triggers: [{ event: "ckpt/attempts" }] }, async ({ step, attempt }) => {
        attemptsSeen.push(attempt);
        if (++attemptsCalls <= 2) throw new Error("not ready yet");
        await step.run("s", () => {
          attemptsStepRuns++;
          throw new Error("step fails");
        });
      }),
      client.createFunction({ id: "fanout", retries: 1, triggers: [{ event: "ckpt/fanout" }] }, async ({ step }) => {
        const [x, y] = await Promise.all([step.run("x", () => 1), step.run("y", () => 2)]);
        return step.run("after", () => x + y);
      }),
      client.createFunction({ id: "discovery", retries: 1, triggers: [{ event: "ckpt/discovery" }] }, async ({ step }) => step.run("only", () => "done")),
      client.createFunction({ id: "redrive", retries: 1, triggers: [{ event: "ckpt/redrive" }] }, async ({ step }) => {
        const [x, y] = await Promise.all([step.run("x", () => 1), step.run("y", () => 2)]);
        return x + y;
      }),
      client.createFunction({ id: "redrive-invoke", retries: 1, triggers: [{ event: "ckpt/redrive-invoke" }] }, async ({ step }) => {
        const [child, x] = await Promise.all([step.invoke("child", { function: redriveChild, data: {} }), step.run("x", () => 1)]);
        return { child, x };
      }),
      client.createFunction(
        { id: "runtime", retries: 1, checkpointing: { maxRuntime: 100 }, triggers: [{ event: "ckpt/runtime" }] },
        async ({ step }) => {
          const pause = () => new Promise((r) => setTimeout(r, 250));
          const a = await step.run("a", async () => (await pause(), "a"));
          const b = await step.run("b", async () => (await pause(), "b"));
          return a + b;
        },
      ),
    ],
  });
});
afterAll(async () => {
  for (const g of gates.values()) g.release.resolve();
  takeoverStall.release.resolve();
  redriveChildRelease.resolve();
  await app?.stop();
  await tdb?.drop();
});

async function runOf(fnId: string) {
  return pollUntil(async () => (await tdb.db.select().from(engineRuns).where(eq(engineRuns.functionId, fnId)))[0], { ceilingMs: CEILING_MS });
}
async function ended(runId: string) {
  return pollUntil(
    async () => {
      const [r] = await tdb.db.select().from(engineRuns).where(eq(engineRuns.id, runId));
      return r && r.status !== "running" ? r : undefined;
    },
    { ceilingMs: CEILING_MS, why: async () => tdb.db.select().from(engineAttempts).where(eq(engineAttempts.runId, runId)) },
  );
}
const attemptsOf = (runId: string) => tdb.db.select().from(engineAttempts).where(eq(engineAttempts.runId, runId)).orderBy(engineAttempts.id);
const stepsOf = (runId: string) => tdb.db.select().from(engineSteps).where(eq(engineSteps.runId, runId));

function postCheckpoint(runId: string, body: unknown, authorization: string | null = `Bearer ${hashSigningKey(TEST_SIGNING_KEY)}`, fetchImpl = app.handle.fetch) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (authorization) headers.authorization = authorization;
  return fetchImpl(`http://engine.test/v1/checkpoint/${runId}/async`, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });
}

/** Starts a "ckpt-held" run and waits until its call is inside the step; returns the run and the call's lease token. */
async function heldRun(key: string) {
  await app.client.send({ name: "ckpt/held", data: { key } });
  await gate(key).entered.promise;
  const run = await pollUntil(async () => {
    const rows = await tdb.db.select().from(engineRuns).where(eq(engineRuns.functionId, "ckpt-held"));
    return rows.find((r) => (r.event as { data?: { key?: string } }).data?.key === key);
  }, { ceilingMs: CEILING_MS });
  const [job] = await tdb.db.select().from(engineJobs).where(and(eq(engineJobs.runId, run.id), isNotNull(engineJobs.leaseToken)));
  return { runId: run.id, token: job!.leaseToken! };
}

const stepRun = (id: string, data: unknown) => ({ id, op: "StepRun", name: id, displayName: id, data });

describe("the SDK's checkpoint path on the local engine", () => {
  it("runs several steps in one call, each checkpointed (written before the call answers) and executed once", async () => {
    await app.client.send({ name: "ckpt/three", data: {} });
    const run = await ended((await runOf("ckpt-three")).id);
    expect(run).toMatchObject({ status: "completed", output: { a: 1, b: 2, c: 3 } });
    // While step c ran, a and b were stored and no answer had been applied: the checkpoint API wrote them.
    expect(seenInLastStep).toEqual({ completed: [sha1("a"), sha1("b")].sort(), attemptRows: 0 });
    // One call did the whole run; its answer was RunComplete. Each step ran once and was written once.
    expect((await attemptsOf(run.id)).map((a) => [a.stepId, a.attempt, a.outcome])).toEqual([[sha1("complete"), 0, "RunComplete"]]);
    expect([executed.get("a"), executed.get("b"), executed.get("c")]).toEqual([1, 1, 1]);
    const steps = await stepsOf(run.id);
    expect(steps.map((s) => [s.stepId, s.status, s.attempts, s.result]).sort()).toEqual(
      [
        [sha1("a"), "completed", 1, { type: "data", data: 1 }],
        [sha1("b"), "completed", 1, { type: "data", data: 2 }],
        [sha1("c"), "completed", 1, { type: "data", data: 3 }],
      ].sort(),
    );
  }, TEST_TIMEOUT_MS);

  it("a worker that lost its lease mid-call: the next call sees the checkpointed steps memoized, the stale call gets 409", async () => {
    // Observe every answer the app gives (the transport looks the handler up per call).
    const post = app.handlers.POST;
    app.handlers.POST = async (req) => {
      const res = await post(req);
      if (new URL(req.url).searchParams.get("fnId") === "ckpt-takeover") takeoverAnswers.push({ status: res.status, body: await res.clone().text() });
      return res;
    };
    try {
      await app.client.send({ name: "ckpt/takeover", data: {} });
      await takeoverStall.entered.promise; // call 1: a checkpointed, b stalls
      const run = await runOf("ckpt-takeover");
      const [held] = await tdb.db.select().from(engineJobs).where(and(eq(engineJobs.runId, run.id), isNotNull(engineJobs.leaseToken)));
      expect((await stepsOf(run.id)).map((s) => s.stepId)).toEqual([sha1("a")]);
      // Another worker took the job over after this one's lease lapsed (what a stall past the lease or a kill leads
      // to): the token changes, this worker's heartbeat no longer renews it, and the lapsed lease is claimed again.
      await tdb.db.update(engineJobs).set({ leaseToken: "taken-over", leaseUntil: sql`now() - interval '1 second'` }).where(eq(engineJobs.id, held!.id));
      app.handle.engine.wake();
      const done = await ended(run.id);
      expect(done).toMatchObject({ status: "completed", output: ["a", "b-2", "c"] });
      // The stalled call resumes: its checkpoint of b carries the old lease token, is refused (409), and halts it.
      takeoverStall.release.resolve();
      const stale = await pollUntil(() => takeoverAnswers.find((a) => a.status === 400), { ceilingMs: CEILING_MS });
      expect(JSON.parse(stale.body)).toMatchObject({ name: "StaleDispatchError" });
      // a ran once (memoized from its checkpoint in call 2), b twice (at least once), c once; b's result is call 2's.
      expect([executed.get("t:a"), executed.get("t:b"), executed.get("t:c")]).toEqual([1, 2, 1]);
      const b = (await stepsOf(run.id)).find((s) => s.stepId === sha1("b"));
      expect(b).toMatchObject({ attempts: 1, result: { type: "data", data: "b-2" } });
      expect((await tdb.db.select().from(engineRuns).where(eq(engineRuns.functionId, "ckpt-takeover"))).length).toBe(1);
    } finally {
      app.handlers.POST = post;
    }
  }, TEST_TIMEOUT_MS);

  it("a discovery that reaches the checkpointing max runtime hands the next step back as StepPlanned, and the run completes", async () => {
    await app.client.send({ name: "ckpt/runtime", data: {} });
    const run = await ended((await runOf("ckpt-runtime")).id);
    expect(run).toMatchObject({ status: "completed", output: "ab" });
    expect((await attemptsOf(run.id)).map((a) => [a.stepId, a.outcome])).toEqual([
      [sha1("b"), "StepPlanned"], // the discovery: a ran and was checkpointed, then the runtime was up
      [sha1("b"), "StepRun"], // b, run on its own (a requested step is never checkpointed)
      [sha1("complete"), "RunComplete"], // the next discovery
    ]);
  }, TEST_TIMEOUT_MS);

  it("applies a DiscoveryRequest answer (and an empty 206, OpcodeNone) by scheduling another discovery", async () => {
    // The SDK sends DiscoveryRequest when its checkpointing max runtime is reached in sync mode (engine.js,
    // checkpointing-runtime-reached: `{ op: "DiscoveryRequest", id: hashId("discovery-request-<ms>") }`); our
    // functions never run in sync mode, so the app's first answer is that op, signed as the SDK signs; its second is
    // `206 []` (httpdriver: one OpcodeNone; the executor re-drives discovery). Before, both failed the run.
    const post = app.handlers.POST;
    const canned = [JSON.stringify([{ op: "DiscoveryRequest", id: sha1(`discovery-request-${Date.now()}`) }]), "[]"];
    app.handlers.POST = async (req) => {
      if (canned.length > 0 && new URL(req.url).searchParams.get("fnId") === "ckpt-discovery") {
        const body = canned.shift()!;
        const headers = { "content-type": "application/json", "x-inngest-sdk": "inngest-js:v4.24.0", "x-inngest-req-version": "2", "x-inngest-signature": signBody(body, TEST_SIGNING_KEY, Date.now()) };
        return new Response(body, { status: 206, headers });
      }
      return post(req);
    };
    try {
      await app.client.send({ name: "ckpt/discovery", data: {} });
      const run = await ended((await runOf("ckpt-discovery")).id);
      expect(run).toMatchObject({ status: "completed", output: "done" });
      expect((await attemptsOf(run.id)).map((a) => a.outcome)).toEqual(["DiscoveryRequest", "None", "RunComplete"]);
    } finally {
      app.handlers.POST = post;
    }
  }, TEST_TIMEOUT_MS);
});

describe("an answer that moves nothing re-drives discovery (Inngest's restartDiscovery)", () => {
  it("a planned step's call answered `206 []` leaves no run stuck: discovery runs again although the step is pending", async () => {
    // x and y are planned together; x's first call gets `206 []` (signed as the SDK signs). x then has no result and
    // no job: waiting for it before the next discovery (the rule for any other answer) would leave the run stuck.
    const post = app.handlers.POST;
    let cannedX = 1;
    app.handlers.POST = async (req) => {
      const url = new URL(req.url);
      if (url.searchParams.get("fnId") === "ckpt-redrive" && url.searchParams.get("stepId") === sha1("x") && cannedX-- > 0) {
        const headers = { "content-type": "application/json", "x-inngest-sdk": "inngest-js:v4.24.0", "x-inngest-req-version": "2", "x-inngest-signature": signBody("[]", TEST_SIGNING_KEY, Date.now()) };
        return new Response("[]", { status: 206, headers });
      }
      return post(req);
    };
    try {
      await app.client.send({ name: "ckpt/redrive", data: {} });
      const run = await ended((await runOf("ckpt-redrive")).id);
      expect(run).toMatchObject({ status: "completed", output: 3 });
      expect((await attemptsOf(run.id)).find((a) => a.stepId === sha1("x"))?.outcome).toBe("None");
    } finally {
      app.handlers.POST = post;
    }
  }, TEST_TIMEOUT_MS);

  it("the re-driven discovery reports a pending invoke again: it starts no second child run", async () => {
    const post = app.handlers.POST;
    let cannedX = 1;
    app.handlers.POST = async (req) => {
      const url = new URL(req.url);
      if (url.searchParams.get("fnId") === "ckpt-redrive-invoke" && url.searchParams.get("stepId") === sha1("x") && cannedX-- > 0) {
        const headers = { "content-type": "application/json", "x-inngest-sdk": "inngest-js:v4.24.0", "x-inngest-req-version": "2", "x-inngest-signature": signBody("[]", TEST_SIGNING_KEY, Date.now()) };
        return new Response("[]", { status: 206, headers });
      }
      return post(req);
    };
    try {
      await app.client.send({ name: "ckpt/redrive-invoke", data: {} });
      const parent = await runOf("ckpt-redrive-invoke");
      // x gets its result after the re-driven discovery planned it again; the child is still blocked meanwhile.
      await pollUntil(async () => (await stepsOf(parent.id)).find((st) => st.stepId === sha1("x") && st.result !== null), { ceilingMs: CEILING_MS });
      redriveChildRelease.resolve();
      const run = await ended(parent.id);
      expect(run).toMatchObject({ status: "completed", output: { child: "child", x: 1 } });
      expect(await tdb.db.select({ id: engineRuns.id }).from(engineRuns).where(eq(engineRuns.functionId, "ckpt-redrive-child"))).toHaveLength(1);
    } finally {
      app.handlers.POST = post;
    }
  }, TEST_TIMEOUT_MS);
});

describe("ctx.disable_immediate_execution (Inngest's ForceStepPlan)", () => {
  it("is set on the calls of steps an answer planned together, and clear again on the discovery after the fan-in", async () => {
    const post = app.handlers.POST;
    const bodies: { stepId: string | null; disable: boolean }[] = [];
    app.handlers.POST = async (req) => {
      const url = new URL(req.url);
      if (url.searchParams.get("fnId") === "ckpt-fanout") {
        const body = (await req.clone().json()) as { ctx: { disable_immediate_execution: boolean } };
        bodies.push({ stepId: url.searchParams.get("stepId"), disable: body.ctx.disable_immediate_execution });
      }
      return post(req);
    };
    try {
      await app.client.send({ name: "ckpt/fanout", data: {} });
      const run = await ended((await runOf("ckpt-fanout")).id);
      expect(run).toMatchObject({ status: "completed", output: 3 });
      // Discovery planned x and y (two ops: ForceStepPlan); their calls carry it; the discovery enqueued after both
      // (maybeResetForceStepPlan) does not, so the SDK runs "after" in-process and checkpoints it.
      expect(bodies).toEqual([
        { stepId: "step", disable: false },
        ...[sha1("x"), sha1("y")].sort().map(() => ({ stepId: expect.any(String), disable: true })),
        { stepId: "step", disable: false },
      ]);
      expect(bodies.slice(1, 3).map((b) => b.stepId).sort()).toEqual([sha1("x"), sha1("y")].sort());
      expect((await attemptsOf(run.id)).at(-1)?.outcome).toBe("RunComplete");
    } finally {
      app.handlers.POST = post;
    }
  }, TEST_TIMEOUT_MS);
});

describe("attempts as Inngest carries them", () => {
  it("a StepError answered to a job at attempt k is retried at k + 1: the run fails after max_attempts calls in all", async () => {
    await app.client.send({ name: "ckpt/attempts", data: {} });
    const run = await ended((await runOf("ckpt-attempts")).id);
    expect(run.status).toBe("failed");
    // retries: 3 = 4 attempts: two failed discoveries (500), then the step at attempts 2 and 3 (StepError, then the
    // SDK's StepFailed on the last attempt), then the discovery in which the function rethrows the step's error.
    expect((await attemptsOf(run.id)).map((a) => [a.attempt, a.outcome])).toEqual([
      [0, "error"],
      [1, "error"],
      [2, "StepError"],
      [3, "StepFailed"],
      [0, "failed"],
    ]);
    // The attempt the SDK saw in ctx is the job's: 0, 1, 2 (discovery), 3 (step), then 0 (the discovery after it).
    expect(attemptsSeen).toEqual([0, 1, 2, 3, 0]);
    expect(attemptsStepRuns).toBe(2);
  }, TEST_TIMEOUT_MS);
});

describe("POST /v1/checkpoint/{runId}/async", () => {
  it("refuses bad auth (401), bad bodies, unknown runs and async opcodes (400), stale qi_id (409), oversize (413); writes once", async () => {
    const { runId, token } = await heldRun("api");
    const fnId = functionUuid("ckpt-held");
    const body = (steps: unknown[], over: Record<string, unknown> = {}) => ({ run_id: runId, fn_id: fnId, qi_id: token, request_id: "01REQ", steps, ts: Date.now(), ...over });
    const stored = async () => (await stepsOf(runId)).filter((s) => s.result !== null).map((s) => s.stepId);

    expect((await postCheckpoint(runId, body([stepRun("x", 1)]), null)).status).toBe(401);
    expect((await postCheckpoint(runId, body([stepRun("x", 1)]), `Bearer ${hashSigningKey(`signkey-test-${"9".repeat(64)}`)}`)).status).toBe(401);
    expect((await postCheckpoint(runId, "{not json")).status).toBe(400);
    expect((await postCheckpoint(runId, { run_id: runId, fn_id: fnId, steps: [] })).status).toBe(400); // no qi_id
    expect((await postCheckpoint(runId, body([stepRun("x", 1)], { fn_id: "not-a-uuid" }))).status).toBe(400);
    expect((await postCheckpoint("01OTHERRUN0000000000000000", body([stepRun("x", 1)]))).status).toBe(400); // path ≠ body
    const unknown = "01UNKNOWNRUN00000000000000";
    // An unknown run is 400 in Inngest (ErrRunNotFound has no case of its own in the handler), as is another function's.
    expect((await postCheckpoint(unknown, body([stepRun("x", 1)], { run_id: unknown }))).status).toBe(400);
    expect((await postCheckpoint(runId, body([stepRun("x", 1)], { fn_id: functionUuid("ckpt-three") }))).status).toBe(400);
    const sleep = { id: "nap", op: "Sleep", name: "1s" };
    expect((await postCheckpoint(runId, body([stepRun("x", 1), sleep]))).status).toBe(400);
    expect((await postCheckpoint(runId, body([{ id: "done", op: "RunComplete", data: 1 }]))).status).toBe(400);

    const stale = await postCheckpoint(runId, body([stepRun("x", 1)], { qi_id: `${token}-old` }));
    expect(stale.status).toBe(409);
    expect(await stored()).toEqual([]);

    const big = "x".repeat(MAX_STEP_OUTPUT_BYTES);
    expect((await postCheckpoint(runId, body([stepRun("small", 1), stepRun("huge", big)]))).status).toBe(413);
    expect(await stored()).toEqual([]); // all or nothing

    const ok = await postCheckpoint(runId, body([stepRun("x", { v: 1 }), { id: "y", op: "StepPlanned", name: "y" }]));
    expect(ok.status).toBe(200);
    const again = await postCheckpoint(runId, body([stepRun("x", { v: 2 })]));
    expect(again.status).toBe(200);
    const x = (await stepsOf(runId)).find((s) => s.stepId === "x");
    expect(x).toMatchObject({ status: "completed", attempts: 1, result: { type: "data", data: { v: 1 } } });
    expect(await stored()).toEqual(["x"]);

    // During a key rotation the engine (signingKeyFallback) also accepts the hashed previous key.
    expect((await postCheckpoint(runId, body([stepRun("z", 1)]), `Bearer ${hashSigningKey(OLD_KEY)}`)).status).toBe(200);
    const noFallback = createEngineHandler(new Engine({ db: tdb.db, transport: { send: async () => ({ status: 500, headers: new Headers(), body: "" }) }, signingKey: TEST_SIGNING_KEY }));
    const viaNoFallback = (input: string | URL | Request, init?: RequestInit) => noFallback(new Request(input, init));
    expect((await postCheckpoint(runId, body([stepRun("w", 1)]), `Bearer ${hashSigningKey(OLD_KEY)}`, viaNoFallback)).status).toBe(401);

    gate("api").release.resolve();
    expect(await ended(runId)).toMatchObject({ status: "completed", output: "released" });
  }, TEST_TIMEOUT_MS);

  it("refuses a checkpoint that would take the run state over 32 MB (413)", async () => {
    const { runId, token } = await heldRun("state");
    // Eight stored results of just under 4 MB each (what earlier checkpoints would have written): over 32 MB.
    const chunk = MAX_STEP_OUTPUT_BYTES - 64;
    const n = Math.ceil(MAX_RUN_STATE_BYTES / chunk);
    for (let i = 0; i < n; i++) {
      await tdb.sql`insert into engine_steps (run_id, step_id, op, status, result, completed_seq, completed_at)
        values (${runId}, ${`big-${i}`}, 'StepRun', 'completed', jsonb_build_object('type', 'data', 'data', repeat('x', ${chunk}::int)), nextval('engine_step_seq'), now())`;
    }
    const res = await postCheckpoint(runId, { run_id: runId, fn_id: functionUuid("ckpt-held"), qi_id: token, steps: [stepRun("one-more", 1)], ts: Date.now() });
    expect(res.status).toBe(413);
    expect((await stepsOf(runId)).some((s) => s.stepId === "one-more")).toBe(false);
    await tdb.sql`delete from engine_steps where run_id = ${runId} and step_id like 'big-%'`;
    gate("state").release.resolve();
    expect(await ended(runId)).toMatchObject({ status: "completed" });
  }, TEST_TIMEOUT_MS);

  it("accepts /fn/register with the hashed fallback key during a rotation, and not without it", async () => {
    const payload = JSON.stringify({ url: "http://rotating.test/api/inngest", appName: "rotating", functions: [] });
    const register = (fetchImpl: typeof app.handle.fetch) =>
      fetchImpl("http://engine.test/fn/register", { method: "POST", headers: { authorization: `Bearer ${hashSigningKey(OLD_KEY)}`, "content-type": "application/json" }, body: payload });
    expect((await register(app.handle.fetch)).status).toBe(200);
    const noFallback = createEngineHandler(new Engine({ db: tdb.db, transport: { send: async () => ({ status: 500, headers: new Headers(), body: "" }) }, signingKey: TEST_SIGNING_KEY }));
    expect((await register((input, init) => noFallback(new Request(input, init)))).status).toBe(401);
  });
});

function sha1(s: string): string {
  return createHash("sha1").update(s).digest("hex");
}
