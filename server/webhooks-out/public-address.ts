import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { env } from "@/server/env.js";
import { AppError } from "@/server/errors";
import { classifyAddress, isMetadataHostname } from "./address-ranges";

// Merchant webhook URLs must not reach our own network (SSRF). The host is resolved ONCE and every address it
// resolves to is checked (address-ranges.ts); pinned-post.ts then connects to exactly those addresses, so a DNS
// answer that changes after the check (rebinding) is never used. Done at creation and again on every delivery
// attempt. Link-local, metadata and the other refused ranges are refused in every mode; loopback and private
// addresses only in development (localDestinationsAllowed).

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Host name → every address it has now. Injectable so tests can play a rebinding DNS server. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = (hostname) => lookup(hostname, { all: true, verbatim: true });

/** A destination that passed the check: connect only to `addresses`, and send `hostname` as Host / TLS SNI. */
export interface VettedDestination {
  url: URL;
  /** The URL's host without IPv6 brackets. */
  hostname: string;
  addresses: ResolvedAddress[];
}

export interface DestinationCheckOptions {
  allowLocal?: boolean;
  resolve?: Resolver;
  /** Bounds the DNS lookup (the delivery's overall timeout). */
  signal?: AbortSignal;
}

/** What the mode rule reads (structural, so a test can pass parseEnv({...}) for any mode). */
export interface DestinationModeInput {
  PSP_MODE: "sandbox" | "live";
  NODE_ENV: "development" | "test" | "production";
  /** Set by scripts/dev.ts when it runs the embedded Postgres: a local machine, never a deployment. */
  EMBEDDED_DATABASE?: boolean;
}

/**
 * Loopback and private destinations are for development only: the platform runs on the PSP sandbox
 * (PSP_MODE=sandbox, so every merchant, API key and endpoint is test-mode) AND is not a deployment, i.e.
 * NODE_ENV is not production, or scripts/dev.ts runs it on its embedded Postgres (`npm run dev`, `npm start`
 * without DATABASE_URL, the e2e server, which is a production build on a throwaway database).
 * PSP_MODE=live never allows them, and neither does a production build on a real database.
 */
export function localDestinationsAllowed(e: DestinationModeInput = env): boolean {
  if (e.PSP_MODE !== "sandbox") return false;
  return e.NODE_ENV !== "production" || e.EMBEDDED_DATABASE === true;
}

function refuse(message: string): never {
  throw new AppError("validation_failed", message);
}

async function resolveOnce(hostname: string, resolve: Resolver, signal?: AbortSignal): Promise<ResolvedAddress[]> {
  signal?.throwIfAborted();
  const aborted = new Promise<never>((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason), { once: true }));
  const answer = await Promise.race([resolve(hostname).catch(() => [] as ResolvedAddress[]), aborted]);
  return answer.map((a) => ({ address: a.address, family: a.family }));
}

/** Resolves the URL's host once and checks every address; throws validation_failed if any is refused. */
export async function resolveDestination(rawUrl: string, opts: DestinationCheckOptions = {}): Promise<VettedDestination> {
  const allowLocal = opts.allowLocal ?? localDestinationsAllowed();
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return refuse("The webhook URL is not a valid URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") refuse("The webhook URL must be http(s)");
  const hostname = url.hostname.replace(/^\[|\]$/g, "");
  if (isMetadataHostname(hostname)) refuse(`The webhook URL points at a cloud metadata service (${hostname})`);
  const family = isIP(hostname);
  const addresses = family ? [{ address: hostname, family }] : await resolveOnce(hostname, opts.resolve ?? systemResolver, opts.signal);
  if (addresses.length === 0) refuse(`The webhook host ${hostname} does not resolve`);
  for (const { address } of addresses) {
    const verdict = classifyAddress(address);
    if (verdict.kind === "refused" || (verdict.kind === "local" && !allowLocal)) {
      const shown = address === hostname ? address : `${hostname} → ${address}`;
      refuse(`The webhook URL points at a ${verdict.range} address (${shown}), which is not allowed here; use a public URL`);
    }
  }
  return { url, hostname, addresses };
}

export async function assertPublicDestination(url: string, opts: DestinationCheckOptions = {}): Promise<void> {
  await resolveDestination(url, opts);
}
