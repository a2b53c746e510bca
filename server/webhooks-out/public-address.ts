import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { env } from "@/server/env.js";
import { AppError } from "@/server/errors";

// Merchant webhook URLs must not reach our own network (SSRF): loopback, private, link-local (cloud metadata)
// and carrier-grade NAT ranges are refused, at creation and again before each delivery (DNS can change).
// With the PSP sandbox (dev and tests) local receivers are allowed. Known gap: a DNS answer that changes
// between our check and the connection is not pinned.

const PRIVATE = new BlockList();
for (const [net, prefix] of [["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12], ["192.168.0.0", 16]] as const) {
  PRIVATE.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [["::", 128], ["::1", 128], ["fc00::", 7], ["fe80::", 10]] as const) {
  PRIVATE.addSubnet(net, prefix, "ipv6");
}

export function isPrivateAddress(address: string): boolean {
  // IPv4-mapped IPv6 (::ffff:a.b.c.d) is judged by its IPv4 address.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return isPrivateAddress(mapped);
  const family = isIP(address);
  if (family === 0) return true; // not an address at all: refuse rather than guess
  return PRIVATE.check(address, family === 4 ? "ipv4" : "ipv6");
}

export function privateDestinationsAllowed(): boolean {
  return env.PSP_MODE === "sandbox";
}

export async function assertPublicDestination(url: string, allowPrivate = privateDestinationsAllowed()): Promise<void> {
  if (allowPrivate) return;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  const addresses = isIP(host) ? [{ address: host }] : await lookup(host, { all: true }).catch(() => []);
  if (addresses.length === 0) throw new AppError("validation_failed", `The webhook host ${host} does not resolve`);
  if (addresses.some((a) => isPrivateAddress(a.address))) {
    throw new AppError("validation_failed", `The webhook URL points at a private network address (${host}); use a public URL`);
  }
}
