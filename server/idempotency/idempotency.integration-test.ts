import { eq } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { idempotencyKeys } from "@/db/schema";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createMerchant } from "@/test/fixtures";
import { beginIdempotentRequest, finishIdempotentRequest, IDEMPOTENCY_LOCK_TIMEOUT_MS, releaseIdempotencyKey, requestFingerprint } from "./idempotency";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

it("after a stale-lock takeover, the first stored answer stands: the taker's error never overwrites it", async () => {
  const m = await createMerchant(t.db);
  const req = { merchantId: m.id, key: "takeover", method: "POST", path: "/api/v1/payments", requestHash: requestFingerprint("POST", "/api/v1/payments", { a: 1 }) };
  const a = await beginIdempotentRequest(t.db, req);
  expect(a.kind).toBe("proceed");
  // A's lock goes stale (A is slow), B takes the key over.
  await t.db.update(idempotencyKeys).set({ lockedAt: new Date(Date.now() - IDEMPOTENCY_LOCK_TIMEOUT_MS - 1000) }).where(eq(idempotencyKeys.key, "takeover"));
  const b = await beginIdempotentRequest(t.db, req);
  expect(b.kind).toBe("proceed");
  // A finishes first with its 201; B then fails (a unique violation -> 409) and tries to store that.
  if (a.kind !== "proceed" || b.kind !== "proceed") throw new Error("unreachable");
  await t.db.transaction((tx) => finishIdempotentRequest(tx, a.ref, { status: 201, body: { ok: true } }));
  await t.db.transaction((tx) => finishIdempotentRequest(tx, b.ref, { status: 409, body: { error: "conflict" } }));
  await releaseIdempotencyKey(t.db, b.ref);
  const replay = await beginIdempotentRequest(t.db, req);
  expect(replay).toEqual({ kind: "replay", response: { status: 201, text: '{"ok":true}' } });
});
