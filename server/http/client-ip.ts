/** The client as our proxy saw it: the first X-Forwarded-For hop, else X-Real-IP. Without a proxy, none. */
export function clientIpFromHeaders(headers: Headers): string {
  return headers.get("x-forwarded-for")?.split(",")[0]?.trim() || headers.get("x-real-ip") || "unknown";
}
