import { unstable_doesMiddlewareMatch, unstable_getResponseFromNextConfig } from "next/experimental/testing/server";
import { NextRequest } from "next/server";
import { describe, expect, it } from "vitest";
import nextConfig from "@/next.config.js";
import { config as proxyConfig, NONCE_HEADER, proxy } from "@/proxy";
import { API_CONTENT_SECURITY_POLICY, HSTS_MAX_AGE_S, pageContentSecurityPolicy, staticSecurityHeaders } from "./security-headers.js";

// The security headers as Next applies them: next.config.js headers() through Next's own config tester, the
// proxy's matcher through Next's matcher tester, and the proxy itself on a real NextRequest.

const PAGES = ["/", "/signin", "/signin?callbackUrl=%2Fdashboard", "/pay/chk_01J0000000000000000000000", "/dashboard", "/dashboard/settings", "/ops/runs", "/no-access", "/nope"];
const APIS = ["/api/v1/payments", "/api/trpc/checkout.get", "/api/auth/session", "/api/webhooks/stripe", "/api/health"];

/** Directive name -> its values. */
function directives(csp: string): Map<string, string[]> {
  return new Map(csp.split(";").map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name!, values]));
}

async function configHeaders(path: string): Promise<Headers> {
  return (await unstable_getResponseFromNextConfig({ url: `http://localhost:3000${path}`, nextConfig })).headers;
}

describe("next.config.js headers()", () => {
  it("every page, API route and static file gets nosniff, no framing and the referrer policy", async () => {
    for (const path of [...PAGES, ...APIS, "/_next/static/chunks/main.js", "/favicon.ico"]) {
      const h = await configHeaders(path);
      expect(h.get("x-content-type-options"), path).toBe("nosniff");
      expect(h.get("x-frame-options"), path).toBe("DENY");
      expect(h.get("referrer-policy"), path).toBe("strict-origin-when-cross-origin");
      // Tests run with NODE_ENV=test: no HSTS outside production.
      expect(h.get("strict-transport-security"), path).toBeNull();
    }
  });

  it("API routes get a policy that lets nothing load, run or frame them", async () => {
    for (const path of APIS) expect((await configHeaders(path)).get("content-security-policy"), path).toBe(API_CONTENT_SECURITY_POLICY);
    expect(directives(API_CONTENT_SECURITY_POLICY).get("frame-ancestors")).toEqual(["'none'"]);
    expect(directives(API_CONTENT_SECURITY_POLICY).get("default-src")).toEqual(["'none'"]);
  });

  it("HSTS in production only: a year or more, subdomains included", () => {
    const hsts = staticSecurityHeaders({ production: true }).find((h) => h.key === "Strict-Transport-Security");
    expect(hsts?.value).toBe(`max-age=${HSTS_MAX_AGE_S}; includeSubDomains`);
    expect(HSTS_MAX_AGE_S).toBeGreaterThanOrEqual(365 * 24 * 3600);
    expect(staticSecurityHeaders({ production: false }).some((h) => h.key === "Strict-Transport-Security")).toBe(false);
  });
});

