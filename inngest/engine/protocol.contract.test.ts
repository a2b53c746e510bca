import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Inngest, NonRetriableError, RetryAfterError, version } from "inngest";
import { serve } from "inngest/next";
import { answerKeys, buildCallBody, canonicalJson, functionUuid, hashSigningKey, parseCallResponse, SDK_VERSION_PINNED, signBody, verifyBodySignatureWithAny, type StepResult } from "./protocol";

// Contract tests on the installed `inngest` SDK: the wire shapes the engine relies on. They call the
// real serve() handlers with Web Requests; if an SDK upgrade changes a shape, these fail first.

const APP_URL = "http://app.test/api/inngest";
const silent = { info() {}, warn() {}, error() {}, debug() {} };
const sha1 = (s: string) => createHash("sha1").update(s).digest("hex");

interface Sent {
  url: string;
  headers: Headers;
  body: string;
}

/** Checkpoints the SDK posted (`/v1/checkpoint/{run}/async`), parsed. */
interface Checkpoint {
  url: string;
  authorization: string | null;
  body: { run_id: string; fn_id: string; qi_id: string; request_id?: string; request_started_at?: number; ts: number; steps: { id: string; op: string; data?: unknown }[] };
}

function makeApp(opts: { signingKey?: string } = {}) {
  const sent: Sent[] = [];
  /** The status the (fake) server answers checkpoints with. */
  const checkpointStatus = { value: 200 };
  const client = new Inngest({
    id: "contract",
    isDev: !opts.signingKey,
    baseUrl: "http://engine.test/",
    eventKey: "evkey",
    signingKey: opts.signingKey,
    logger: silent,
    fetch: (async (input: string | URL | Request, init?: RequestInit) => {
      sent.push({ url: String(input), headers: new Headers(init?.headers), body: String(init?.body ?? "") });
      if (String(input).includes("/v1/checkpoint/")) return new Response(null, { status: checkpointStatus.value });
      return new Response(JSON.stringify({ ids: ["01TEST"], status: 200 }), { status: 200 });
    }) as typeof fetch,
  });
  const child = client.createFunction({ id: "child", triggers: [] }, async ({ event }) => event.data);
  const fns = [
    client.createFunction(
      { id: "two-steps", retries: 2, triggers: [{ event: "c/two", if: "event.data.ok == true" }], onFailure: async () => {} },
      async ({ step }) => {
        const a = await step.run("a", () => 1);
        const b = await step.run("b", () => a + 1);
        return { b };
      },
    ),
    client.createFunction({ id: "parallel", triggers: [{ event: "c/par" }] }, async ({ step }) => {
      const [x, y] = await Promise.all([step.run("x", () => "x"), step.run("y", () => "y")]);
      return x + y;
    }),
    client.createFunction({ id: "step-throws", retries: 1, triggers: [{ event: "c/throw" }] }, async ({ step }) => {
      await step.run("boom", () => {
        throw new Error("kaput");
      });
    }),
    client.createFunction({ id: "fn-nonretriable", triggers: [{ event: "c/nr" }] }, async () => {
      throw new NonRetriableError("give up");
    }),
    client.createFunction({ id: "fn-throws", triggers: [{ event: "c/ft" }] }, async () => {
      throw new Error("try again");
    }),
    client.createFunction({ id: "retry-after", triggers: [{ event: "c/ra" }] }, async () => {
      throw new RetryAfterError("later", 30_000);
    }),
    client.createFunction({ id: "async-ops", triggers: [{ event: "c/ops" }] }, async ({ step }) => {
      await step.sleep("nap", "2s");
      await step.waitForEvent("wait", { event: "c/other", timeout: "1m", if: "async.data.k == event.data.k" });
      await step.invoke("inv", { function: child, data: { q: 1 } });
      await step.sendEvent("send", { name: "c/sent", data: { z: 1 } });
    }),
    child,
  ];
  const served = serve({ client, functions: fns });
  // The SDK refuses an event that matches none of the function's triggers: send each its own.
  const eventFor: Record<string, string> = { "two-steps": "c/two", parallel: "c/par", "step-throws": "c/throw", "fn-nonretriable": "c/nr", "fn-throws": "c/ft", "retry-after": "c/ra", "async-ops": "c/ops" };
  // As Inngest's driver calls: ctx.fn_id + ctx.qi_id always (the SDK then checkpoints), signed when the app has a key.
  const call = (fnId: string, stepId: string | null, steps: Record<string, StepResult> = {}, attempt = 0, headers: Record<string, string> = {}) => {
    const body = canonicalJson(
      buildCallBody({
        runId: "01RUN",
        event: { name: eventFor[fnId] ?? "c/x", data: { k: 1 } },
        steps,
        stack: Object.keys(steps),
        attempt,
        maxAttempts: 3,
        fnId: functionUuid(`contract-${fnId}`),
        queueItemId: "lease-token-1",
        requestId: "01REQUEST",
        jobId: "42",
      }),
    );
    const url = `${APP_URL}?fnId=contract-${fnId}&stepId=${stepId ?? "step"}`;
    const signature: Record<string, string> = opts.signingKey ? { "x-inngest-signature": signBody(body, opts.signingKey, Date.now()) } : {};
    return served.POST(new Request(url, { method: "POST", body, headers: { "content-type": "application/json", "x-request-id": "01REQUEST", ...signature, ...headers } }) as never, undefined as never) as Promise<Response>;
  };
  const checkpoints = (): Checkpoint[] =>
    sent.filter((s) => s.url.includes("/v1/checkpoint/")).map((s) => ({ url: s.url, authorization: s.headers.get("authorization"), body: JSON.parse(s.body) as Checkpoint["body"] }));
  return { client, served, sent, call, checkpoints, checkpointStatus };
}

