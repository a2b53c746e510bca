import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { StepOpCode } from "inngest/types";
import * as limits from "@/inngest/engine/limits";
import { DEDUPE_WINDOW_MS } from "@/inngest/engine/runs";
import { buildCallBody, canonicalJson, hashSigningKey, OP, parseCallResponse, removeSigningKeyPrefix, signBody, type CallOutcome } from "@/inngest/engine/protocol";
import { fixture, goTimeFormat, INNGEST_COMMIT, loadFixtures } from "./fixtures";
import { inngestClassify } from "./inngest-rules";

// The local engine's side of Inngest's protocol, checked against fixtures transcribed from inngest/inngest
// (inngest/contract/fixtures, provenance per case). Pure functions only; engine.integration-test.ts replays the
// same fixtures through a running engine, serve.integration-test.ts against the app's /api/inngest.

interface ParseExpected {
  kind: "completed" | "ops" | "error";
  retriable?: boolean;
  output?: unknown;
  ops?: { op: string; id?: string }[];
  retryAtOffsetSeconds?: number;
  errorName?: string;
  errorMessage?: string;
}
interface ParseResponse {
  status: number;
  headers: Record<string, string | { offsetSeconds: number; format: "RFC3339" | "RFC1123" }>;
  body?: string;
  generatedBody?: { op: string; id: string; name: string; dataStringOfXBytes: number };
}

const parse = loadFixtures<ParseResponse, ParseExpected>("parse-response");

/** The engine's classification of an answer, composed as executor.ts does it (callApp, then applyOutcome). */
function engineClassify(status: number, headers: Headers, body: string, nowMs: number): CallOutcome {
  const outcome = limits.enforceStepOutputLimit(parseCallResponse(status, headers, body, nowMs));
  if (outcome.kind === "completed") return outcome;
  return { ...outcome, retryAfterMs: limits.clampRetryAfterMs(outcome.retryAfterMs) };
}

function fixtureResponse(r: ParseResponse, nowMs: number): { status: number; headers: Headers; body: string } {
  const headers = new Headers();
  for (const [k, v] of Object.entries(r.headers)) headers.set(k, typeof v === "string" ? v : goTimeFormat(nowMs + v.offsetSeconds * 1000, v.format));
  const g = r.generatedBody;
  const body = g ? JSON.stringify([{ op: g.op, id: g.id, name: g.name, data: "x".repeat(g.dataStringOfXBytes) }]) : (r.body ?? "");
  return { status: r.status, headers, body };
}

/**
 * Where the engine answers differently from Inngest on purpose (docs/inngest-engine.md, "Where the local engine
 * still differs from Inngest"): the engine's behaviour is pinned instead, so a change to it is seen.
 */
const ENGINE_DIFFERS: Record<string, { engine: ParseExpected; why: string }> = {
  "200 double-encoded JSON object output is decoded": {
    engine: { kind: "completed", output: '{"nested": {"deep": "hi"}}' },
    why: "double-encoded output came from old SDKs; SDK 4.24 sends JSON once, the engine keeps a JSON string a string",
  },
  "206 single opcode object (0.x SDKs)": {
    engine: { kind: "error", retriable: true },
    why: "0.x SDKs answered one op object; SDK 4.24 always answers an array, the engine refuses anything else as malformed (retried)",
  },
};

function expectClassified(name: string, got: CallOutcome, want: ParseExpected) {
  expect(got.kind, name).toBe(want.kind);
  if (want.retriable !== undefined) expect(got.kind === "error" && got.retriable, `${name}: retriable`).toBe(want.retriable);
  if (want.output !== undefined) expect(got.kind === "completed" ? got.output : undefined, `${name}: output`).toEqual(want.output);
  if (want.ops) {
    const ops = got.kind === "ops" ? got.ops.map((o) => (want.ops?.[0]?.id === undefined ? { op: o.op } : { op: o.op, id: o.id })) : [];
    expect(ops, `${name}: ops`).toEqual(want.ops);
  }
  if (want.retryAtOffsetSeconds !== undefined) {
    const ms = got.kind === "completed" ? undefined : got.retryAfterMs;
    expect(ms, `${name}: Retry-After`).toBeDefined();
    // Go truncates to whole seconds; allow that and the test's own run time.
    expect(Math.abs((ms ?? 0) - want.retryAtOffsetSeconds * 1000), `${name}: Retry-After ${ms} ms`).toBeLessThanOrEqual(1500);
  }
  if (want.errorName) expect(got.kind === "error" ? got.error.name : undefined, `${name}: error name`).toBe(want.errorName);
  if (want.errorMessage) expect(got.kind === "error" ? got.error.message : undefined, `${name}: error message`).toBe(want.errorMessage);
}

