import { randomUUID } from "node:crypto";
import { env } from "@/server/env.js";
import { AppError } from "@/server/errors";
import { errorBody } from "@/server/http/errors";

// Cross-site request forgery guard for the cookie-authenticated surfaces (/api/trpc, /api/auth). Only our own
// pages may change state: a state-changing request must prove it comes from our origin (Origin, else the
// browser's Sec-Fetch-Site, else Referer), and any request a browser marks as cross-site is refused. Server
// components call procedures in-process (server/trpc/rsc.tsx) and never pass through here.
//
// Our origins: APP_URL and AUTH_URL (the public URL, pinned by the operator), and the origin the request was
// addressed to, which behind a proxy is the one the proxy forwards (X-Forwarded-Host/-Proto; Next.js fills them
// in from Host when there is no proxy), not Host itself, which is then the proxy's upstream name. Trusting the
// addressed origin (as Auth.js does with trustHost) is safe against CSRF: a page on another site cannot choose
// the Host its visitor's browser sends, nor add X-Forwarded-* headers without a CORS preflight we never grant.

/** Methods that must not change state; anything else needs proof that it comes from our origin. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** "https://host[:port]" (default port dropped, lowercased), or null for "null" and anything unparsable. */
function originOf(value: string): string | null {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url.origin : null;
  } catch {
    return null;
  }
}

/** The first value of a header a proxy may have appended to ("a, b"). */
function firstValue(headers: Headers, name: string): string | undefined {
  return headers.get(name)?.split(",")[0]?.trim() || undefined;
}

/** The origin the client addressed: as the proxy forwards it, else the request's own Host and URL. */
function addressedOrigin(req: Request): string | null {
  const url = new URL(req.url);
  const proto = firstValue(req.headers, "x-forwarded-proto") ?? url.protocol.replace(/:$/, "");
  const host = firstValue(req.headers, "x-forwarded-host") ?? req.headers.get("host") ?? url.host;
  return originOf(`${proto}://${host}`);
}

/** Our origins for this request: APP_URL's and AUTH_URL's (the public URL, pinned), and the one it was addressed to. */
export function appOrigins(req: Request): Set<string> {
  const origins = new Set<string>([new URL(env.APP_URL).origin]);
  if (env.AUTH_URL) origins.add(new URL(env.AUTH_URL).origin);
  const addressed = addressedOrigin(req);
  if (addressed) origins.add(addressed);
  return origins;
}

/** Why this request is refused as cross-origin, or null when it may proceed. */
export function crossOriginRefusal(req: Request, ours: Set<string> = appOrigins(req)): string | null {
  const origin = req.headers.get("origin");
  const site = req.headers.get("sec-fetch-site");
  const isOurs = (value: string) => {
    const o = originOf(value);
    return o !== null && ours.has(o);
  };
  if (origin !== null && !isOurs(origin)) return `Cross-origin request refused: Origin ${origin} is not this app's origin.`;
  if (site === "cross-site" || site === "same-site") return `Cross-site request refused (Sec-Fetch-Site: ${site}).`;
  if (SAFE_METHODS.has(req.method.toUpperCase()) || origin !== null || site === "same-origin") return null;
  // No Origin and no Fetch Metadata: an old browser (which still sends Referer), or not a browser at all.
  const referer = req.headers.get("referer");
  if (referer !== null) return isOurs(referer) ? null : "Cross-origin request refused: the Referer is not this app's origin.";
  return "State-changing requests must come from this app's pages: send an Origin header.";
}

/** The 403 the /api/auth routes answer a cross-origin request with (tRPC answers its own way, server/trpc/context.ts). */
export function crossOriginResponse(reason: string): Response {
  const requestId = randomUUID();
  return Response.json(errorBody(new AppError("forbidden", reason), requestId), { status: 403, headers: { "request-id": requestId, "cache-control": "no-store" } });
}

/** Wraps a route handler so a cross-origin request is answered 403 before the handler sees it. */
export function refuseCrossOrigin<R extends Request, A extends unknown[]>(handler: (req: R, ...rest: A) => Promise<Response>) {
  return (req: R, ...rest: A): Promise<Response> => {
    const reason = crossOriginRefusal(req);
    return reason ? Promise.resolve(crossOriginResponse(reason)) : handler(req, ...rest);
  };
}
