import { describe, expect, it } from "vitest";
import { createInngestClient } from "./client";

// Which Inngest the app talks to, decided by configuration only.
describe("inngest client configuration", () => {
  it("defaults to the local engine in dev mode (no signatures)", () => {
    const c = createInngestClient({ devUrl: "http://127.0.0.1:8288" });
    expect(c.mode).toBe("dev");
    expect(c.apiBaseUrl).toBe("http://127.0.0.1:8288");
    expect(c.eventBaseUrl).toBe("http://127.0.0.1:8288");
  });

  it("uses a self-hosted Inngest with keys in cloud mode", () => {
    const c = createInngestClient({ devUrl: "http://127.0.0.1:8288", baseUrl: "http://inngest.internal:8288", eventKey: "ek", signingKey: "signkey-prod-00ff" });
    expect(c.mode).toBe("cloud");
    expect(c.apiBaseUrl).toBe("http://inngest.internal:8288");
  });

  it("uses Inngest Cloud's own endpoints when only keys are set", () => {
    const c = createInngestClient({ devUrl: "http://127.0.0.1:8288", eventKey: "ek", signingKey: "signkey-prod-00ff" });
    expect(c.mode).toBe("cloud");
    expect(c.apiBaseUrl).toBe("https://api.inngest.com/");
    expect(c.eventBaseUrl).toBe("https://inn.gs/");
  });
});
