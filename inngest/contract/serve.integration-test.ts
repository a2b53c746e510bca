import { createHash, createHmac, randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { canonicalJson, hashSigningKey, removeSigningKeyPrefix, verifyBodySignature } from "@/inngest/engine/protocol";
import { TEST_SIGNING_KEY } from "@/inngest/engine/test-keys";
import { startFakeInngestApi, type FakeInngestApi } from "./fake-inngest-api";
import { fixture, loadFixtures } from "./fixtures";
import { inngestClassify } from "./inngest-rules";

// Inngest's side of the contract, replayed against the app's real /api/inngest (app/api/inngest/route.ts, the
// serve() handler production runs): call requests shaped as Inngest's driver and SDK spec build them, signed as
// Inngest signs them (util.go Sign), answered by the app and judged by Inngest's own rules (inngest-rules.ts, a
// transcription of httpdriver's parsing checked against fixtures/parse-response.json). The app talks to a
// stand-in for Inngest's API (fake-inngest-api.ts) through INNGEST_BASE_URL, as with a self-hosted server: that is
// where the SDK checkpoints and registers.

const sha1 = (s: string) => createHash("sha1").update(s).digest("hex");
type Handler = (req: Request) => Promise<Response>;

let api: FakeInngestApi;
let route: { GET: Handler; POST: Handler; PUT: Handler };
let appUrl: string;

beforeAll(async () => {
  api = await startFakeInngestApi();
  // Before the route (and config/env.js) load: the app's client is built from the environment at import.
  vi.stubEnv("INNGEST_BASE_URL", api.url);
  const mod = (await import("@/app/api/inngest/route")) as unknown as { GET: Handler; POST: Handler; PUT: Handler };
  route = mod;
  const { env } = await import("@/server/env.js");
  appUrl = `${new URL(env.APP_URL).origin}/api/inngest`;
});
afterAll(async () => {
  await api?.close();
  vi.unstubAllEnvs();
});
beforeEach(() => {
  api.requests.length = 0;
  api.checkpoint = { status: 200 };
  api.register = { status: 200, body: { ok: true, modified: true } };
});

/** util.go Sign: `t=<unix s>&s=<hex HMAC-SHA256(body followed by t)>`, keyed by the signing key without its prefix. */
function inngestSign(body: string, nowMs = Date.now()): string {
  const t = Math.floor(nowMs / 1000).toString();
  return `t=${t}&s=${createHmac("sha256", removeSigningKeyPrefix(TEST_SIGNING_KEY)).update(body + t).digest("hex")}`;
}

const calls = loadFixtures<Record<string, unknown>>("call-request");
const checkpoints = loadFixtures<Record<string, unknown>, Record<string, unknown>>("checkpoint");
const sync = loadFixtures<Record<string, unknown>, Record<string, unknown>>("sync");
const driverFields = fixture(calls, "call request body fields (driver.MarshalV1)").request as { bodyFields: string[]; ctxFields: string[] };
const specFields = fixture(calls, "call request body as the SDK spec documents it").request as { bodyFields: string[]; ctxFields: string[] };
const checkpointShape = fixture(checkpoints, "async checkpoint request shape").request as { path: string; bodyFields: string[] };
const responseHeaders = fixture(sync, "call response headers: X-Inngest-Sdk and X-Inngest-Req-Version: 2").expected as { headers: Record<string, string>; sdkHeaderPattern: string };

interface CallInput {
  runId: string;
  steps?: Record<string, unknown>;
  stack?: string[];
  fnId?: string;
}

const pingEvent = () => ({ name: "platform/ping", data: { message: "hi from Inngest" }, id: `01J${randomUUID().replace(/-/g, "").slice(0, 23).toUpperCase()}`, ts: Date.now() });

/**
 * A call request as Inngest's driver builds it (driver.MarshalV1 + request.go): every SDKRequest field, the event
 * with `user: {}`, JCS-canonical; or, with `spec`, only the fields of SDK_SPEC 4.4.1.
 */
function callBody(input: CallInput, shape: "driver" | "spec"): Record<string, unknown> {
  const event = pingEvent();
  const stack = input.stack ?? [];
  if (shape === "spec") {
    return { event, events: [event], steps: input.steps ?? {}, ctx: { run_id: input.runId, attempt: 0, disable_immediate_execution: false, use_api: false, stack: { stack, current: stack.length } } };
  }
  const e = { ...event, user: {} };
  return {
    event: e,
    events: [e],
    steps: input.steps ?? {},
    defers: {},
    ctx: {
      fn_id: input.fnId ?? randomUUID(),
      run_id: input.runId,
      env: "",
      step_id: "step",
      attempt: 0,
      max_attempts: 2,
      stack: { stack, current: stack.length },
      qi_id: `qi-${input.runId}`,
      request_id: `req-${input.runId}`,
      generation_id: 1,
      job_id: `job-${input.runId}`,
      disable_immediate_execution: false,
      use_api: false,
    },
    version: 2,
    use_api: false,
  };
}

/** POST as httpdriver do() sends it (headers L318-362, stepId query L156-164). */
async function call(body: Record<string, unknown>, fnId = "paybridge-platform-ping", stepId = "step") {
  const text = canonicalJson(body);
  const ctx = body.ctx as { run_id: string; request_id?: string; job_id?: string; generation_id?: number };
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "X-Inngest-Signature": inngestSign(text),
    "X-Run-ID": ctx.run_id,
    "x-inngest-req-version": "2",
    "X-Inngest-Step-ID": stepId,
  };
  if (ctx.request_id) headers["x-request-id"] = ctx.request_id;
  if (ctx.generation_id) headers["x-inngest-generation-id"] = String(ctx.generation_id);
  if (ctx.job_id) headers["x-inngest-job-id"] = ctx.job_id;
  const res = await route.POST(new Request(`${appUrl}?fnId=${fnId}&stepId=${stepId}`, { method: "POST", body: text, headers }));
  const resBody = await res.text();
  return { res, body: resBody, judged: inngestClassify(res.status, res.headers, resBody, Date.now()) };
}