const KEY = "signkey-test-0123456789abcdef0123456789abcdef";

async function ops(res: Response) {
  return JSON.parse(await res.text()) as { id: string; op: string; name?: string; opts?: Record<string, unknown>; data?: unknown; error?: { message: string } }[];
}

describe("inngest SDK wire contract", () => {
  it("is the pinned SDK version", () => {
    expect(version).toBe(SDK_VERSION_PINNED);
  });

  it("in-band sync (PUT) answers with the function configs", async () => {
    const { served } = makeApp();
    const res = (await served.PUT(
      new Request(APP_URL, { method: "PUT", body: JSON.stringify({ url: APP_URL }), headers: { "x-inngest-sync-kind": "in_band", "content-type": "application/json" } }) as never,
      undefined as never,
    )) as Response;
    expect(res.status).toBe(200);
    expect(res.headers.get("x-inngest-sync-kind")).toBe("in_band");
    const body = (await res.json()) as { app_id: string; url: string; functions: Record<string, unknown>[] };
    expect(body.app_id).toBe("contract");
    expect(body.url).toBe(APP_URL);
    const two = body.functions.find((f) => f.id === "contract-two-steps") as Record<string, unknown>;
    expect(two.triggers).toEqual([{ event: "c/two", expression: "event.data.ok == true" }]);
    const step = (two.steps as Record<string, { runtime: { url: string }; retries: { attempts: number } }>).step;
    expect(step?.retries).toEqual({ attempts: 2 });
    expect(new URL(step?.runtime.url ?? "").searchParams.get("fnId")).toBe("contract-two-steps");
    expect(new URL(step?.runtime.url ?? "").searchParams.get("stepId")).toBe("step");
    const failure = body.functions.find((f) => f.id === "contract-two-steps-failure") as Record<string, unknown>;
    expect(failure.triggers).toEqual([{ event: "inngest/function.failed", expression: "event.data.function_id == 'contract-two-steps'" }]);
  });

  it("out-of-band sync posts to /fn/register with the hashed signing key", async () => {
    const key = "signkey-test-0123456789abcdef0123456789abcdef";
    const { served, sent } = makeApp({ signingKey: key });
    await served.PUT(new Request(APP_URL, { method: "PUT" }) as never, undefined as never);
    const reg = sent.find((s) => s.url.endsWith("/fn/register"));
    expect(reg?.headers.get("authorization")).toBe(`Bearer ${hashSigningKey(key)}`);
    expect(JSON.parse(reg?.body ?? "{}")).toMatchObject({ appName: "contract", url: APP_URL, functions: expect.any(Array) });
  });

  it("called as Inngest calls (ctx.fn_id + qi_id), discovery runs the steps in-process, checkpoints each, answers 206 RunComplete", async () => {
    const { call, checkpoints } = makeApp({ signingKey: KEY });
    const r1 = await call("two-steps", null);
    expect(r1.status).toBe(206);
    expect(r1.headers.get("x-inngest-req-version")).toBe("2");
    expect(await ops(r1)).toEqual([expect.objectContaining({ op: "RunComplete", data: { b: 2 } })]);
    const cps = checkpoints();
    expect(cps.map((c) => c.url)).toEqual(["http://engine.test/v1/checkpoint/01RUN/async", "http://engine.test/v1/checkpoint/01RUN/async"]);
    expect(cps[0]?.authorization).toBe(`Bearer ${hashSigningKey(KEY)}`);
    expect(cps[0]?.body).toMatchObject({ run_id: "01RUN", fn_id: functionUuid("contract-two-steps"), qi_id: "lease-token-1", request_id: "01REQUEST", ts: expect.any(Number), request_started_at: expect.any(Number) });
    expect(cps.map((c) => c.body.steps.map((st) => ({ id: st.id, op: st.op, data: st.data })))).toEqual([
      [{ id: sha1("a"), op: "StepRun", data: 1 }],
      [{ id: sha1("b"), op: "StepRun", data: 2 }],
    ]);
    // Memoized steps are not run again; with all of them memoized the answer is RunComplete and nothing is checkpointed.
    const r2 = await call("two-steps", null, { [sha1("a")]: { type: "data", data: 1 }, [sha1("b")]: { type: "data", data: 2 } });
    expect(await ops(r2)).toEqual([expect.objectContaining({ op: "RunComplete", data: { b: 2 } })]);
    expect(checkpoints()).toHaveLength(2);
  });

  it("a retry (attempt > 0) is answered step by step: 206 StepRun, no checkpoint", async () => {
    const { call, checkpoints } = makeApp({ signingKey: KEY });
    const [op1] = await ops(await call("two-steps", null, {}, 1));
    expect(op1).toMatchObject({ op: "StepRun", id: sha1("a"), data: 1 });
    expect(checkpoints()).toHaveLength(0);
  });

  it("a checkpoint answered 409 halts the call (400, no retry: StaleDispatchError); a failing checkpoint falls back to the 206", async () => {
    const stale = makeApp({ signingKey: KEY });
    stale.checkpointStatus.value = 409;
    const halted = await stale.call("two-steps", null);
    expect(halted.status).toBe(400);
    expect(halted.headers.get("x-inngest-no-retry")).toBe("true");
    expect(await halted.json()).toMatchObject({ name: "StaleDispatchError" });
    expect(stale.checkpoints()).toHaveLength(1); // not retried, and step b never ran
    const down = makeApp({ signingKey: KEY });
    down.checkpointStatus.value = 503;
    const fallback = await down.call("two-steps", null);
    expect(fallback.status).toBe(206);
    expect(await ops(fallback)).toEqual([expect.objectContaining({ op: "StepRun", id: sha1("a"), data: 1 })]);
    expect(down.checkpoints().length).toBeGreaterThan(1); // retried with backoff first
  }, 20_000);

  it("parallel steps come back as StepPlanned; a requested stepId runs only that step", async () => {
    const { call } = makeApp();
    const planned = await ops(await call("parallel", null));
    expect(planned.map((o) => o.op)).toEqual(["StepPlanned", "StepPlanned"]);
    expect(planned.map((o) => o.id).sort()).toEqual([sha1("x"), sha1("y")].sort());
    const ran = await ops(await call("parallel", sha1("y")));
    expect(ran).toHaveLength(1);
    expect(ran[0]).toMatchObject({ op: "StepRun", id: sha1("y"), data: "y" });
  });

  it("a throwing step is StepError while attempts remain, StepFailed on the last", async () => {
    const { call } = makeApp();
    const first = await ops(await call("step-throws", null, {}, 0));
    expect(first[0]).toMatchObject({ op: "StepError", id: sha1("boom"), error: { message: "kaput" } });
    const last = await ops(await call("step-throws", sha1("boom"), {}, 2));
    expect(last[0]).toMatchObject({ op: "StepFailed", id: sha1("boom") });
  });

  it("function errors: 500 retriable, 400 + no-retry for NonRetriableError, Retry-After for RetryAfterError", async () => {
    const { call } = makeApp();
    const retriable = await call("fn-throws", null);
    expect(retriable.status).toBe(500);
    expect(retriable.headers.get("x-inngest-no-retry")).toBe("false");
    const nr = await call("fn-nonretriable", null);
    expect(nr.status).toBe(400);
    expect(nr.headers.get("x-inngest-no-retry")).toBe("true");
    const outcome = parseCallResponse(nr.status, nr.headers, await nr.text(), Date.now());
    expect(outcome).toMatchObject({ kind: "error", retriable: false, error: { name: "NonRetriableError", message: "give up" } });
    const ra = await call("retry-after", null);
    expect(ra.status).toBe(500);
    expect(ra.headers.get("retry-after")).toBeTruthy();
    expect(parseCallResponse(ra.status, ra.headers, await ra.text(), Date.now())).toMatchObject({ kind: "error", retriable: true, retryAfterMs: expect.any(Number) });
  });

  it("sleep, waitForEvent, invoke are ops for the executor; sendEvent runs in the SDK", async () => {
    const { call, sent } = makeApp();
    const [sleep] = await ops(await call("async-ops", null));
    expect(sleep).toMatchObject({ op: "Sleep", id: sha1("nap"), name: "2s" });
    const s1 = { [sha1("nap")]: { type: "data" as const, data: null } };
    const [wait] = await ops(await call("async-ops", null, s1));
    expect(wait).toMatchObject({ op: "WaitForEvent", id: sha1("wait"), name: "c/other", opts: { timeout: "1m", if: "async.data.k == event.data.k" } });
    const s2 = { ...s1, [sha1("wait")]: { type: "data" as const, data: null } };
    const [inv] = await ops(await call("async-ops", null, s2));
    expect(inv).toMatchObject({ op: "InvokeFunction", id: sha1("inv"), opts: { function_id: "contract-child", payload: { data: { q: 1 } } } });
    const s3 = { ...s2, [sha1("inv")]: { type: "data" as const, data: { q: 1 } } };
    // sendEvent is a step the SDK runs itself (it sends, then checkpoints the result); then the run completes.
    expect(await ops(await call("async-ops", null, s3))).toEqual([expect.objectContaining({ op: "RunComplete" })]);
    expect(sent.map((x) => new URL(x.url).pathname)).toEqual(["/e/evkey", "/v1/checkpoint/01RUN/async"]);
    const cp = JSON.parse(sent[1]?.body ?? "{}") as Checkpoint["body"];
    expect(cp.steps[0]).toMatchObject({ op: "StepRun", id: sha1("send"), data: { ids: ["01TEST"] } });
  });

  it("inngest.send posts an array to /e/{key} with an event-id seed", async () => {
    const { client, sent } = makeApp();
    await client.send({ name: "c/hello", data: { a: 1 }, id: "dedupe-1" });
    const req = sent.at(-1);
    expect(req?.url).toBe("http://engine.test/e/evkey");
    expect(req?.headers.get("x-inngest-event-id-seed")).toMatch(/^\d+,[A-Za-z0-9+/=]+$/);
    expect(JSON.parse(req?.body ?? "[]")).toEqual([expect.objectContaining({ name: "c/hello", data: { a: 1 }, id: "dedupe-1", ts: expect.any(Number) })]);
  });

  it("cloud mode verifies X-Inngest-Signature the way the engine signs", async () => {
    const key = "signkey-test-00112233445566778899aabbccddeeff";
    const { served } = makeApp({ signingKey: key });
    const body = canonicalJson(
      buildCallBody({ runId: "01RUN", event: { name: "c/two", data: { k: 1 } }, steps: {}, stack: [], attempt: 0, maxAttempts: 3, fnId: functionUuid("contract-two-steps"), queueItemId: "t" }),
    );
    const post = (headers: Record<string, string>) =>
      served.POST(new Request(`${APP_URL}?fnId=contract-two-steps&stepId=step`, { method: "POST", body, headers }) as never, undefined as never) as Promise<Response>;
    expect((await post({})).status).toBe(401);
    expect((await post({ "x-inngest-signature": signBody(body, `signkey-test-${"7".repeat(32)}`, Date.now()) })).status).toBe(401);
    expect((await post({ "x-inngest-signature": signBody(body, key, Date.now()) })).status).toBe(206);
  });

  it("the SDK signs its answer with the key that verified the call: mid-rotation the engine accepts the fallback's", async () => {
    const oldKey = KEY;
    const newKey = `signkey-test-${"ab".repeat(32)}`;
    const { call } = makeApp({ signingKey: oldKey }); // an app not yet given the new key signs with the old one
    const res = await call("fn-throws", null);
    const text = await res.text();
    const signature = res.headers.get("x-inngest-signature");
    expect(verifyBodySignatureWithAny(text, signature, answerKeys({ signingKey: newKey, signingKeyFallback: oldKey }), Date.now())).toBe(true);
    expect(verifyBodySignatureWithAny(text, signature, answerKeys({ signingKey: newKey }), Date.now())).toBe(false);
  });
});
