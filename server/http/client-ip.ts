/**
 * The client as our proxy saw it. Expects exactly one trusted proxy in front of the app: it appends the peer
 * address to X-Forwarded-For, so only the right-most hop is trusted (the hops before it are whatever the client
 * sent). Else X-Real-IP; without a proxy, "unknown".
 */
export function clientIpFromHeaders(headers: Headers): string {
  return headers.get("x-forwarded-for")?.split(",").at(-1)?.trim() || headers.get("x-real-ip")?.trim() || "unknown";
}