function expectSdkAnswer(res: Response, body: string) {
  expect(res.headers.get("x-inngest-sdk")).toMatch(new RegExp(responseHeaders.sdkHeaderPattern));
  expect(res.headers.get("x-inngest-req-version")).toBe(responseHeaders.headers["X-Inngest-Req-Version"]);
  // The SDK signs what it answers a verified request with (the engine relies on it).
  expect(verifyBodySignature(body, res.headers.get("x-inngest-signature"), TEST_SIGNING_KEY, Date.now())).toBe(true);
}

describe("call requests from Inngest's side (fixtures/call-request.json) against /api/inngest", () => {
  it("the driver's request (ctx.fn_id + qi_id): the SDK checkpoints the step to /v1/checkpoint/{run}/async and ends with 206 [RunComplete]", async () => {
    const runId = "01JCONTRACTDRIVER000000001";
    const fnId = randomUUID();
    const body = callBody({ runId, fnId }, "driver");
    expect(Object.keys(body).sort()).toEqual([...driverFields.bodyFields].sort());
    const { res, body: text, judged } = await call(body);
    expect(res.status, text).toBe(206);
    expectSdkAnswer(res, text);

    const posted = api.requests.filter((r) => r.method === "POST" && r.path === checkpointShape.path.replace("{runID}", runId));
    expect(posted, JSON.stringify(api.requests.map((r) => r.path))).toHaveLength(1);
    const cp = posted[0]!;
    expect(cp.headers.authorization).toBe(`Bearer ${hashSigningKey(TEST_SIGNING_KEY)}`);
    expect(cp.headers["content-type"]).toMatch(/application\/json/);
    const sent = JSON.parse(cp.body) as Record<string, unknown> & { steps: { op: string; id: string; data: unknown }[] };
    for (const k of Object.keys(sent)) expect(checkpointShape.bodyFields, `checkpoint body field ${k}`).toContain(k);
    expect(sent).toMatchObject({ run_id: runId, fn_id: fnId, qi_id: `qi-${runId}`, request_id: `req-${runId}`, generation_id: 1, ts: expect.any(Number) });
    expect(sent.steps).toEqual([expect.objectContaining({ op: "StepRun", id: sha1("echo"), data: expect.objectContaining({ message: "hi from Inngest" }) })]);

    // fixtures/checkpoint.json: after a successful checkpoint the TS SDK ends with 206 [RunComplete], no StepRun.
    const after = fixture(checkpoints, "SDK side: after a successful checkpoint the TS SDK ends with 206 [RunComplete]").expected as { callStatus: number; opsInclude: string[]; opsExclude: string[] };
    expect(res.status).toBe(after.callStatus);
    expect(judged.kind).toBe("ops");
    const ops = judged.kind === "ops" ? judged.ops.map((o) => o.op) : [];
    for (const op of after.opsInclude) expect(ops).toContain(op);
    for (const op of after.opsExclude) expect(ops).not.toContain(op);
  });

  it("a failed checkpoint (500) falls back to the classic 206 [StepRun] answer", async () => {
    api.checkpoint = { status: 500, body: { error: "checkpoint store down" } };
    const runId = "01JCONTRACTDRIVER000000002";
    const { res, body: text, judged } = await call(callBody({ runId }, "driver"));
    const fallback = fixture(checkpoints, "SDK side: a failed checkpoint falls back to the 206 answer").expected as { callStatus: number; opsInclude: string[] };
    expect(res.status, text).toBe(fallback.callStatus);
    expectSdkAnswer(res, text);
    expect(api.requests.some((r) => r.path.endsWith(`/${runId}/async`))).toBe(true);
    expect(judged.kind === "ops" ? judged.ops.map((o) => o.op) : []).toEqual(expect.arrayContaining(fallback.opsInclude));
    expect(judged.kind === "ops" ? judged.ops.find((o) => o.op === "StepRun")?.id : undefined).toBe(sha1("echo"));
  });

  it("the SDK spec's request (no fn_id): discovery runs the lone step at once, 206 [StepRun] with the spec's step id hash", async () => {
    const body = callBody({ runId: "01JCONTRACTSPEC00000000001" }, "spec");
    expect(Object.keys(body).sort()).toEqual([...specFields.bodyFields].sort());
    const { res, body: text, judged } = await call(body);
    expect(res.status, text).toBe(206);
    expectSdkAnswer(res, text);
    expect(judged).toMatchObject({ kind: "ops", ops: [{ op: "StepRun", id: sha1("echo") }] });
    const { examples } = fixture(calls, "step ids are hex SHA-1 of the user's id, repeats get :n").request as { examples: Record<string, string> };
    for (const [id, hash] of Object.entries(examples)) expect(sha1(id)).toBe(hash);
    expect(api.requests).toHaveLength(0);
  });

  it("Inngest's untagged memo {data} is read back: 200 with the memoized output (and 206 [RunComplete] with it when checkpointing)", async () => {
    const memo = { message: "hi from Inngest", at: "2026-01-01T00:00:00.000Z" };
    const steps = { [sha1("echo")]: { data: memo } };
    const spec = await call(callBody({ runId: "01JCONTRACTSPEC00000000002", steps, stack: [sha1("echo")] }, "spec"));
    expect(spec.res.status, spec.body).toBe(200);
    expectSdkAnswer(spec.res, spec.body);
    expect(spec.judged).toEqual({ kind: "completed", output: memo });
    const driver = await call(callBody({ runId: "01JCONTRACTDRIVER000000003", steps, stack: [sha1("echo")] }, "driver"));
    expect(driver.res.status, driver.body).toBe(206);
    expect(driver.judged).toMatchObject({ kind: "ops", ops: [{ op: "RunComplete", data: memo }] });
  });

  it("Inngest's untagged memo {error} fails the run for good: 400 + X-Inngest-No-Retry: true (SDK_SPEC 5.2.2)", async () => {
    const error = { name: "Error", message: "the step failed for good" };
    const body = callBody({ runId: "01JCONTRACTSPEC00000000003", steps: { [sha1("echo")]: { error } }, stack: [sha1("echo")] }, "spec");
    const { res, body: text, judged } = await call(body);
    expect(res.status, text).toBe(400);
    expectSdkAnswer(res, text);
    expect(res.headers.get("x-inngest-no-retry")).toBe("true");
    expect(judged).toMatchObject({ kind: "error", retriable: false });
  });

  it("a function the app does not have is a 500 (SDK_SPEC 4.4.1), which Inngest retries", async () => {
    const c = fixture(sync, "a call for a function the app does not have is a 500");
    const q = (c.request as { query: { fnId: string } }).query;
    const { res, judged } = await call(callBody({ runId: "01JCONTRACTSPEC00000000004" }, "spec"), q.fnId);
    expect(res.status).toBe((c.expected as { status: number }).status);
    expect(judged).toMatchObject({ kind: "error", retriable: true });
  });
});