describe("the engine classifies an SDK's answer as Inngest's httpdriver does (fixtures/parse-response.json)", () => {
  it("has the fixtures of the pinned commit", () => {
    expect(parse.commit).toBe(INNGEST_COMMIT);
    expect(parse.cases.length).toBeGreaterThanOrEqual(30);
    for (const c of parse.cases) expect(c.provenance, c.name).toMatchObject({ repo: "inngest/inngest", commit: parse.commit, path: expect.any(String) });
  });

  for (const c of parse.cases) {
    const differs = ENGINE_DIFFERS[c.name];
    it(differs ? `${c.name} [engine differs: ${differs.why}]` : c.name, () => {
      const now = Date.now();
      const r = fixtureResponse(c.response!, now);
      expectClassified(c.name, engineClassify(r.status, r.headers, r.body, now), differs ? differs.engine : c.expected!);
    });
  }
});

describe("opcodes (fixtures/opcodes.json)", () => {
  const ops = loadFixtures<never, { names?: string[]; sync?: string[]; specOnly?: string[] }>("opcodes");
  const names = new Set(fixture(ops, "opcode names, in enum order").expected?.names);
  const specOnly = new Set(fixture(ops, "StepNotFound is an SDK-spec opcode the server's enum does not have").expected?.specOnly);

  it("every opcode the engine knows is one of Inngest's (or the spec's StepNotFound)", () => {
    for (const op of Object.values(OP)) expect(names.has(op) || specOnly.has(op), op).toBe(true);
  });

  it("a step's output is measured as Inngest stores it: StepRun {data}, StepError / StepFailed {error}", () => {
    const shapes = fixture(ops, "a step's stored result: StepRun wraps data, StepError/StepFailed wrap error").expected as unknown as Record<string, string>;
    const error = { name: "Error", message: "kaput" };
    const stored: Record<string, unknown> = { StepRun: { data: "ab<c" }, StepError: { error }, StepFailed: { error } };
    for (const op of Object.keys(shapes)) {
      const out = limits.stepOutputBytes({ id: "s", op, data: "ab<c", error });
      // Go's json.Marshal escapes < > & as \u003c… (6 bytes): limits.goJsonBytes.
      expect(out, op).toBe(limits.goJsonBytes(JSON.stringify(stored[op])));
    }
  });

  it("every opcode the pinned SDK can send is one Inngest knows", () => {
    for (const op of Object.values(StepOpCode) as string[]) expect(names.has(op) || specOnly.has(op), op).toBe(true);
  });
});

describe("the call request (fixtures/call-request.json)", () => {
  const calls = loadFixtures<Record<string, unknown>>("call-request");
  const fields = fixture(calls, "call request body fields (driver.MarshalV1)").request as { bodyFields: string[]; ctxFields: string[]; ctxFieldsOmitEmpty: string[]; stackFields: string[] };
  const body = buildCallBody({
    runId: "01JCONTRACTRUN000000000000",
    event: { name: "c/x", data: {}, id: "e1", ts: 1 },
    steps: {},
    stack: [],
    attempt: 0,
    maxAttempts: 2,
    fnId: "6f1c2a4e-0d3b-5a7e-9c1d-2b3a4c5d6e7f",
    queueItemId: "qi-1",
    requestId: "01JREQUEST0000000000000000",
    jobId: "job-1",
  }) as unknown as Record<string, unknown> & { ctx: Record<string, unknown>; event: Record<string, unknown> };

  it("carries every field of Inngest's SDKRequest and SDKRequestContext", () => {
    expect(Object.keys(body).sort()).toEqual([...fields.bodyFields].sort());
    for (const f of fields.ctxFields) expect(body.ctx, `ctx.${f}`).toHaveProperty(f);
    expect(Object.keys(body.ctx.stack as object).sort()).toEqual([...fields.stackFields].sort());
    for (const k of Object.keys(body.ctx)) expect([...fields.ctxFields, ...fields.ctxFieldsOmitEmpty], `ctx.${k} is one of Inngest's`).toContain(k);
  });

  it("carries every field of the SDK spec's call request", () => {
    const spec = fixture(calls, "call request body as the SDK spec documents it").request as { bodyFields: string[]; ctxFields: string[] };
    for (const f of spec.bodyFields) expect(body, f).toHaveProperty(f);
    for (const f of spec.ctxFields) expect(body.ctx, `ctx.${f}`).toHaveProperty(f);
  });

  it("an empty stack is {stack: [], current: 0}", () => {
    const { stackJson } = fixture(calls, "an empty stack marshals as {\"stack\":[],\"current\":0}").request as { stackJson: string };
    expect(canonicalJson(body.ctx.stack)).toBe(canonicalJson(JSON.parse(stackJson)));
  });

  it("the signature is t=<unix s>&s=<hex hmac-sha256(key sans prefix, body + t)> (util.go Sign)", () => {
    const { signatureFormat } = fixture(calls, "signature: t=<unix seconds>&s=<hex HMAC-SHA256 of body followed by t>").request as { signatureFormat: string };
    const key = `signkey-test-${"ab".repeat(32)}`;
    const text = canonicalJson(body);
    const sig = signBody(text, key, Date.now());
    expect(sig).toMatch(new RegExp(signatureFormat));
    const t = new URLSearchParams(sig).get("t") ?? "";
    expect(new URLSearchParams(sig).get("s")).toBe(createHmac("sha256", removeSigningKeyPrefix(key)).update(text + t).digest("hex"));
  });

  it("[engine differs] memoized steps are sent tagged ({type: \"data\", data}); Inngest sends {data} / {error} — the SDK reads both", () => {
    const memo = buildCallBody({ runId: "r", event: { name: "c/x", data: {} }, steps: { a: { type: "data", data: 1 } }, stack: ["a"], attempt: 0, maxAttempts: 1 });
    expect(memo.steps.a).toEqual({ type: "data", data: 1 });
    // The untagged Inngest form is replayed against the app's serve() in serve.integration-test.ts.
  });

  it("[engine differs] the event is sent as stored: Inngest adds user: {} when it has none", () => {
    const { eventDefaults } = fixture(calls, "every event carries a user object").request as { eventDefaults: Record<string, unknown> };
    expect(eventDefaults).toEqual({ user: {} });
    expect(body.event).not.toHaveProperty("user");
  });
});

