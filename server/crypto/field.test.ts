import { createDecipheriv, createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { env } from "@/server/env.js";
import { decryptField, encryptField, envelopeKeyVersion, FieldKeyMissingError, lookupHash, reencryptField } from "./field";
import { buildKeyRing, derivedLookupKey, keyRing } from "./key-ring";

describe("lookupHash", () => {
  it("is keyed: neither the plain nor the old v1-prefixed sha256 of the value", () => {
    const h = lookupHash("buyer@example.com");
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(h).not.toBe(createHash("sha256").update("buyer@example.com").digest("hex"));
    expect(h).not.toBe(createHash("sha256").update("v1:buyer@example.com").digest("hex"));
  });
  it("is HMAC-SHA256 under a key derived from FIELD_ENCRYPTION_KEY", () => {
    const lookupKey = createHmac("sha256", Buffer.from(env.FIELD_ENCRYPTION_KEY ?? "ZGV2LW9ubHktZmllbGQta2V5LWRvLW5vdC11c2UtISE=", "base64")).update("lookup-hash-v1").digest();
    expect(lookupHash("buyer@example.com")).toBe(createHmac("sha256", lookupKey).update("buyer@example.com").digest("hex"));
  });
  it("is stable and normalizes case and surrounding spaces", () => {
    expect(lookupHash("  Buyer@Example.COM ")).toBe(lookupHash("buyer@example.com"));
    expect(lookupHash("buyer@example.com")).toBe(lookupHash("buyer@example.com"));
    expect(lookupHash("other@example.com")).not.toBe(lookupHash("buyer@example.com"));
  });
});

const K1 = Buffer.alloc(32, 1);
const K2 = Buffer.alloc(32, 2);
const K3 = Buffer.alloc(32, 3);

describe("key ring envelopes", () => {
  it("key 1 writes the original v1 envelope, readable by the code before rotation existed", () => {
    const ring = buildKeyRing({ keys: [{ version: 1, key: K1 }] });
    const envelope = encryptField("buyer@example.com", ring);
    expect(envelope.split(".")).toHaveLength(4);
    expect(envelope.startsWith("v1.")).toBe(true);
    expect(envelopeKeyVersion(envelope)).toBe(1);
    // The decryption the pre-rotation field.ts did: key 1, parts iv.tag.ct after "v1.".
    const [, iv, tag, ct] = envelope.split(".");
    const d = createDecipheriv("aes-256-gcm", K1, Buffer.from(iv!, "base64url"));
    d.setAuthTag(Buffer.from(tag!, "base64url"));
    expect(Buffer.concat([d.update(Buffer.from(ct!, "base64url")), d.final()]).toString("utf8")).toBe("buyer@example.com");
  });

  it("new writes go under the newest key (or the active one), and name it; reads pick the key by version", () => {
    const ring = buildKeyRing({ keys: [{ version: 1, key: K1 }, { version: 2, key: K2 }] });
    expect(ring.active).toBe(2);
    const v1 = encryptField("old", buildKeyRing({ keys: [{ version: 1, key: K1 }] }));
    const v2 = encryptField("new", ring);
    expect(v2.startsWith("v1.k2.")).toBe(true);
    expect(envelopeKeyVersion(v2)).toBe(2);
    expect(decryptField(v1, ring)).toBe("old");
    expect(decryptField(v2, ring)).toBe("new");
    expect(encryptField("x", buildKeyRing({ keys: [{ version: 1, key: K1 }, { version: 2, key: K2 }], active: 1 })).split(".")).toHaveLength(4);
    expect(envelopeKeyVersion(reencryptField(v1, ring))).toBe(2);
    expect(decryptField(reencryptField(v1, ring), ring)).toBe("old");
  });

  it("a version missing from the ring fails clearly, naming it", () => {
    const v2 = encryptField("secret", buildKeyRing({ keys: [{ version: 2, key: K2 }], lookupKey: K3 }));
    const only1 = buildKeyRing({ keys: [{ version: 1, key: K1 }] });
    expect(() => decryptField(v2, only1)).toThrow(FieldKeyMissingError);
    expect(() => decryptField(v2, only1)).toThrow(/key version 2 is not in the key ring/);
    // The wrong key under the right version number is an authentication failure, never garbage.
    expect(() => decryptField(v2, buildKeyRing({ keys: [{ version: 2, key: K3 }], lookupKey: K3 }))).toThrow();
  });

  it("tells envelopes from other text", () => {
    for (const s of ["{}", "v1", "v2.a.b.c", "v1.k1.a.b.c", "v1.k0.a.b.c", "v1.a.b", "v1.kx.a.b.c"]) expect(envelopeKeyVersion(s)).toBeNull();
    expect(envelopeKeyVersion("v1.k12.a.b.c")).toBe(12);
  });

  it("lookup hashes do not change when keys rotate: pinned to key 1's derivation, or FIELD_LOOKUP_KEY", () => {
    const before = buildKeyRing({ keys: [{ version: 1, key: K1 }] });
    const rotated = buildKeyRing({ keys: [{ version: 2, key: K2 }, { version: 1, key: K1 }] });
    const key1Gone = buildKeyRing({ keys: [{ version: 2, key: K2 }], lookupKey: derivedLookupKey(K1) });
    const h = lookupHash("buyer@example.com", before);
    expect(lookupHash("buyer@example.com", rotated)).toBe(h);
    expect(lookupHash("buyer@example.com", key1Gone)).toBe(h);
    expect(() => buildKeyRing({ keys: [{ version: 2, key: K2 }] })).toThrow(/FIELD_LOOKUP_KEY/);
  });

  it("the process ring comes from the environment (the development key as version 1 by default)", () => {
    expect(keyRing().versions).toContain(1);
  });
});
