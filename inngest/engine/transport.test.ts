import http from "node:http";
import net from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { AppTransportError, httpTransport } from "./transport";

// What httpTransport makes of real socket failures (undici's error codes): only failures that say the app
// did not run the request become AppTransportError (the executor then keeps the attempt number).

const servers: http.Server[] = [];
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function server(handler: http.RequestListener): Promise<string> {
  const s = http.createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(s.address() as { port: number }).port}/api/inngest`;
}

const send = (url: string, timeoutMs = 5000) => httpTransport().send({ url, method: "POST", headers: {}, body: "{}", timeoutMs });

describe("httpTransport failures", () => {
  it("a closed port is `unreachable` (ECONNREFUSED)", async () => {
    // A port that was just free and nobody listens on.
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const err = await send(`http://127.0.0.1:${port}/api/inngest`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppTransportError);
    expect(err).toMatchObject({ kind: "unreachable", code: "ECONNREFUSED" });
  });

  it("a socket closed before any answer is `connection_lost`", async () => {
    const url = await server((req) => req.socket.destroy());
    const err = await send(url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppTransportError);
    expect((err as AppTransportError).kind).toBe("connection_lost");
  });

  it("a timeout after the request was sent is an ordinary failure (the app may have run it)", async () => {
    const url = await server(() => {}); // never answers
    const err = await send(url, 300).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(AppTransportError);
    expect((err as Error).name).toBe("TimeoutError");
  });

  it("a body cut after the headers is an ordinary failure (the app answered)", async () => {
    const url = await server((_req, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write("{\"partial\":");
      setTimeout(() => res.socket?.destroy(), 50);
    });
    const err = await send(url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(AppTransportError);
  });
});
