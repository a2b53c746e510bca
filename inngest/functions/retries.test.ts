import { serve } from "inngest/next";
import { describe, expect, it } from "vitest";
import * as route from "@/app/api/inngest/route";
import { createInngestClient } from "@/inngest/client";
import { canonicalJson, signBody } from "@/inngest/engine/protocol";
import { TEST_SIGNING_KEY } from "@/inngest/engine/test-keys";
import { serveOptions } from "@/inngest/serve-options";
import { env } from "@/server/env.js";

// Every function the app serves sets its retries itself: an unset `retries` means 4 on Inngest Cloud / `inngest start`
// and whatever the local engine's default is, so a function would behave differently in production (issue 19 item 3).
// Checked on what the engine and Inngest actually read: the in-band sync answer of the app's real route, which lists
// the functions of inngest/functions/index.ts and the `<id>-failure` functions the SDK adds for onFailure handlers.

type Handler = (req: Request) => Promise<Response>;
interface SyncedFunction {
  id: string;
  steps: Record<string, { retries?: { attempts?: number } }>;
}

const APP = `${env.APP_URL.replace(/\/+$/, "")}/api/inngest`;

async function syncAnswer(put: Handler): Promise<SyncedFunction[]> {
  const body = canonicalJson({ url: APP });
  const res = await put(new Request(APP, { method: "PUT", body, headers: { "content-type": "application/json", "x-inngest-sync-kind": "in_band", "x-inngest-signature": signBody(body, TEST_SIGNING_KEY, Date.now()) } }));
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as { functions: SyncedFunction[] }).functions;
}

/** The ids of the functions (and their steps) that leave retries to the server's default. */
function withoutRetries(fns: SyncedFunction[]): string[] {
  return fns.flatMap((f) => Object.entries(f.steps).filter(([, s]) => !Number.isInteger(s.retries?.attempts)).map(([step]) => `${f.id} (step ${step})`));
}

describe("retries are explicit", () => {
  it("on every function the app serves, onFailure handlers included", async () => {
    const fns = await syncAnswer(route.PUT as unknown as Handler);
    expect(fns.length).toBeGreaterThan(3);
    // The onFailure handlers are in the answer as functions of their own.
    expect(fns.map((f) => f.id).filter((id) => id.endsWith("-failure")).length).toBeGreaterThan(0);
    expect(withoutRetries(fns)).toEqual([]);
  });

  it("the check sees a function that leaves them unset", async () => {
    const client = createInngestClient({ signingKey: TEST_SIGNING_KEY, eventKey: "test" });
    const bare = client.createFunction({ id: "no-retries", triggers: [{ event: "test/no-retries" }] }, async () => "done");
    const set = client.createFunction({ id: "with-retries", retries: 0, triggers: [{ event: "test/with-retries" }], onFailure: async () => {} }, async () => "done");
    const fns = await syncAnswer(serve({ client, functions: [bare, set], ...serveOptions(APP) }).PUT as unknown as Handler);
    expect(fns.map((f) => f.id).sort()).toEqual(["paybridge-no-retries", "paybridge-with-retries", "paybridge-with-retries-failure"]);
    expect(withoutRetries(fns)).toEqual(["paybridge-no-retries (step step)"]);
  });
});
