import { ulid, ulidFrom } from "@/db/ids";

// Run and event ids are ULIDs, as Inngest's are. Event ids can be derived from the SDK's
// `x-inngest-event-id-seed` ("<ms>,<base64 10 bytes>"): the SDK resends a failed `send` with the same
// seed, so the same events get the same ids and the engine stores them once.

export { ulidFrom };

export function newUlid(nowMs: number = Date.now()): string {
  return ulid(nowMs);
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
