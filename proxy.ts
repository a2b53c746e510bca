import { NextResponse, type NextRequest } from "next/server";
import { env } from "@/server/env.js";
import { pageContentSecurityPolicy } from "@/server/http/security-headers.js";
import { sandboxUrl } from "@/server/psp/config";

// Next 16 "proxy" (formerly middleware), on every page (not the API routes, not static files). It
//   - passes the requested path to server components, so a signed-out visitor is sent to sign in and then back
//     to the page they asked for;
//   - gives each page its Content-Security-Policy with a fresh nonce (server/http/security-headers.js): set on
//     the request too, where Next finds the nonce and puts it on its scripts, and on the response.
// Authorization is not done here: it is in the tRPC middleware (server/trpc/init.ts).
export const PATHNAME_HEADER = "x-pathname";
export const NONCE_HEADER = "x-nonce";

const cspContext = {
  pspMode: env.PSP_MODE,
  sandboxOrigin: new URL(sandboxUrl()).origin,
  dev: env.NODE_ENV === "development",
  upgradeInsecure: new URL(env.APP_URL).protocol === "https:",
};

/**
 * A path whose percent-encoding does not decode (`/api/v1/payments/%E0%A4%A`) would reach Next's own route
 * matching, which answers a bare 500 text/plain: refuse it here as bad input, in the API's error shape.
 */
function undecodablePath(req: NextRequest): Response | undefined {
  try {
    decodeURIComponent(req.nextUrl.pathname);
    return undefined;
  } catch {
    const requestId = `req_${crypto.randomUUID().replaceAll("-", "")}`;
    const body = { error: { type: "invalid_request_error", code: "validation_failed", message: "The request path is not valid percent-encoded UTF-8", request_id: requestId } };
    return Response.json(body, { status: 400, headers: { "request-id": requestId, "cache-control": "no-store" } });
  }
}

export function proxy(req: NextRequest) {
  const refused = undecodablePath(req);
  if (refused) return refused;
  // API routes get their policy from next.config.js; the proxy only checks their path.
  if (req.nextUrl.pathname.startsWith("/api/")) return NextResponse.next();
  const nonce = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const csp = pageContentSecurityPolicy({ nonce, ...cspContext, externalImages: req.nextUrl.pathname.startsWith("/pay/") });
  const headers = new Headers(req.headers);
  headers.set(PATHNAME_HEADER, req.nextUrl.pathname + req.nextUrl.search);
  headers.set(NONCE_HEADER, nonce);
  headers.set("content-security-policy", csp);
  const res = NextResponse.next({ request: { headers } });
  res.headers.set("content-security-policy", csp);
  return res;
}

// Every page, the checkout and sign-in included, and the public API's paths (only their encoding is checked:
// next.config.js gives API routes their policy); not build assets.
export const config = { matcher: ["/((?!api/|_next/static/|_next/image|favicon\\.ico).*)", "/api/v1/:path*", "/api/webhooks/:path*"] };
