import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiKeys, rateLimitCounters } from "@/db/schema";
import { authenticateApiKey, authenticateApiKeyCounted, createApiKey, revokeApiKey } from "@/server/api-keys/keys";
import { RATE_LIMIT_WINDOW_MS, rateLimitWindowStart } from "@/server/rate-limit/consume";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createMerchant } from "@/test/fixtures";

// The /api/v1 wrapper reads the key and counts the request on the key's rate-limit window in one statement
// (authenticateApiKeyCounted). It must answer exactly as authenticateApiKey does, and count only real, live keys.

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
  it("gives the same principal as authenticateApiKey and counts each request in the key's window", async () => {
    const created = await createApiKey(t.db, { merchantId: merchant.id, kind: "secret", name: "counted" });
    const now = Date.now();
    const first = await authenticateApiKeyCounted(t.db, created.key, now);
    expect(first.principal).toEqual(await authenticateApiKey(t.db, created.key));
    expect(first.principal.merchantId).toBe(merchant.id);
    expect(first.count).toBe(1);
    const second = await authenticateApiKeyCounted(t.db, created.key, now);
    expect(second.count).toBe(2);
    expect(await counter(first.principal.keyId, now)).toEqual([{ count: 2 }]);
    // The next window starts again at one.
    expect((await authenticateApiKeyCounted(t.db, created.key, now + RATE_LIMIT_WINDOW_MS)).count).toBe(1);
    // last_used_at is written (minute granularity) as by the plain lookup.
    const [row] = await t.db.select({ lastUsedAt: apiKeys.lastUsedAt }).from(apiKeys).where(eq(apiKeys.id, first.principal.keyId));
    expect(row!.lastUsedAt).not.toBeNull();
  });

  it("refuses unknown, malformed and revoked keys as unauthenticated and counts nothing for them", async () => {
    const created = await createApiKey(t.db, { merchantId: merchant.id, kind: "secret", name: "to revoke" });
    const now = Date.now();
    const { principal } = await authenticateApiKeyCounted(t.db, created.key, now);
    await revokeApiKey(t.db, { merchantId: merchant.id, keyId: principal.keyId });
    await expect(authenticateApiKeyCounted(t.db, created.key, now)).rejects.toMatchObject({ code: "unauthenticated" });
    expect(await counter(principal.keyId, now)).toEqual([{ count: 1 }]);
    await expect(authenticateApiKeyCounted(t.db, "sk_test_" + "x".repeat(32), now)).rejects.toMatchObject({ code: "unauthenticated" });
    await expect(authenticateApiKeyCounted(t.db, "not a key", now)).rejects.toMatchObject({ code: "unauthenticated" });
    await expect(authenticateApiKeyCounted(t.db, null, now)).rejects.toMatchObject({ code: "unauthenticated" });
  });
});
