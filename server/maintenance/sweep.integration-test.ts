import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { idempotencyKeys, rateLimitCounters } from "@/db/schema";
import { consumeRateLimit, RATE_LIMIT_SWEEP_AGE_MS } from "@/server/rate-limit/consume";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createMerchant } from "@/test/fixtures";
import { sweepAll } from "./sweep";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

it("deletes expired idempotency records and old rate-limit windows, and keeps live ones", async () => {
  const m = await createMerchant(t.db);
  const base = { merchantId: m.id, method: "POST", path: "/api/v1/payments", requestHash: "h" };
  const hourAgo = new Date(Date.now() - 3600_000);
  await t.db.insert(idempotencyKeys).values([
    { ...base, key: "expired", lockedAt: null, expiresAt: hourAgo },
    { ...base, key: "live", lockedAt: null, expiresAt: new Date(Date.now() + 3600_000) },
    // Held by a request right now: never swept from under it, even if past its time.
    { ...base, key: "expired-but-locked", lockedAt: new Date(), expiresAt: hourAgo },
  ]);
  await consumeRateLimit(t.db, "ip:old", 10, Date.now() - RATE_LIMIT_SWEEP_AGE_MS - 120_000);
  await consumeRateLimit(t.db, "ip:new", 10);

  expect(await sweepAll(t.db)).toEqual({
    idempotencyKeys: 1, expiredCheckouts: 0, redactedPspEvents: 0, apiRequestLog: 0,
    balanceSnapshots: expect.any(Number),
    retention: { outboxEvents: 0, engineRuns: 0, engineEvents: 0, webhookDeliveries: 0, webhookDeliveryAttempts: 0, merchantEvents: 0, pspEvents: 0 },
  });
  const keys = (await t.db.select({ key: idempotencyKeys.key }).from(idempotencyKeys)).map((r) => r.key).sort();
  expect(keys).toEqual(["expired-but-locked", "live"]);
  const [old] = await t.db.select({ n: count() }).from(rateLimitCounters).where(eq(rateLimitCounters.bucket, "ip:old"));
  const [fresh] = await t.db.select({ n: count() }).from(rateLimitCounters).where(eq(rateLimitCounters.bucket, "ip:new"));
  expect([old!.n, fresh!.n]).toEqual([0, 1]);
});
