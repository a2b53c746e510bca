import { describe, expect, it } from "vitest";
import { createInngestClient, localEngineUrl, usesLocalEngine } from "./client";

// Which Inngest the app talks to, decided by configuration only; signatures are verified in every case.
describe("inngest client configuration", () => {
  it("talks to the local engine with signatures on (never the SDK's unsigned dev mode)", () => {
    const c = createInngestClient({ devUrl: "http://127.0.0.1:8288", signingKey: "signkey-dev-00ff", eventKey: "ek-dev" });
    expect(c.mode).toBe("cloud");
    expect(c.apiBaseUrl).toBe("http://127.0.0.1:8288");
    expect(c.eventBaseUrl).toBe("http://127.0.0.1:8288");
    expect(c.signingKey).toBe("signkey-dev-00ff");
  });

  it("without any signing key still verifies, with a random key nobody holds", () => {
    const a = createInngestClient({});
    const b = createInngestClient({});
    expect(a.mode).toBe("cloud");
    expect(a.signingKey).toMatch(/^signkey-unset-[0-9a-f]{64}$/);
    expect(a.signingKey).not.toBe(b.signingKey);
    expect(usesLocalEngine({})).toBe(true);
  });

  it("uses a self-hosted Inngest with keys in cloud mode", () => {
    const c = createInngestClient({ devUrl: "http://127.0.0.1:8288", baseUrl: "http://inngest.internal:8288", eventKey: "ek", signingKey: "signkey-prod-00ff" });
    expect(c.mode).toBe("cloud");
    expect(c.apiBaseUrl).toBe("http://inngest.internal:8288");
  });

  it("runs the local engine in production through INNGEST_BASE_URL with INNGEST_LOCAL_ENGINE", () => {
    const config = { baseUrl: "http://engine.internal:8288", localEngine: true, eventKey: "ek", signingKey: "signkey-prod-00ff" };
    expect(usesLocalEngine(config)).toBe(true);
    expect(localEngineUrl(config)).toBe("http://engine.internal:8288");
    expect(createInngestClient(config).eventBaseUrl).toBe("http://engine.internal:8288");
    expect(usesLocalEngine({ ...config, localEngine: undefined })).toBe(false);
  });

  it("uses Inngest Cloud's own endpoints when only keys are set", () => {
    const c = createInngestClient({ eventKey: "ek", signingKey: "signkey-prod-00ff" });
    expect(c.mode).toBe("cloud");
    expect(c.apiBaseUrl).toBe("https://api.inngest.com/");
    expect(c.eventBaseUrl).toBe("https://inn.gs/");
  });
});
