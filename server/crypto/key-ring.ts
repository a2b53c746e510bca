import { createHmac } from "node:crypto";
import { env, fieldKeyRingConfig, type Env } from "@/server/env.js";

// The field-encryption key ring (docs/security.md "Rotating the field-encryption key"): every key version a
// stored value may name, the version new values are written under, and the lookup-hash key. Built once from
// the environment (config/env.js validates the variables); a deploy changes it by restarting the process.
// installKeyRing swaps it in-process, for tests that rotate while the app runs.

export interface KeyRing {
  /** The version new values are encrypted under. */
  readonly active: number;
  /** Every version that can be read, newest first. */
  readonly versions: readonly number[];
  readonly keys: ReadonlyMap<number, Buffer>;
  /** HMAC key of lookupHash: pinned across rotations so stored hashes keep matching. */
  readonly lookupKey: Buffer;
}

/** Key version 1's lookup key, as lookupHash has always derived it (FIELD_LOOKUP_KEY pins this value). */
export function derivedLookupKey(key: Buffer): Buffer {
  return createHmac("sha256", key).update("lookup-hash-v1").digest();
}

export class KeyRingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyRingError";
  }
}

/** A ring from base64 keys by version. The lookup key: `lookupKey` if given, else derived from version 1. */
export function buildKeyRing(opts: { keys: readonly { version: number; key: string | Buffer }[]; active?: number; lookupKey?: string | Buffer }): KeyRing {
  const keys = new Map<number, Buffer>();
  for (const { version, key } of opts.keys) {
    const buf = typeof key === "string" ? Buffer.from(key, "base64") : key;
    if (!Number.isInteger(version) || version < 1) throw new KeyRingError(`Key version ${version} is not a positive integer`);
    if (buf.length !== 32) throw new KeyRingError(`Key version ${version} is not 32 bytes`);
    if (keys.has(version)) throw new KeyRingError(`Key version ${version} appears twice`);
    keys.set(version, buf);
  }
  const versions = [...keys.keys()].sort((a, b) => b - a);
  const active = opts.active ?? versions[0];
  if (active === undefined || !keys.has(active)) throw new KeyRingError(`The active key version ${active ?? "(none)"} is not in the key ring`);
  const one = keys.get(1);
  const lookupKey = opts.lookupKey !== undefined ? (typeof opts.lookupKey === "string" ? Buffer.from(opts.lookupKey, "base64") : opts.lookupKey) : one && derivedLookupKey(one);
  if (!lookupKey || lookupKey.length !== 32) throw new KeyRingError("No lookup key: set FIELD_LOOKUP_KEY once key version 1 has left the ring");
  return { active, versions, keys, lookupKey };
}

export function keyRingFromEnv(e: Env = env): KeyRing {
  return buildKeyRing(fieldKeyRingConfig(e));
}

let current: KeyRing | undefined;

/** The process's key ring (built from the environment on first use). */
export function keyRing(): KeyRing {
  return (current ??= keyRingFromEnv());
}

/** Replaces the process's key ring; returns the previous one. For tests that rotate keys in-process. */
export function installKeyRing(ring: KeyRing): KeyRing {
  const previous = keyRing();
  current = ring;
  return previous;
}
