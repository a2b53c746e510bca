import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { resolveDestination, type DestinationCheckOptions, type VettedDestination } from "./public-address";

// One POST to a merchant's webhook URL, connected to an address that was checked a moment before (DNS
// rebinding cannot swap it): the host is resolved once by resolveDestination, and the socket's `lookup`
// answers only with those vetted addresses instead of asking DNS again. The URL's host name stays the Host
// header and the TLS server name (SNI and certificate check). Redirects are never followed (node:http does
// not follow them; a 3xx is just a status). One overall timeout bounds DNS, connect, TLS and the answer.

export interface PinnedPostOptions extends Omit<DestinationCheckOptions, "signal"> {
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Read at most this many bytes of the answer (default 0: the body is not read). */
  excerptBytes?: number;
}

/** However slowly the answer trickles in, its excerpt is cut after this long (the status already counts). */
export const EXCERPT_READ_MS = 1_000;

export interface PinnedPostResult {
  statusCode: number;
  /** The address the socket connected to (always one of the vetted ones). */
  remoteAddress: string | undefined;
  /** The first `excerptBytes` of the answer's body, as UTF-8 ("" when not asked for). */
  excerpt: string;
}

/** The socket's DNS: only the vetted addresses, only for the vetted host name. */
export function pinnedLookup(dest: VettedDestination): LookupFunction {
  return (hostname, options, callback) => {
    const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
    const answers = hostname === dest.hostname ? dest.addresses.filter((a) => wanted === 0 || a.family === wanted) : [];
    if (answers.length === 0) {
      const err: NodeJS.ErrnoException = Object.assign(new Error(`No vetted address for ${hostname}`), { code: "ENOTFOUND" });
      callback(err, "", 0);
    } else if (options.all) {
      callback(null, answers);
    } else {
      callback(null, answers[0]!.address, answers[0]!.family);
    }
  };
}

function send(dest: VettedDestination, opts: PinnedPostOptions, signal: AbortSignal): Promise<PinnedPostResult> {
  const { url } = dest;
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      {
        protocol: url.protocol,
        hostname: dest.hostname,
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: "POST",
        headers: { ...opts.headers, "content-length": String(Buffer.byteLength(opts.body)) },
        lookup: pinnedLookup(dest),
        // A fresh connection per attempt: no pooled socket that was connected for an earlier check.
        agent: false,
        signal,
      },
      (res) => {
        const remoteAddress = res.socket.remoteAddress;
        const statusCode = res.statusCode ?? 0;
        // The status decides; of the body at most `excerptBytes` are read, for at most EXCERPT_READ_MS (a receiver
        // cannot make us buffer or wait for more).
        const max = opts.excerptBytes ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        let done = false;
        const finish = () => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          res.destroy();
          resolve({ statusCode, remoteAddress, excerpt: Buffer.concat(chunks).subarray(0, max).toString("utf8") });
        };
        // The status has arrived and decides: an abort or socket error while the excerpt is read (the request's
        // timeout firing then) ends the read, never turns a delivered 2xx into a failure (and a second delivery).
        req.removeListener("error", reject);
        req.on("error", finish);
        const timer = setTimeout(finish, max > 0 ? EXCERPT_READ_MS : 0);
        if (max <= 0) return finish();
        res.on("data", (c: Buffer) => {
          chunks.push(c);
          size += c.length;
          if (size >= max) finish();
        });
        res.on("end", finish);
        res.on("error", finish);
        res.on("close", finish);
      },
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** Resolves and checks the destination (throws validation_failed when refused), then POSTs to the vetted address. */
export async function postPinned(rawUrl: string, opts: PinnedPostOptions): Promise<PinnedPostResult> {
  const signal = AbortSignal.timeout(opts.timeoutMs);
  const dest = await resolveDestination(rawUrl, { allowLocal: opts.allowLocal, resolve: opts.resolve, signal });
  return send(dest, opts, signal);
}