describe("sync and introspection from Inngest's side (fixtures/sync.json) against /api/inngest", () => {
  it("in-band sync as Inngest's conformance runner sends it", async () => {
    const c = fixture(sync, "in-band sync as Inngest's conformance runner sends it");
    const want = c.expected as { statusBelow: number; bodyFields: string[] };
    const payload = JSON.stringify({ url: appUrl });
    const res = await route.PUT(
      new Request(appUrl, { method: "PUT", body: payload, headers: { "Content-Type": "application/json", "x-inngest-sync-kind": "in_band", "X-Inngest-Server-Kind": "dev", "X-Inngest-Signature": inngestSign(payload) } }),
    );
    const text = await res.text();
    expect(res.status, text).toBeLessThan(want.statusBelow);
    const body = JSON.parse(text) as Record<string, unknown> & { functions: { id: string; steps: { step: { retries?: { attempts?: number } } } }[] };
    for (const f of want.bodyFields) expect(body, f).toHaveProperty(f);
    expect(body.app_id).toBe("paybridge");
    // Inngest's default (consts.DefaultRetryCount, fixtures/limits.json) is not the engine's: every function sets its own.
    for (const fn of body.functions) expect(fn.steps.step.retries?.attempts, fn.id).toEqual(expect.any(Number));
  });

  it("out-of-band sync: a signed PUT makes the SDK POST /fn/register as the spec says, and answers {message, modified}", async () => {
    const c = fixture(sync, "out-of-band sync: PUT makes the SDK POST /fn/register");
    const want = (c.expected as { register: { path: string; bodyFields: string[]; bodyValues: Record<string, string>; function: { fields: string[]; step: { id: string; name: string; runtime: { type: string }; urlQuery: { stepId: string } } } } }).register;
    const res = await route.PUT(new Request(appUrl, { method: "PUT", headers: { "X-Inngest-Signature": inngestSign("") } }));
    const text = await res.text();
    const ok = fixture(sync, "sync success: Inngest answers {ok, modified}, the SDK answers the PUT {message, modified}").expected as { status: number; bodyFields: string[]; body: { modified: boolean } };
    expect(res.status, text).toBe(ok.status);
    const answer = JSON.parse(text) as Record<string, unknown>;
    for (const f of ok.bodyFields) expect(answer, f).toHaveProperty(f);
    expect(answer.modified).toBe(ok.body.modified);

    const reg = api.requests.find((r) => r.method === "POST" && r.path === want.path);
    expect(reg, JSON.stringify(api.requests.map((r) => r.path))).toBeDefined();
    expect(reg!.headers.authorization).toBe(`Bearer ${hashSigningKey(TEST_SIGNING_KEY)}`);
    const sent = JSON.parse(reg!.body) as Record<string, unknown> & { functions: Record<string, unknown>[] };
    for (const f of want.bodyFields) expect(sent, f).toHaveProperty(f);
    expect(sent).toMatchObject({ ...want.bodyValues, appName: "paybridge", url: appUrl });
    // [SDK differs from the spec] SDK_SPEC 4.3.2 wants `sdk` equal to X-Inngest-Sdk; SDK 4.24 sends "js:v4.24.0"
    // in the payload and "inngest-js:v4.24.0" in the header. Inngest reads the language from the header (ShouldRetry).
    expect(sent.sdk).toMatch(/^js:v\d+\.\d+\.\d+/);
    for (const fn of sent.functions as { id: string; steps: { step: { id: string; name: string; runtime: { type: string; url: string } } } }[]) {
      for (const f of want.function.fields) expect(fn, `${fn.id}.${f}`).toHaveProperty(f);
      expect(fn.steps.step).toMatchObject({ id: want.function.step.id, name: want.function.step.name, runtime: want.function.step.runtime });
      const url = new URL(fn.steps.step.runtime.url);
      expect(url.searchParams.get("stepId")).toBe(want.function.step.urlQuery.stepId);
      expect(url.searchParams.get("fnId")).toBe(fn.id);
    }
  });

  it("[SDK differs from the spec] a sync the server refuses (400 {error}) answers the PUT 200 {message: <error>, modified: false}, not 500", async () => {
    // SDK_SPEC 4.3.3 says 500; SDK 4.24 takes the status from the reply's body (`status`, default 200), and
    // Inngest's server puts none there (devserver api.go err()). So a PUT's HTTP status does not say whether a
    // sync worked: read `modified` / `message` (docs/inngest-engine.md).
    const refusal = fixture(sync, "the dev server / self-hosted server refuses a sync with 400 {error} (no status in the body)");
    const answer = refusal.inngestAnswer as { status: number; body: { error: string } };
    api.register = answer;
    const spec = fixture(sync, "sync failure: Inngest answers 400 {error}, the SDK answers the PUT 500 {message, modified: false}").expected as { status: number; body: { modified: boolean } };
    const res = await route.PUT(new Request(appUrl, { method: "PUT", headers: { "X-Inngest-Signature": inngestSign("") } }));
    const body = (await res.json()) as { message: string; modified: boolean };
    expect(spec.status).toBe(500);
    expect(res.status).toBe(200);
    expect(body.modified).toBe(spec.body.modified);
    expect(body.message).toContain(answer.body.error);
  });

  it("signed introspection answers the authenticated schema", async () => {
    const want = fixture(sync, "signed introspection returns the authenticated schema").expected as { status: number; bodyFields: string[]; bodyValues: Record<string, unknown> };
    const res = await route.GET(new Request(appUrl, { method: "GET", headers: { "X-Inngest-Signature": inngestSign("") } }));
    const text = await res.text();
    expect(res.status, text).toBe(want.status);
    const body = JSON.parse(text) as Record<string, unknown>;
    // [SDK differs from the spec] SDK 4.24 leaves out has_signing_key_fallback (signing_key_fallback_hash is there).
    for (const f of want.bodyFields.filter((x) => x !== "has_signing_key_fallback")) expect(body, f).toHaveProperty(f);
    expect(body).not.toHaveProperty("has_signing_key_fallback");
    expect(body).toMatchObject(want.bodyValues);
  });

  it("[app differs] unsigned introspection is refused (401) instead of the spec's unauthenticated answer", async () => {
    // docs/inngest-engine.md "Signatures, in every mode": every request to /api/inngest must be signed.
    const res = await route.GET(new Request(appUrl, { method: "GET" }));
    expect(res.status).toBe(401);
  });
});
