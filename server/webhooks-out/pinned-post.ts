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
}

export interface PinnedPostResult {
  statusCode: number;
  /** The address the socket connected to (always one of the vetted ones). */
  remoteAddress: string | undefined;
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
        // Only the status matters; the body is not read (a receiver cannot make us buffer anything).
        res.destroy();
        resolve({ statusCode: res.statusCode ?? 0, remoteAddress });
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