describe("proxy.ts", () => {
  it("runs on every page (checkout and sign-in included) and the public API's paths, not on other API routes or build assets", () => {
    for (const url of [...PAGES, "/api/v1/payments", "/api/v1/payments/po_1", "/api/webhooks/stripe"]) expect(unstable_doesMiddlewareMatch({ config: proxyConfig, url }), url).toBe(true);
    for (const url of ["/api/trpc/checkout.get", "/api/auth/session", "/api/health", "/_next/static/chunks/main.js", "/_next/image?url=x", "/favicon.ico"]) {
      expect(unstable_doesMiddlewareMatch({ config: proxyConfig, url }), url).toBe(false);
    }
  });

  it("refuses a path that is not valid percent-encoding with a JSON 400 (Next would answer a bare 500); API paths get no page policy", async () => {
    for (const path of ["/api/v1/payments/%E0%A4%A", "/api/v1/%E0%A4%A/x", "/api/webhooks/%ZZ"]) {
      const res = proxy(new NextRequest(`http://localhost:3000${path}`));
      expect(res.status, path).toBe(400);
      const body = (await res.json()) as { error: { type: string; code: string; request_id: string } };
      expect(body.error).toMatchObject({ type: "invalid_request_error", code: "validation_failed" });
      expect(res.headers.get("request-id")).toBe(body.error.request_id);
    }
    const api = proxy(new NextRequest("http://localhost:3000/api/v1/payments/po_1"));
    expect(api.status).toBe(200);
    expect(api.headers.get("content-security-policy")).toBeNull();
  });

  it("gives each page a CSP with a fresh nonce, on the response and on the request (where Next reads it)", () => {
    const run = () => proxy(new NextRequest("http://localhost:3000/pay/chk_01J0000000000000000000000", { headers: { "content-security-policy": "script-src 'nonce-attacker'" } }));
    const [a, b] = [run(), run()];
    const nonceOf = (csp: string | null) => /'nonce-([^']+)'/.exec(csp ?? "")?.[1];
    const csp = a.headers.get("content-security-policy");
    const nonce = nonceOf(csp);
    expect(nonce).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(nonceOf(b.headers.get("content-security-policy"))).not.toBe(nonce);
    // NextResponse.next({ request: { headers } }) sends the overridden request headers this way.
    expect(a.headers.get("x-middleware-request-content-security-policy")).toBe(csp);
    expect(a.headers.get(`x-middleware-request-${NONCE_HEADER}`)).toBe(nonce);
    expect(a.headers.get("x-middleware-request-x-pathname")).toBe("/pay/chk_01J0000000000000000000000");
    const d = directives(csp!);
    expect(d.get("frame-ancestors")).toEqual(["'none'"]);
    expect(d.get("object-src")).toEqual(["'none'"]);
    expect(d.get("script-src")).toEqual(expect.arrayContaining(["'self'", `'nonce-${nonce}'`, "'strict-dynamic'"]));
    expect(d.get("script-src")).not.toContain("'unsafe-inline'");
    expect(d.get("script-src")).not.toContain("'unsafe-eval'");
  });
});

describe("the page policy", () => {
  const base = { nonce: "n0nce", sandboxOrigin: "http://127.0.0.1:12111", dev: false, upgradeInsecure: false };

  it("sandbox mode: the sandbox's card field may be framed and its stand-in for Stripe.js loaded and used", () => {
    const d = directives(pageContentSecurityPolicy({ ...base, pspMode: "sandbox" }));
    expect(d.get("frame-src")).toEqual(["http://127.0.0.1:12111"]);
    expect(d.get("script-src")).toContain("http://127.0.0.1:12111");
    expect(d.get("connect-src")).toEqual(["'self'", "http://127.0.0.1:12111"]);
    expect([...d.keys()]).not.toContain("upgrade-insecure-requests");
  });

  it("live mode: Stripe.js and its frames, nothing of the sandbox", () => {
    const csp = pageContentSecurityPolicy({ ...base, pspMode: "live", upgradeInsecure: true });
    const d = directives(csp);
    expect(d.get("frame-src")).toEqual(expect.arrayContaining(["https://js.stripe.com", "https://hooks.stripe.com"]));
    expect(d.get("script-src")).toContain("https://js.stripe.com");
    expect(d.get("connect-src")).toContain("https://api.stripe.com");
    // External images (a merchant's https logo) on the hosted checkout only.
    expect(d.get("img-src")).not.toContain("https:");
    expect(directives(pageContentSecurityPolicy({ ...base, pspMode: "live", externalImages: true })).get("img-src")).toContain("https:");
    expect(csp).not.toContain("127.0.0.1");
    expect([...d.keys()]).toContain("upgrade-insecure-requests");
  });

  it("next dev needs eval (React's dev build); nothing else does", () => {
    expect(directives(pageContentSecurityPolicy({ ...base, pspMode: "sandbox", dev: true })).get("script-src")).toContain("'unsafe-eval'");
  });
});
