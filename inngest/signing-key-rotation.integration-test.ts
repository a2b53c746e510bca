import { Inngest } from "inngest";
import { serve } from "inngest/next";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createInngestClient, type InngestClientConfig } from "./client";
import { canonicalJson, EXECUTION_VERSION, hashSigningKey, signBody } from "./engine/protocol";
import { serveOptions } from "./serve-options";

// Rotating the Inngest signing key, app side (docs/operations.md "Rotating the Inngest signing key"): the new key as
// INNGEST_SIGNING_KEY, the old one as INNGEST_SIGNING_KEY_FALLBACK, deploy, rotate in Inngest, remove the fallback.
// Meanwhile calls to /api/inngest signed with either key run, and the app's own calls to Inngest (sync, checkpoints)
// retry with the old key's hash when Inngest still answers 401 to the new one. The client is built from config as
// the app builds it (createInngestClient) and served by the real serve() handler with the route's options.

const NEW = `signkey-prod-${"a1".repeat(32)}`;
const OLD = `signkey-prod-${"b2".repeat(32)}`;
const THIRD = `signkey-prod-${"c3".repeat(32)}`;
const APP = "https://pay.example.com/api/inngest";
const INNGEST = "http://inngest.internal:8288";
const RUN_ID = "01ROTATIONRUN0000000000000";

type Handler = (req: Request) => Promise<Response>;

interface Sent {
  url: string;
  authorization: string | null;
}

/** Inngest as the client's fetch sees it: only `accepted` (a key hash) gets through, anything else is 401. */
function inngestAccepting(accepted: string) {
  const sent: Sent[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    const authorization = new Headers(init?.headers).get("authorization");
    sent.push({ url, authorization });
    if (url.includes("/e/")) return Response.json({ ids: ["01EVENT"], status: 200 });
    if (authorization !== `Bearer ${accepted}`) return Response.json({ status: 401, error: "unauthorized" }, { status: 401 });
    return Response.json(url.endsWith("/fn/register") ? { ok: true, modified: true } : {});
  }) as typeof globalThis.fetch;
  return { sent, fetch };
}

function served(config: InngestClientConfig) {
  const client = createInngestClient({ baseUrl: INNGEST, eventKey: "ek", ...config });
  const fn = client.createFunction({ id: "rotation-probe", retries: 0, triggers: [{ event: "test/rotation" }] }, async ({ step }) => {
    await step.run("a", () => 1);
    await step.run("b", () => 2);
    return "done";
  });
  const handlers = serve({ client, functions: [fn], ...serveOptions(APP) });
  return { client, fnId: fn.id(client.id), POST: handlers.POST as unknown as Handler, PUT: handlers.PUT as unknown as Handler };
}

/** A run as Inngest sends it; with `checkpoint`, the ctx ids a real server sends, so the SDK checkpoints its steps. */
function runBody(checkpoint: boolean): string {
  const event = { name: "test/rotation", data: {}, id: "01EVT", ts: Date.now() };
  const ids = checkpoint ? { fn_id: "7b0c5a1e-0000-4000-8000-000000000002", qi_id: "qi-rotation" } : {};
  return canonicalJson({
    version: EXECUTION_VERSION,
    event,
    events: [event],
    steps: {},
    ctx: { run_id: RUN_ID, attempt: 0, max_attempts: 1, disable_immediate_execution: false, use_api: false, stack: { stack: [], current: 0 }, ...ids },
  });
}

function run(s: ReturnType<typeof served>, signedWith: string, checkpoint = false) {
  const body = runBody(checkpoint);
  return s.POST(new Request(`${APP}?fnId=${s.fnId}&stepId=step`, { method: "POST", body, headers: { "content-type": "application/json", "x-inngest-signature": signBody(body, signedWith, Date.now()) } }));
}

