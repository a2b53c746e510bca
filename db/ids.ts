import { randomBytes } from "node:crypto";

// Prefixed, time-sortable ids (`mer_01J…`): a ULID body (48-bit ms timestamp + 80 random bits, Crockford
// base32) so ids sort by creation time and index well, with a prefix that says what the id names.
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export type IdPrefix = "mer" | "sel" | "usr" | "aud" | "psa" | "pse" | "lac" | "ltx" | "hld" | "key" | "chk" | "po" | "pot" | "rsk" | "rdc" | "pat" | "whe" | "whd" | "dch" | "ctr" | "atr" | "exc" | "inv" | "arq" | "wda" | "rfd" | "rft" | "dsp" | "dst" | "dsr" | "pyo" | "pyt" | "pyi" | "pyd" | "rim" | "rcs" | "rct" | "rad";

function encode(value: bigint, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) {
    out = ALPHABET[Number(value & 31n)] + out;
    value >>= 5n;
  }
  return out;
}

const RANDOM_BITS = 80n;

/** A ULID from a given time and 80 bits of randomness (the engine derives them from the SDK's seed). */
export function ulidFrom(nowMs: number, random: bigint): string {
  return encode(BigInt(nowMs), 10) + encode(random & ((1n << RANDOM_BITS) - 1n), 16);
}

export function ulid(nowMs: number = Date.now()): string {
  return ulidFrom(nowMs, BigInt(`0x${randomBytes(10).toString("hex")}`));
}

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${ulid()}`;
}
