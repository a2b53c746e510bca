import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiKeys, rateLimitCounters } from "@/db/schema";
import { authenticateApiKeyCounted, createApiKey, revokeApiKey } from "@/server/api-keys/keys";
import { RATE_LIMIT_WINDOW_MS, rateLimitWindowStart } from "@/server/rate-limit/consume";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createMerchant } from "@/test/fixtures";

// The /api/v1 wrapper reads the key and counts the request on the key's rate-limit window in one statement
// (authenticateApiKeyCounted). It must resolve the key's principal, and count only real, live keys of a kind the
// endpoint accepts.

let t: TestDatabase;
let merchant: { id: string };
beforeAll(async () => {
  t = await createTestDatabase();
  merchant = await createMerchant(t.db, "Key Counting Merchant");
});
afterAll(async () => t?.drop());

const counter = (keyId: string, now: number) =>
  t.db
    .select({ count: rateLimitCounters.count })
    .from(rateLimitCounters)
    .where(and(eq(rateLimitCounters.bucket, `key:${keyId}`), eq(rateLimitCounters.windowStart, new Date(rateLimitWindowStart(now)))));

describe("authenticateApiKeyCounted", () => {
  it("gives the key's principal and counts each request in the key's window", async () => {
    const created = await createApiKey(t.db, { merchantId: merchant.id, kind: "secret", name: "counted" });
    const now = Date.now();
    const first = await authenticateApiKeyCounted(t.db, created.key, ["secret"], now);
    expect(first.principal).toEqual({ keyId: created.id, merchantId: merchant.id, kind: "secret", mode: "test", createdByUserId: null });
    expect(first.count).toBe(1);
    const second = await authenticateApiKeyCounted(t.db, created.key, ["secret"], now);
    expect(second.count).toBe(2);
    expect(await counter(first.principal.keyId, now)).toEqual([{ count: 2 }]);
    // The next window starts again at one.
    expect((await authenticateApiKeyCounted(t.db, created.key, ["secret"], now + RATE_LIMIT_WINDOW_MS)).count).toBe(1);
    // last_used_at is written (minute granularity) as by the plain lookup.
    const [row] = await t.db.select({ lastUsedAt: apiKeys.lastUsedAt }).from(apiKeys).where(eq(apiKeys.id, first.principal.keyId));
    expect(row!.lastUsedAt).not.toBeNull();
  });

  it("refuses unknown, malformed and revoked keys as unauthenticated and counts nothing for them", async () => {
    const created = await createApiKey(t.db, { merchantId: merchant.id, kind: "secret", name: "to revoke" });
    const now = Date.now();
    const { principal } = await authenticateApiKeyCounted(t.db, created.key, ["secret"], now);
    await revokeApiKey(t.db, { merchantId: merchant.id, keyId: principal.keyId });
    await expect(authenticateApiKeyCounted(t.db, created.key, ["secret"], now)).rejects.toMatchObject({ code: "unauthenticated" });
    expect(await counter(principal.keyId, now)).toEqual([{ count: 1 }]);
    await expect(authenticateApiKeyCounted(t.db, "sk_test_" + "x".repeat(32), ["secret"], now)).rejects.toMatchObject({ code: "unauthenticated" });
    await expect(authenticateApiKeyCounted(t.db, "not a key", ["secret"], now)).rejects.toMatchObject({ code: "unauthenticated" });
    await expect(authenticateApiKeyCounted(t.db, null, ["secret"], now)).rejects.toMatchObject({ code: "unauthenticated" });
  });

  it("a key of a kind the endpoint refuses is resolved (for its 403) but not counted", async () => {
    const created = await createApiKey(t.db, { merchantId: merchant.id, kind: "publishable", name: "browser" });
    const now = Date.now();
    const { principal, count } = await authenticateApiKeyCounted(t.db, created.key, ["secret"], now);
    expect(principal).toMatchObject({ keyId: created.id, kind: "publishable" });
    expect(count).toBe(0);
    expect(await counter(created.id, now)).toEqual([]);
    expect((await authenticateApiKeyCounted(t.db, created.key, ["secret", "publishable"], now)).count).toBe(1);
  });
});