/** An out-of-band sync (PUT), signed: the SDK then registers the app at Inngest's /fn/register. */
function sync(s: ReturnType<typeof served>, signedWith: string) {
  const body = canonicalJson({ url: APP });
  return s.PUT(new Request(APP, { method: "PUT", body, headers: { "content-type": "application/json", "x-inngest-signature": signBody(body, signedWith, Date.now()) } }));
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("during a rotation (new key + fallback)", () => {
  it("runs calls signed with the new key and with the old one, and refuses a third key", async () => {
    const s = served({ signingKey: NEW, signingKeyFallback: OLD, fetch: inngestAccepting(hashSigningKey(NEW)).fetch });
    for (const [name, key] of [["new", NEW], ["old", OLD]] as const) {
      const res = await run(s, key);
      expect(res.status, name).toBe(206);
      // The answer is signed with the new key, which is what Inngest verifies once it has rotated.
      expect(res.headers.get("x-inngest-signature"), name).toBeTruthy();
    }
    expect((await run(s, THIRD)).status).toBe(401);
  });

  it("the app's sync retries with the old key's hash while Inngest still refuses the new one", async () => {
    const inngest = inngestAccepting(hashSigningKey(OLD));
    const s = served({ signingKey: NEW, signingKeyFallback: OLD, fetch: inngest.fetch });
    const res = await sync(s, OLD);
    expect(res.status, await res.clone().text()).toBe(200);
    const register = inngest.sent.filter((c) => c.url === `${INNGEST}/fn/register`);
    expect(register.map((c) => c.authorization)).toEqual([`Bearer ${hashSigningKey(NEW)}`, `Bearer ${hashSigningKey(OLD)}`]);
  });

  it("so do its step checkpoints; events carry no signing key (the event key in the URL is theirs)", async () => {
    const inngest = inngestAccepting(hashSigningKey(OLD));
    const s = served({ signingKey: NEW, signingKeyFallback: OLD, fetch: inngest.fetch });
    const res = await run(s, NEW, true);
    expect(res.status, await res.clone().text()).toBeLessThan(300);
    const checkpoints = inngest.sent.filter((c) => c.url === `${INNGEST}/v1/checkpoint/${RUN_ID}/async`);
    expect(checkpoints.length).toBeGreaterThanOrEqual(2);
    expect(checkpoints.slice(0, 2).map((c) => c.authorization)).toEqual([`Bearer ${hashSigningKey(NEW)}`, `Bearer ${hashSigningKey(OLD)}`]);
    await s.client.send({ name: "test/rotation", data: {} });
    const event = inngest.sent.find((c) => c.url === `${INNGEST}/e/ek`);
    expect(event?.authorization).toBeNull();
  });
});

describe("after the fallback is removed", () => {
  it("the old key is refused, even if INNGEST_SIGNING_KEY_FALLBACK is still in the process environment", async () => {
    // The SDK would read the variable itself (components/Inngest.js signingKeyFallback); the app's client does not.
    vi.stubEnv("INNGEST_SIGNING_KEY_FALLBACK", OLD);
    const s = served({ signingKey: NEW, fetch: inngestAccepting(hashSigningKey(NEW)).fetch });
    expect((await run(s, NEW)).status).toBe(206);
    expect((await run(s, OLD)).status).toBe(401);
    // What the SDK alone would have done with that leftover: accepted the old key.
    const bare = new Inngest({ id: "paybridge", isDev: false, baseUrl: INNGEST, signingKey: NEW });
    const fn = bare.createFunction({ id: "rotation-probe", retries: 0, triggers: [{ event: "test/rotation" }] }, async () => "done");
    const body = runBody(false);
    const res = await (serve({ client: bare, functions: [fn], ...serveOptions(APP) }).POST as unknown as Handler)(
      new Request(`${APP}?fnId=${fn.id(bare.id)}&stepId=step`, { method: "POST", body, headers: { "content-type": "application/json", "x-inngest-signature": signBody(body, OLD, Date.now()) } }),
    );
    expect(res.status).toBe(200);
  });

  it("the app's own calls no longer try the old key", async () => {
    const inngest = inngestAccepting(hashSigningKey(OLD));
    vi.stubEnv("INNGEST_SIGNING_KEY_FALLBACK", OLD);
    const s = served({ signingKey: NEW, fetch: inngest.fetch });
    const res = await sync(s, NEW);
    expect(res.status).toBe(401);
    expect(inngest.sent.filter((c) => c.url === `${INNGEST}/fn/register`).map((c) => c.authorization)).toEqual([`Bearer ${hashSigningKey(NEW)}`]);
  });
});
