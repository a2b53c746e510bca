// Security headers for every response (docs/security.md "Security headers"). Plain JS with JSDoc types, so
// next.config.js can import it as well as proxy.ts.
//   - next.config.js `headers()`: the static ones on every path (pages, API routes, static files), and the API
//     routes' Content-Security-Policy (they serve JSON, never a document that runs anything).
//   - proxy.ts: each page's Content-Security-Policy, with a fresh nonce per request. Next reads the nonce from
//     the request's CSP header and puts it on its own scripts (node_modules/next/dist/docs/01-app/02-guides/
//     content-security-policy.md); pages are rendered per request (app/layout.tsx awaits connection()).

/** A year, the least HSTS preload lists accept. */
export const HSTS_MAX_AGE_S = 365 * 24 * 60 * 60;

/** Stripe.js and the frames it opens (card field, 3-D Secure), per Stripe's CSP guidance. */
export const STRIPE_ORIGINS = {
  script: ["https://js.stripe.com", "https://*.js.stripe.com"],
  frame: ["https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com"],
  connect: ["https://api.stripe.com"],
  img: ["https://*.stripe.com"],
};

/** The API routes' policy: they answer JSON; nothing in a response may load, run or be framed. */
export const API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * Headers every response carries. HSTS only in production (a browser ignores it over plain http anyway, and a
 * developer's localhost must not be pinned to https).
 * @param {{ production: boolean }} opts
 * @returns {{ key: string, value: string }[]}
 */
export function staticSecurityHeaders({ production }) {
  const headers = [
    { key: "X-Content-Type-Options", value: "nosniff" },
    // For browsers without CSP frame-ancestors; the policy's frame-ancestors 'none' says the same.
    { key: "X-Frame-Options", value: "DENY" },
    // A checkout link is the buyer's capability: other origins get our origin, never the path.
    { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
    { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=()" },
  ];
  if (production) headers.push({ key: "Strict-Transport-Security", value: `max-age=${HSTS_MAX_AGE_S}; includeSubDomains` });
  return headers;
}

/**
 * @typedef {object} PageCspOptions
 * @property {string} nonce fresh per request
 * @property {"sandbox" | "live"} pspMode
 * @property {string} sandboxOrigin where the browser loads the sandbox's card field (PSP_MODE=sandbox)
 * @property {boolean} dev `next dev`: React's dev build needs eval
 * @property {boolean} upgradeInsecure the app is served over https (APP_URL)
 * @property {boolean} [externalImages] the page may show https images from anywhere (the hosted checkout's logo)
 */

/**
 * The pages' policy. Scripts run only with the request's nonce ('strict-dynamic': a script they add, such as
 * Stripe.js, may run; host lists are only a fallback for browsers without it). The hosted checkout's card
 * field is a frame from the PSP (Stripe or the sandbox), which Stripe.js (or the sandbox's stand-in) reaches
 * over fetch. Styles allow inline: React and Next set style attributes, which a nonce cannot cover.
 * @param {PageCspOptions} o
 * @returns {string}
 */
export function pageContentSecurityPolicy(o) {
  const psp =
    o.pspMode === "live"
      ? STRIPE_ORIGINS
      : { script: [o.sandboxOrigin], frame: [o.sandboxOrigin], connect: [o.sandboxOrigin], img: [] };
  /** @type {[string, string[]][]} */
  const directives = [
    ["default-src", ["'self'"]],
    ["script-src", ["'self'", `'nonce-${o.nonce}'`, "'strict-dynamic'", ...psp.script, ...(o.dev ? ["'unsafe-eval'"] : [])]],
    ["style-src", ["'self'", "'unsafe-inline'"]],
    // https: on the hosted checkout only, where a merchant's logo may be an external https URL (Settings,
    // server/merchants/branding.ts). The dashboard and ops pages load images from us alone: an HTML injection there
    // cannot send data out through an image.
    ["img-src", ["'self'", "data:", "blob:", ...(o.externalImages ? ["https:"] : []), ...psp.img]],
    ["font-src", ["'self'", "data:"]],
    ["connect-src", ["'self'", ...psp.connect]],
    ["frame-src", psp.frame],
    ["object-src", ["'none'"]],
    ["base-uri", ["'none'"]],
    ["form-action", ["'self'"]],
    ["frame-ancestors", ["'none'"]],
  ];
  if (o.upgradeInsecure) directives.push(["upgrade-insecure-requests", []]);
  return directives.map(([name, values]) => [name, ...values].join(" ")).join("; ");
}
