import http from "node:http";
import tls from "node:tls";
import type { AddressInfo, Socket } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { EXCERPT_READ_MS, pinnedLookup, postPinned } from "./pinned-post";
import { resolveDestination, type Resolver } from "./public-address";

// DNS rebinding, with real sockets on loopback only. A "rebinding DNS server" (an injected resolver) answers
// the vetted address first and something else afterwards: the connection must go to the first answer.
// The receiver listens on 127.0.0.1:P; a trap listens on 127.0.0.2:P (the same port), so a connection made
// from a second lookup would land in the trap. Nothing here leaves 127.0.0.0/8.

const TIMEOUT_MS = 10_000;
const HOST = "hooks.rebind.test";

interface Seen {
  host: string | undefined;
  path: string | undefined;
  body: string;
  localAddress: string | undefined;
}

let receiver: http.Server;
let trap: http.Server;
let port: number;
const seen: Seen[] = [];
const trapConnections: Socket[] = [];
/** What the receiver answers next. */
let answer: { status: number; headers?: Record<string, string> } = { status: 200 };

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => {
      seen.push({ host: req.headers.host, path: req.url, body, localAddress: req.socket.localAddress });
      res.writeHead(answer.status, answer.headers).end("ok");
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  port = (receiver.address() as AddressInfo).port;
  trap = http.createServer((_req, res) => res.writeHead(500).end("trap"));
  trap.on("connection", (s: Socket) => trapConnections.push(s));
  await new Promise<void>((r) => trap.listen(port, "127.0.0.2", r));
});
beforeEach(() => {
  seen.length = 0;
  trapConnections.length = 0;
  answer = { status: 200 };
});
afterAll(async () => {
  for (const s of [receiver, trap]) {
    s?.closeAllConnections();
    await new Promise((r) => s?.close(r));
  }
});

/** Answers `first` to the first question and `later` to every one after it; `calls` counts the questions. */
function rebindingResolver(first: string, later: string): { resolve: Resolver; calls: () => number } {
  let calls = 0;
  const resolve: Resolver = async () => {
    calls += 1;
    return [{ address: calls === 1 ? first : later, family: 4 }];
  };
  return { resolve, calls: () => calls };
}

const post = (url: string, resolve: Resolver, allowLocal: boolean) =>
  postPinned(url, { headers: { "content-type": "application/json" }, body: '{"id":"evt_1"}', timeoutMs: TIMEOUT_MS, allowLocal, resolve });

describe("pinned webhook POST", () => {
  it("connects to the address that was checked, not to a later DNS answer, and keeps the host name as Host", async () => {
    const dns = rebindingResolver("127.0.0.1", "127.0.0.2");
    const result = await post(`http://${HOST}:${port}/hooks/1?a=b`, dns.resolve, true);
    expect(result).toEqual({ statusCode: 200, remoteAddress: "127.0.0.1", excerpt: "" }); // no excerptBytes: the body is not read
    expect(dns.calls()).toBe(1);
    expect(seen).toEqual([{ host: `${HOST}:${port}`, path: "/hooks/1?a=b", body: '{"id":"evt_1"}', localAddress: "127.0.0.1" }]);
    expect(trapConnections).toHaveLength(0);
  });

  it("keeps answering the vetted address for the socket after DNS has switched to a refused one", async () => {
    // The check sees an allowed address; every later lookup would say cloud metadata. Nothing connects here:
    // this is the lookup the socket is given, asked the way node:net asks it (one address, or all of them).
    const dns = rebindingResolver("127.0.0.1", "169.254.169.254");
    const dest = await resolveDestination(`http://${HOST}:${port}/`, { allowLocal: true, resolve: dns.resolve });
    await expect(resolveDestination(`http://${HOST}:${port}/`, { allowLocal: true, resolve: dns.resolve })).rejects.toThrow(/link-local/);
    const lookup = pinnedLookup(dest);
    const one = await new Promise((r) => lookup(HOST, { family: 0 }, (err, address, family) => r({ err, address, family })));
    const all = await new Promise((r) => lookup(HOST, { all: true }, (err, address) => r({ err, address })));
    expect(one).toEqual({ err: null, address: "127.0.0.1", family: 4 });
    expect(all).toEqual({ err: null, address: [{ address: "127.0.0.1", family: 4 }] });
    const other = await new Promise<NodeJS.ErrnoException | null>((r) => lookup("elsewhere.test", { family: 0 }, (err) => r(err)));
    expect(other?.code).toBe("ENOTFOUND");
    expect(dns.calls()).toBe(2); // only the two checks above; the pinned lookup never asks DNS
  });

  it("over https, sends the host name as the TLS server name (SNI) to the pinned address", async () => {
    // No certificate is needed: the server records the SNI it was asked for, then ends the handshake.
    const names: string[] = [];
    const server = tls.createServer({ SNICallback: (name, cb) => (names.push(name), cb(new Error("no certificate here"), undefined)) });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const tlsPort = (server.address() as AddressInfo).port;
      const dns = rebindingResolver("127.0.0.1", "127.0.0.2");
      await expect(post(`https://${HOST}:${tlsPort}/hooks/tls`, dns.resolve, true)).rejects.toThrow();
      expect(names).toEqual([HOST]);
      expect(dns.calls()).toBe(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it("refuses a loopback answer outside development before any connection is made", async () => {
    const dns = rebindingResolver("127.0.0.1", "127.0.0.1");
    await expect(post(`http://${HOST}:${port}/hooks/2`, dns.resolve, false)).rejects.toThrow(/loopback address/);
    expect(seen).toEqual([]);
    expect(trapConnections).toHaveLength(0);
  });

  it("does not follow a redirect: a 3xx is the answer", async () => {
    answer = { status: 302, headers: { location: `http://127.0.0.2:${port}/elsewhere` } };
    const result = await post(`http://127.0.0.1:${port}/hooks/3`, rebindingResolver("127.0.0.1", "127.0.0.1").resolve, true);
    expect(result.statusCode).toBe(302);
    expect(seen).toHaveLength(1);
    expect(trapConnections).toHaveLength(0);
  });

  it("reads at most excerptBytes of the answer, and stops waiting for a body that never ends", async () => {
    // Headers and 10 bytes at once, then nothing: the excerpt is what came, cut after EXCERPT_READ_MS.
    const slow = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("0123456789");
      });
    });
    await new Promise<void>((r) => slow.listen(0, "127.0.0.1", r));
    const slowPort = (slow.address() as AddressInfo).port;
    try {
      const started = Date.now();
      const opts = { headers: {}, body: "{}", timeoutMs: TIMEOUT_MS, allowLocal: true, resolve: rebindingResolver("127.0.0.1", "127.0.0.1").resolve };
      const trickled = await postPinned(`http://127.0.0.1:${slowPort}/`, { ...opts, excerptBytes: 2048 });
      expect(trickled).toMatchObject({ statusCode: 200, excerpt: "0123456789" });
      expect(Date.now() - started).toBeLessThan(TIMEOUT_MS);
      expect(Date.now() - started).toBeGreaterThanOrEqual(EXCERPT_READ_MS - 50);
      const cut = await postPinned(`http://127.0.0.1:${slowPort}/`, { ...opts, excerptBytes: 4 });
      expect(cut.excerpt).toBe("0123");
    } finally {
      slow.closeAllConnections();
      await new Promise((r) => slow.close(r));
    }
  });
});
