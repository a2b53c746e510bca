import { BlockList, isIP } from "node:net";

// Which IP addresses a merchant webhook may be sent to (docs/webhooks.md#destinations). Three kinds:
// - "refused" in every mode: link-local and cloud metadata, unspecified, multicast, reserved, benchmarking,
//   documentation, and the IPv6 forms that embed or tunnel to an IPv4 address (NAT64, 6to4, Teredo);
// - "local" (loopback, private, carrier-grade NAT, unique-local): only when the platform runs in
//   development (public-address.ts decides);
// - "public": everything else.
// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is judged as its IPv4 address. Rules are matched in order,
// first match wins, so a narrow refused range can sit inside a wider local one (fd00:ec2::/32 in fc00::/7).

export type AddressKind = "public" | "local" | "refused";

export interface AddressVerdict {
  kind: AddressKind;
  /** Why (the range's name), for the error message; "public" for a public address. */
  range: string;
}

type Rule = readonly [cidr: string, kind: Exclude<AddressKind, "public">, range: string];

const IPV4_RULES: readonly Rule[] = [
  ["100.100.100.200/32", "refused", "cloud metadata"], // Alibaba Cloud, inside 100.64.0.0/10
  ["0.0.0.0/8", "refused", "unspecified"],
  ["169.254.0.0/16", "refused", "link-local (cloud metadata)"],
  ["192.0.0.0/24", "refused", "IETF protocol assignments"],
  ["192.0.2.0/24", "refused", "documentation"],
  ["192.88.99.0/24", "refused", "6to4 relay"],
  ["198.18.0.0/15", "refused", "benchmarking"],
  ["198.51.100.0/24", "refused", "documentation"],
  ["203.0.113.0/24", "refused", "documentation"],
  ["224.0.0.0/4", "refused", "multicast"],
  ["240.0.0.0/4", "refused", "reserved"], // includes 255.255.255.255 (broadcast)
  ["127.0.0.0/8", "local", "loopback"],
  ["10.0.0.0/8", "local", "private"],
  ["172.16.0.0/12", "local", "private"],
  ["192.168.0.0/16", "local", "private"],
  ["100.64.0.0/10", "local", "carrier-grade NAT"],
];

const IPV6_RULES: readonly Rule[] = [
  ["::1/128", "local", "loopback"],
  ["::/96", "refused", "unspecified or IPv4-compatible"], // ::, and the deprecated ::a.b.c.d
  ["::ffff:0:0:0/96", "refused", "IPv4-translated"],
  ["64:ff9b::/96", "refused", "NAT64"],
  ["64:ff9b:1::/48", "refused", "NAT64 (local use)"],
  ["100::/64", "refused", "discard-only"],
  ["2001::/32", "refused", "Teredo"],
  ["2001:2::/48", "refused", "benchmarking"],
  ["2001:db8::/32", "refused", "documentation"],
  ["2002::/16", "refused", "6to4"],
  ["fd00:ec2::/32", "refused", "cloud metadata"], // AWS IMDS fd00:ec2::254, inside fc00::/7
  ["fe80::/10", "refused", "link-local"],
  ["fec0::/10", "refused", "site-local"],
  ["ff00::/8", "refused", "multicast"],
  ["fc00::/7", "local", "unique-local (private)"],
];

/** Host names of metadata services, refused by name before any DNS lookup. */
export const METADATA_HOSTNAMES: ReadonlySet<string> = new Set([
  "metadata",
  "metadata.google.internal",
  "metadata.goog",
  "instance-data",
  "instance-data.ec2.internal",
  "metadata.tencentyun.com",
]);

const compile = (rules: readonly Rule[], type: "ipv4" | "ipv6") =>
  rules.map(([cidr, kind, range]) => {
    const [net, prefix] = cidr.split("/") as [string, string];
    const list = new BlockList();
    list.addSubnet(net, Number(prefix), type);
    return { list, kind, range };
  });

const IPV4 = compile(IPV4_RULES, "ipv4");
const IPV6 = compile(IPV6_RULES, "ipv6");

/** The IPv4 address inside ::ffff:a.b.c.d (in any spelling), else null. */
function mappedIpv4(ipv6: string): string | null {
  let canonical: string;
  try {
    canonical = new URL(`http://[${ipv6}]/`).hostname; // WHATWG canonical form: "[::ffff:7f00:1]"
  } catch {
    return null;
  }
  const m = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/.exec(canonical);
  if (!m) return null;
  const hi = parseInt(m[1]!, 16);
  const lo = parseInt(m[2]!, 16);
  return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join(".");
}

export function classifyAddress(address: string): AddressVerdict {
  const family = isIP(address);
  // Not an address at all, or a scoped one (fe80::1%eth0): refuse rather than guess.
  if (family === 0 || address.includes("%")) return { kind: "refused", range: "not a plain IP address" };
  if (family === 6) {
    const v4 = mappedIpv4(address);
    if (v4) return classifyAddress(v4);
  }
  const rules = family === 4 ? IPV4 : IPV6;
  const hit = rules.find((r) => r.list.check(address, family === 4 ? "ipv4" : "ipv6"));
  return hit ? { kind: hit.kind, range: hit.range } : { kind: "public", range: "public" };
}

/** A metadata service's name, compared without case and without a trailing dot. */
export function isMetadataHostname(hostname: string): boolean {
  return METADATA_HOSTNAMES.has(hostname.toLowerCase().replace(/\.$/, ""));
}
