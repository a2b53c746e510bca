import { describe, expect, it } from "vitest";
import { parseEnv } from "@/server/env.js";
import { classifyAddress } from "./address-ranges";
import { localDestinationsAllowed, resolveDestination, type ResolvedAddress, type Resolver } from "./public-address";

// Which webhook destinations are refused, and in which mode. No socket is opened here: every refusal is the
// validator's answer, given before any connection could be made. Resolvers are local functions, not DNS.

/** A resolver that answers from a table and records each question. */
function tableResolver(table: Record<string, string[]>): Resolver & { asked: string[] } {
  const asked: string[] = [];
  const resolve = async (hostname: string): Promise<ResolvedAddress[]> => {
    asked.push(hostname);
    return (table[hostname] ?? []).map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return Object.assign(resolve, { asked });
}

const DEV = { allowLocal: true };
const NOT_DEV = { allowLocal: false };

describe("address classes", () => {
  it.each([
    "198.18.0.1", "198.19.255.254", // benchmarking 198.18.0.0/15
    "224.0.0.1", "239.255.255.250", // multicast 224.0.0.0/4
    "192.0.0.8", "192.0.0.170", // IETF protocol assignments 192.0.0.0/24
    "64:ff9b::808:808", "64:ff9b::7f00:1", // NAT64 64:ff9b::/96
    "2002:808:808::1", "2002:a9fe:a9fe::1", // 6to4 2002::/16
    "::ffff:198.18.0.1", "::ffff:224.0.0.1", "::ffff:192.0.0.8", "::ffff:a9fe:a9fe", "0:0:0:0:0:ffff:c612:0001", // IPv4-mapped forms
  ])("%s is refused in every mode (ranges added by the review)", (a) => expect(classifyAddress(a).kind).toBe("refused"));

  it.each(["169.254.169.254", "169.254.170.2", "fe80::1", "fd00:ec2::254", "100.100.100.200", "::ffff:169.254.169.254", "0.0.0.0", "::", "255.255.255.255", "ff02::1", "2001:db8::1", "not-an-ip", "fe80::1%eth0"])(
    "%s is refused in every mode",
    (a) => expect(classifyAddress(a).kind).toBe("refused"),
  );

  it.each(["127.0.0.1", "127.8.9.10", "10.1.2.3", "172.20.0.1", "192.168.1.10", "100.64.0.1", "::1", "fd00::1", "fc12::1", "::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:10.0.0.1"])(
    "%s is local (development only)",
    (a) => expect(classifyAddress(a).kind).toBe("local"),
  );

  it.each(["8.8.8.8", "1.1.1.1", "172.32.0.1", "198.20.0.1", "223.255.255.255", "2606:4700:4700::1111", "::ffff:8.8.8.8"])("%s is public", (a) =>
    expect(classifyAddress(a).kind).toBe("public"),
  );
});

describe("link-local and metadata destinations", () => {
  it("are refused in development too, by address, by mapped address and through DNS", async () => {
    const resolve = tableResolver({ "hooks.example.test": ["169.254.169.254"], "v6.example.test": ["2001:4860::1", "fd00:ec2::254"] });
    for (const url of ["http://169.254.169.254/latest/meta-data", "http://[fe80::1]/hook", "http://[fd00:ec2::254]/latest", "http://[::ffff:169.254.169.254]/", "http://hooks.example.test/hook", "http://v6.example.test/hook"]) {
      await expect(resolveDestination(url, { ...DEV, resolve }), url).rejects.toThrow(/not allowed here/);
    }
  });

  it("are refused by name before any lookup, in development too", async () => {
    const resolve = tableResolver({ "metadata.google.internal": ["127.0.0.1"] });
    for (const url of ["http://metadata.google.internal/computeMetadata/v1/", "http://METADATA.google.internal./", "http://metadata.goog/", "http://instance-data/latest"]) {
      await expect(resolveDestination(url, { ...DEV, resolve }), url).rejects.toThrow(/cloud metadata service/);
    }
    expect(resolve.asked).toEqual([]);
  });
});

describe("loopback and private destinations", () => {
  it("are allowed only when the platform runs in development: PSP sandbox and not a production deployment", () => {
    expect(localDestinationsAllowed(parseEnv({}))).toBe(true); // npm run dev
    expect(localDestinationsAllowed(parseEnv({ NODE_ENV: "test" }))).toBe(true); // vitest
    expect(localDestinationsAllowed({ PSP_MODE: "sandbox", NODE_ENV: "production", EMBEDDED_DATABASE: true })).toBe(true); // e2e, npm start on the embedded Postgres
    expect(localDestinationsAllowed(parseEnv({ NODE_ENV: "production" }))).toBe(false); // a production build on a real database
    expect(localDestinationsAllowed({ PSP_MODE: "sandbox", NODE_ENV: "production", EMBEDDED_DATABASE: false })).toBe(false);
    expect(localDestinationsAllowed(parseEnv({ PSP_MODE: "live", NODE_ENV: "development" }))).toBe(false);
    expect(localDestinationsAllowed({ PSP_MODE: "live", NODE_ENV: "production", EMBEDDED_DATABASE: true })).toBe(false);
  });

  it("are refused outside development, as literals and through DNS", async () => {
    const production = { allowLocal: localDestinationsAllowed(parseEnv({ NODE_ENV: "production" })) };
    const resolve = tableResolver({ "localhost.example.test": ["127.0.0.1"], "intranet.example.test": ["10.0.0.7"] });
    for (const url of ["http://127.0.0.1:8080/hook", "http://[::1]/hook", "http://[::ffff:7f00:1]/hook", "http://2130706433/hook", "http://192.168.0.10/hook", "http://localhost.example.test/hook", "http://intranet.example.test/hook"]) {
      await expect(resolveDestination(url, { ...production, resolve }), url).rejects.toThrow(/not allowed here/);
    }
    await expect(resolveDestination("http://127.0.0.1:8080/hook", DEV)).resolves.toMatchObject({ hostname: "127.0.0.1", addresses: [{ address: "127.0.0.1", family: 4 }] });
  });
});

describe("resolving a destination", () => {
  it("checks every address the host resolves to, not just the first", async () => {
    const resolve = tableResolver({ "shop.example.test": ["8.8.8.8", "127.0.0.1"] });
    await expect(resolveDestination("https://shop.example.test/hook", { ...NOT_DEV, resolve })).rejects.toThrow(/loopback address \(shop\.example\.test → 127\.0\.0\.1\)/);
  });

  it("returns the vetted addresses and the host name, asking the resolver once", async () => {
    const resolve = tableResolver({ "shop.example.test": ["8.8.8.8", "2606:4700:4700::1111"] });
    const dest = await resolveDestination("https://shop.example.test:8443/hook?x=1", { ...NOT_DEV, resolve });
    expect(dest.hostname).toBe("shop.example.test");
    expect(dest.addresses).toEqual([
      { address: "8.8.8.8", family: 4 },
      { address: "2606:4700:4700::1111", family: 6 },
    ]);
    expect(resolve.asked).toEqual(["shop.example.test"]);
  });

  it("refuses a host that does not resolve, and a URL that is not http(s)", async () => {
    const failing: Resolver = () => Promise.reject(Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" }));
    await expect(resolveDestination("https://gone.example.test/hook", { ...DEV, resolve: failing })).rejects.toThrow(/does not resolve/);
    await expect(resolveDestination("https://empty.example.test/hook", { ...DEV, resolve: tableResolver({}) })).rejects.toThrow(/does not resolve/);
    await expect(resolveDestination("ftp://127.0.0.1/hook", DEV)).rejects.toThrow(/http\(s\)/);
  });
});
