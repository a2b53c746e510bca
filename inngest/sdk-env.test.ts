import { Inngest } from "inngest";
import { serve } from "inngest/next";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createInngestClient, type InngestClientConfig } from "./client";
import { canonicalJson, EXECUTION_VERSION, signBody } from "./engine/protocol";
import { TEST_SIGNING_KEY } from "./engine/test-keys";
import { serveOptions } from "./serve-options";

// The configuration trap of issue 19 item 6: SDK 4.24.0 reads process.env by itself wherever an option is unset. In
// cloud mode with no base URL (Inngest Cloud), a leftover INNGEST_DEV URL becomes the event API and the API the SDK
// checkpoints steps to (components/Inngest.js apiBaseUrl / eventBaseUrl → resolveDefaultUrl → explicitDevUrl).
// Where a request would go is captured through the client's `fetch` option: nothing leaves the process.

const LEFTOVER = "http://leftover-dev.test:8288";
const APP = "https://pay.example.com/api/inngest";
const RUN_ID = "01SDKENVRUN000000000000000";

interface Sent {
  url: string;
  headers: Headers;
}

function capture() {
  const sent: Sent[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    sent.push({ url: input instanceof Request ? input.url : String(input), headers: new Headers(init?.headers) });
    return Response.json({ ids: ["01EVENT"], status: 200 });
  }) as typeof globalThis.fetch;
  return { sent, fetch };
}

/** A run of a two-step function as Inngest sends it: with ctx.fn_id / qi_id the SDK checkpoints its steps. */
async function runOnce(client: Inngest) {
  const fn = client.createFunction({ id: "probe", retries: 0, triggers: [{ event: "test/probe" }] }, async ({ step }) => {
    await step.run("a", () => 1);
    await step.run("b", () => 2);
    return "done";
  });
  const event = { name: "test/probe", data: {}, id: "01EVT", ts: Date.now() };
  const body = canonicalJson({
    version: EXECUTION_VERSION,
    event,
    events: [event],
    steps: {},
    ctx: { run_id: RUN_ID, attempt: 0, max_attempts: 1, disable_immediate_execution: false, use_api: false, stack: { stack: [], current: 0 }, fn_id: "7b0c5a1e-0000-4000-8000-000000000001", qi_id: "qi-1" },
  });
  const { POST } = serve({ client, functions: [fn], ...serveOptions(APP) });
  const res = await (POST as unknown as (r: Request) => Promise<Response>)(
    new Request(`${APP}?fnId=${fn.id(client.id)}&stepId=step`, { method: "POST", body, headers: { "content-type": "application/json", "x-inngest-signature": signBody(body, TEST_SIGNING_KEY, Date.now()) } }),
  );
  return res;
}

async function whereItGoes(client: Inngest, sent: Sent[]) {
  await client.send({ name: "test/probe", data: {} });
  const event = sent.find((s) => s.url.includes("/e/"));
  const res = await runOnce(client);
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  const checkpoint = sent.find((s) => s.url.includes(`/v1/checkpoint/${RUN_ID}/async`));
  return { event: event?.url, checkpoint: checkpoint?.url, eventHeaders: sent.find((s) => s.url.includes("/e/"))?.headers };
}

const cloud = (fetch: typeof globalThis.fetch): InngestClientConfig => ({ signingKey: TEST_SIGNING_KEY, eventKey: "ek-cloud", fetch });

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("the SDK's own reading of process.env (SDK 4.24.0)", () => {
  it("the trap: in cloud mode without a base URL, a leftover INNGEST_DEV URL takes the events and the checkpoints", async () => {
    vi.stubEnv("INNGEST_DEV", LEFTOVER);
    const { sent, fetch } = capture();
    // What inngest/client.ts passed before: everything but a base URL, cloud mode forced.
    const bare = new Inngest({ id: "paybridge", isDev: false, signingKey: TEST_SIGNING_KEY, eventKey: "ek-cloud", fetch });
    const where = await whereItGoes(bare, sent);
    expect(where.event).toBe(`${LEFTOVER}/e/ek-cloud`);
    expect(where.checkpoint).toBe(`${LEFTOVER}/v1/checkpoint/${RUN_ID}/async`);
  });
});

describe("the app's client: only its configuration decides", () => {
  it("Inngest Cloud (no base URL): events to inn.gs and checkpoints to api.inngest.com, whatever INNGEST_DEV says", async () => {
    vi.stubEnv("INNGEST_DEV", LEFTOVER);
    const { sent, fetch } = capture();
    const where = await whereItGoes(createInngestClient(cloud(fetch)), sent);
    expect(where.event).toBe("https://inn.gs/e/ek-cloud");
    expect(where.checkpoint).toBe(`https://api.inngest.com/v1/checkpoint/${RUN_ID}/async`);
  });

  it("nor the SDK's other URL variables, its dev-mode flag, or a branch environment the config does not name", async () => {
    vi.stubEnv("INNGEST_API_BASE_URL", "http://api-override.test");
    vi.stubEnv("INNGEST_EVENT_API_BASE_URL", "http://event-override.test");
    vi.stubEnv("INNGEST_BASE_URL", "http://base-override.test");
    vi.stubEnv("INNGEST_EVENT_KEY", "ek-from-env");
    vi.stubEnv("INNGEST_ENV", "some-branch");
    vi.stubEnv("BRANCH", "ci-branch");
    const { sent, fetch } = capture();
    const client = createInngestClient(cloud(fetch));
    const where = await whereItGoes(client, sent);
    expect(where.event).toBe("https://inn.gs/e/ek-cloud");
    expect(where.checkpoint).toBe(`https://api.inngest.com/v1/checkpoint/${RUN_ID}/async`);
    expect(where.eventHeaders?.get("x-inngest-env")).toBeNull();
    vi.stubEnv("INNGEST_DEV", "1");
    expect(createInngestClient(cloud(fetch)).mode).toBe("cloud");
  });

  it("a configured Inngest (self-hosted, or the local engine) gets both, whatever INNGEST_DEV says", async () => {
    vi.stubEnv("INNGEST_DEV", LEFTOVER);
    const { sent, fetch } = capture();
    const where = await whereItGoes(createInngestClient({ ...cloud(fetch), baseUrl: "http://inngest.internal:8288" }), sent);
    expect(where.event).toBe("http://inngest.internal:8288/e/ek-cloud");
    expect(where.checkpoint).toBe(`http://inngest.internal:8288/v1/checkpoint/${RUN_ID}/async`);
  });
});

describe("what serve() reads by itself and no option overrides", () => {
  it("INNGEST_STREAMING=true streams the answer over serveOptions' streaming: false (so production refuses the variable)", async () => {
    const { fetch } = capture();
    const plain = await runOnce(createInngestClient(cloud(fetch)));
    expect(plain.status).not.toBe(201);
    expect(plain.headers.get("x-inngest-signature")).toMatch(/^t=\d+&s=[0-9a-f]{64}$/);
    vi.stubEnv("INNGEST_STREAMING", "true");
    const streamed = await runOnce(createInngestClient(cloud(fetch)));
    // 201 at once, the real answer later in the body: no signed response for the engine to verify.
    expect(streamed.status).toBe(201);
    expect(streamed.headers.get("x-inngest-signature")).toBeNull();
  });
});
