import { randomBytes } from "node:crypto";

// Run and event ids are ULIDs, as Inngest's are. Event ids can be derived from the SDK's
// `x-inngest-event-id-seed` ("<ms>,<base64 10 bytes>"): the SDK resends a failed `send` with the same
// seed, so the same events get the same ids and the engine stores them once.

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const RANDOM_BITS = 80n;

function encode(value: bigint, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) {
    out = ALPHABET[Number(value & 31n)] + out;
    value >>= 5n;
  }
  return out;
}

export function ulidFrom(ms: number, random: bigint): string {
  return encode(BigInt(ms), 10) + encode(random & ((1n << RANDOM_BITS) - 1n), 16);
}

export function newUlid(nowMs: number = Date.now()): string {
  return ulidFrom(nowMs, BigInt(`0x${randomBytes(10).toString("hex")}`));
}

/** Ids for `count` events from a seed; undefined when the seed is malformed (then ids are random). */
export function idsFromSeed(seed: string | null, count: number): string[] | undefined {
  if (!seed) return undefined;
  const [msRaw, entropyB64] = seed.split(",");
  const ms = Number(msRaw);
  const entropy = entropyB64 ? Buffer.from(entropyB64, "base64") : Buffer.alloc(0);
  if (!Number.isSafeInteger(ms) || ms <= 0 || entropy.length !== 10) return undefined;
  const base = BigInt(`0x${entropy.toString("hex")}`);
  return Array.from({ length: count }, (_, i) => ulidFrom(ms, base + BigInt(i)));
}
