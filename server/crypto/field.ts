import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from "node:crypto";
import { keyRing, type KeyRing } from "./key-ring";

// Field encryption for personal data at rest (buyer details, M-Pesa phones, raw PSP bodies, webhook secrets):
// AES-256-GCM with a random 96-bit IV per value, under a key ring (key-ring.ts). Envelopes (base64url parts):
//   v1.<iv>.<tag>.<ciphertext>        key version 1 (the only form before rotation existed)
//   v1.k<N>.<iv>.<tag>.<ciphertext>   key version N >= 2
// Every envelope starts `v1.` (the envelope format), so the checks that tell an envelope from a plain PSP body
// (psp_events_unencrypted_idx, the redaction backfill) hold under every key. An IV is 16 characters, so a
// `k<N>` part (at most 7) is never mistaken for one. New values are written under the ring's active version;
// server/keys re-encrypts older ones.

export const ENVELOPE_PREFIX = "v1.";
const IV_BYTES = 12;
export const MAX_KEY_VERSION = 999_999;
const KEY_PART = /^k([1-9][0-9]{0,5})$/;

export class FieldKeyMissingError extends Error {
  constructor(readonly version: number) {
    super(`Field-encryption key version ${version} is not in the key ring (FIELD_ENCRYPTION_KEYS): a stored value was encrypted under it; add it back to read it`);
    this.name = "FieldKeyMissingError";
  }
}

/** The envelope's key version, or null if `value` is not a field-encryption envelope. */
export function envelopeKeyVersion(value: string): number | null {
  const parts = value.split(".");
  if (parts[0] !== "v1") return null;
  if (parts.length === 4) return 1;
  const m = parts.length === 5 ? KEY_PART.exec(parts[1]!) : null;
  const version = m ? Number(m[1]) : NaN;
  return version >= 2 ? version : null;
}

/** The prefix every envelope under `version` starts with (and no other does). */
export function envelopePrefix(version: number): string {
  return version === 1 ? ENVELOPE_PREFIX : `${ENVELOPE_PREFIX}k${version}.`;
}

export function encryptField(plaintext: string, ring: KeyRing = keyRing()): string {
  const version = ring.active;
  const key = ring.keys.get(version);
  if (!key) throw new FieldKeyMissingError(version);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  const body = [iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), ct.toString("base64url")].join(".");
  return envelopePrefix(version) + body;
}

export function decryptField(envelope: string, ring: KeyRing = keyRing()): string {
  const version = envelopeKeyVersion(envelope);
  if (version === null) throw new Error("Unknown field-encryption envelope");
  const key = ring.keys.get(version);
  if (!key) throw new FieldKeyMissingError(version);
  const [iv, tag, ct] = envelope.slice(envelopePrefix(version).length).split(".");
  if (!iv || !tag || ct === undefined) throw new Error("Unknown field-encryption envelope");
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  return Buffer.concat([decipher.update(Buffer.from(ct, "base64url")), decipher.final()]).toString("utf8");
}

/** The same value under the ring's active key (unchanged if it already is). */
export function reencryptField(envelope: string, ring: KeyRing = keyRing()): string {
  if (envelopeKeyVersion(envelope) === ring.active) return envelope;
  return encryptField(decryptField(envelope, ring), ring);
}

export function encryptJson(value: unknown, ring: KeyRing = keyRing()): string {
  return encryptField(JSON.stringify(value), ring);
}
export function decryptJson<T>(envelope: string, ring: KeyRing = keyRing()): T {
  return JSON.parse(decryptField(envelope, ring)) as T;
}

/** Deterministic lookup hash (velocity rules, blocklists) so matching never needs decryption. Keyed (HMAC-SHA256):
 *  an unkeyed hash of an email is recovered from the database by hashing a dictionary of emails. The key is the
 *  ring's pinned lookup key (derived from key version 1 unless FIELD_LOOKUP_KEY is set), never the active key:
 *  a rotation must not change the hash of a value already stored. */
export function lookupHash(value: string, ring: KeyRing = keyRing()): string {
  return createHmac("sha256", ring.lookupKey).update(value.trim().toLowerCase()).digest("hex");
}

export function sha256Hex(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}
