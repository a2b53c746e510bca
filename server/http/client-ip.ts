import { isIP } from "node:net";
import { env } from "@/server/env.js";

/**
 * The client address every per-IP limit is keyed by (the /api/v1 per-IP limit, the sign-in throttle, the hosted
 * checkout's action limits and attempt caps): one rule for all of them. docs/security.md says what to set.
 *
 * Next 16 gives a route no socket address. Its node server fills X-Forwarded-For with the socket peer only when
 * the request has none (`??=` in next/dist/server/base-server.js) and keeps a client-sent one as it is, so the
 * header is the peer's address or whatever the client wrote, and the two cannot be told apart.
 *
 * - `trustedHops` 0 (no proxy, the default): the header proves nothing, and neither does X-Real-IP. Every
 *   request is the one DIRECT_CLIENT, so rotating the header never buys a fresh allowance (and per-IP limits,
 *   which would then be everyone's, are not applied: isIdentifiedClient).
 * - `trustedHops` N: N proxies each append the address they received the request from, so the N-th entry from
 *   the right was written by the outermost trusted proxy: the client. Entries left of it are the client's own.
 *   A chain shorter than N (or an entry that is not an IP address) did not come through the proxies as
 *   configured: UNKNOWN_CLIENT, again not one client. X-Real-IP is never read.
 */
export const DIRECT_CLIENT = "direct";
export const UNKNOWN_CLIENT = "unknown";

/**
 * Whether `ip` names one client. DIRECT_CLIENT and UNKNOWN_CLIENT are everyone at once: a per-IP limit keyed by
 * them would let one noisy client (ten declined cards, a burst of requests) lock every buyer and merchant out,
 * so per-IP limits are not applied to them. Per-key, per-email, per-checkout and per-card limits still are.
 */
export function isIdentifiedClient(ip: string | undefined): ip is string {
  return ip !== undefined && ip !== DIRECT_CLIENT && ip !== UNKNOWN_CLIENT;
}

export function clientIpFromHeaders(headers: Headers, trustedHops: number = env.TRUSTED_PROXY_HOPS): string {
  if (trustedHops <= 0) return DIRECT_CLIENT;
  const chain = (headers.get("x-forwarded-for") ?? "").split(",").map((hop) => hop.trim());
  if (chain.length < trustedHops) return UNKNOWN_CLIENT;
  const client = chain[chain.length - trustedHops]!;
  return isIP(client) ? client : UNKNOWN_CLIENT;
}
