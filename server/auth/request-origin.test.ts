import { describe, expect, it } from "vitest";
import { appOrigins, crossOriginRefusal } from "./request-origin";

// The origin policy alone; the routes' tests (server/trpc/route.integration-test.ts, sign-in.integration-test.ts)
// show it in place. APP_URL is its default here, http://localhost:3000.

const req = (method: string, headers: Record<string, string>, url = "http://localhost:3000/api/trpc/x") => new Request(url, { method, headers });

describe("crossOriginRefusal", () => {
  it("takes APP_URL and the addressed origin (as the proxy forwards it) as ours", () => {
    const r = req("POST", { host: "paybridge:3000", "x-forwarded-host": "pay.example.com, inner", "x-forwarded-proto": "https" });
    expect([...appOrigins(r)].sort()).toEqual(["http://localhost:3000", "https://pay.example.com"]);
    const direct = req("POST", { host: "127.0.0.1:3000" }, "http://127.0.0.1:3000/api/trpc/x");
    expect([...appOrigins(direct)].sort()).toEqual(["http://127.0.0.1:3000", "http://localhost:3000"]);
  });

  it("compares origins, not strings: default ports and case do not matter, paths are not origins", () => {
    const ours = new Set(["https://pay.example.com"]);
    expect(crossOriginRefusal(req("POST", { origin: "https://PAY.example.com:443" }), ours)).toBeNull();
    expect(crossOriginRefusal(req("POST", { origin: "https://pay.example.com.evil.example" }), ours)).toMatch(/Origin/);
    expect(crossOriginRefusal(req("POST", { origin: "not a url" }), ours)).toMatch(/Origin/);
    expect(crossOriginRefusal(req("POST", { origin: "null" }), ours)).toMatch(/Origin/);
  });

  it("for a state-changing request without Origin: Sec-Fetch-Site must say same-origin, else a Referer of ours", () => {
    const ours = new Set(["http://localhost:3000"]);
    expect(crossOriginRefusal(req("POST", { "sec-fetch-site": "same-origin" }), ours)).toBeNull();
    expect(crossOriginRefusal(req("PUT", { "sec-fetch-site": "none" }), ours)).toMatch(/Origin header/);
    expect(crossOriginRefusal(req("DELETE", { referer: "http://localhost:3000/dashboard" }), ours)).toBeNull();
    expect(crossOriginRefusal(req("POST", { referer: "https://evil.example/localhost:3000" }), ours)).toMatch(/Referer/);
    expect(crossOriginRefusal(req("PATCH", {}), ours)).toMatch(/Origin header/);
  });

  it("lets reads through unless the browser says they come from elsewhere", () => {
    const ours = new Set(["http://localhost:3000"]);
    expect(crossOriginRefusal(req("GET", {}), ours)).toBeNull();
    expect(crossOriginRefusal(req("GET", { "sec-fetch-site": "none" }), ours)).toBeNull();
    expect(crossOriginRefusal(req("HEAD", { "sec-fetch-site": "same-origin" }), ours)).toBeNull();
    expect(crossOriginRefusal(req("GET", { "sec-fetch-site": "cross-site" }), ours)).toMatch(/Cross-site/);
    expect(crossOriginRefusal(req("GET", { origin: "https://evil.example" }), ours)).toMatch(/Origin/);
  });

  it("a browser's word that a request is cross-site wins over an Origin that looks like ours", () => {
    const ours = new Set(["http://localhost:3000"]);
    expect(crossOriginRefusal(req("POST", { origin: "http://localhost:3000", "sec-fetch-site": "same-site" }), ours)).toMatch(/Cross-site/);
  });
});