describe("sync: the hashed signing key (fixtures/sync.json)", () => {
  it("matches the SDK spec's example", () => {
    const sync = loadFixtures<{ signingKey: string }, { hashed: string }>("sync");
    const c = fixture(sync, "hashed signing key example");
    expect(hashSigningKey(c.request!.signingKey)).toBe(c.expected!.hashed);
  });
});

describe("limits (fixtures/limits.json)", () => {
  const l = loadFixtures<never, { value?: number; bytes?: number; ms?: number }>("limits");
  const want = (name: string) => {
    const e = fixture(l, name).expected!;
    return e.value ?? e.bytes ?? e.ms;
  };
  it("the engine's limits are Inngest's", () => {
    expect(limits.MAX_STEP_OUTPUT_BYTES).toBe(want("MaxStepOutputSize"));
    expect(limits.MAX_RUN_STATE_BYTES).toBe(want("DefaultMaxStateSizeLimit"));
    expect(limits.MAX_STEPS_PER_RUN).toBe(want("DefaultMaxStepLimit"));
    expect(limits.MAX_EVENT_BYTES).toBe(want("DefaultMaxEventSize"));
    expect(limits.RETRY_AFTER_MIN_MS).toBe(want("MinRetryDuration"));
    expect(limits.RETRY_AFTER_MAX_MS).toBe(want("MaxRetryDuration"));
    expect(limits.MAX_FUNCTION_TIMEOUT_MS).toBe(want("MaxFunctionTimeout"));
    expect(limits.DEFAULT_RETRIES).toBe(want("DefaultRetryCount"));
    expect(DEDUPE_WINDOW_MS).toBe(want("FunctionIdempotencyPeriod"));
  });
});

describe("inngest-rules.ts (the transcription of Inngest's rules that judges the app's answers) reproduces every fixture", () => {
  for (const c of parse.cases) {
    it(c.name, () => {
      const now = Date.now();
      const r = fixtureResponse(c.response!, now);
      const got = inngestClassify(r.status, r.headers, r.body, now);
      const want = c.expected! as ParseExpected & { errorContains?: string };
      expect(got.kind).toBe(want.kind);
      if (want.retriable !== undefined) expect(got.kind === "error" && got.retriable).toBe(want.retriable);
      if (want.output !== undefined) expect(got.kind === "completed" ? got.output : undefined).toEqual(want.output);
      if (want.ops) expect(got.kind === "ops" ? got.ops.map((o) => (want.ops?.[0]?.id === undefined ? { op: o.op } : { op: o.op, id: o.id })) : []).toEqual(want.ops);
      if (want.retryAtOffsetSeconds !== undefined) expect(Math.abs((got.kind === "error" ? (got.retryAfterMs ?? -1e9) : -1e9) - want.retryAtOffsetSeconds * 1000)).toBeLessThanOrEqual(1500);
      if (want.errorContains) expect(got.kind === "error" ? got.error : "").toContain(want.errorContains);
      if (want.errorName) expect(got.kind === "error" ? (got.output as { name?: string }).name : undefined).toBe(want.errorName);
      if (want.errorMessage) expect(got.kind === "error" ? (got.output as { message?: string }).message : undefined).toBe(want.errorMessage);
    });
  }
});
