import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from "node:crypto";
import { env } from "@/server/env.js";

// Field encryption for personal data at rest (buyer details): AES-256-GCM with a random 96-bit IV per
// value. Envelope: `v1.<iv>.<tag>.<ciphertext>` (base64url). The version prefix lets a key rotation add v2.

const VERSION = "v1";
const IV_BYTES = 12;

function key(): Buffer {
  return Buffer.from(env.FIELD_ENCRYPTION_KEY, "base64");
}

export function encryptField(plaintext: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key(), iv);
  const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return [VERSION, iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), ct.toString("base64url")].join(".");
}

export function decryptField(envelope: string): string {
  const [version, iv, tag, ct] = envelope.split(".");
  if (version !== VERSION || !iv || !tag || ct === undefined) throw new Error("Unknown field-encryption envelope");
  const decipher = createDecipheriv("aes-256-gcm", key(), Buffer.from(iv, "base64url"));
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  return Buffer.concat([decipher.update(Buffer.from(ct, "base64url")), decipher.final()]).toString("utf8");
}

export function encryptJson(value: unknown): string {
  return encryptField(JSON.stringify(value));
}
export function decryptJson<T>(envelope: string): T {
  return JSON.parse(decryptField(envelope)) as T;
}

/** The lookup-hash key, derived from the field key: without it a stored hash cannot be tested against guesses. */
function lookupKey(): Buffer {
  return createHmac("sha256", key()).update("lookup-hash-v1").digest();
}

/** Deterministic lookup hash (velocity rules, blocklists) so matching never needs decryption. Keyed (HMAC-SHA256):
 *  an unkeyed hash of an email is recovered from the database by hashing a dictionary of emails. */
export function lookupHash(value: string): string {
  return createHmac("sha256", lookupKey()).update(value.trim().toLowerCase()).digest("hex");
}

export function sha256Hex(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}
