import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog, checkouts, outboxEvents } from "@/db/schema";
import { decryptJson, encryptJson, envelopeKeyVersion } from "@/server/crypto/field";
import { buildKeyRing, installKeyRing, type KeyRing } from "@/server/crypto/key-ring";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { callerFor, createMerchant, createUser } from "@/test/fixtures";
import { ENCRYPTED_COLUMNS } from "./encrypted-columns";
import { reencryptBatch, rotationStatus } from "./reencrypt";

// The re-encryption batch on its own: rows locked by others are skipped (never waited on), a value under a key
// the ring lacks fails the batch clearly and changes nothing, and the progress report counts what is left.

const K1 = randomBytes(32);
const K2 = randomBytes(32);
const K3 = randomBytes(32);
const ringV1 = buildKeyRing({ keys: [{ version: 1, key: K1 }] });
const ringV2 = buildKeyRing({ keys: [{ version: 2, key: K2 }, { version: 1, key: K1 }] });
const CHECKOUTS = ENCRYPTED_COLUMNS.find((c) => c.name === "checkouts.buyer_info_encrypted")!;

let tdb: TestDatabase;
let merchantId: string;
let processRing: KeyRing;

beforeAll(async () => {
  processRing = installKeyRing(ringV1);
  tdb = await createTestDatabase();
  merchantId = (await createMerchant(tdb.db)).id;
});
afterAll(async () => {
  installKeyRing(processRing);
  await tdb?.drop();
});

async function insertCheckouts(n: number, ring: KeyRing): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const [row] = await tdb.db
      .insert(checkouts)
      .values({ merchantId, currency: "KES", totalAmount: 100n, buyerInfoEncrypted: encryptJson({ email: `b${i}@example.com` }, ring), returnUrl: "https://shop.example/r" })
      .returning({ id: checkouts.id });
    ids.push(row!.id);
  }
  return ids;
}

describe("reencryptBatch", () => {
  it("skips a row another transaction holds, then takes it once released; updated_at and values unchanged", async () => {
    const ids = await insertCheckouts(5, ringV1);
    const before = await tdb.db.select().from(checkouts);
    expect((await rotationStatus(tdb.db, ringV2)).tables.find((t) => t.table === CHECKOUTS.name)).toMatchObject({ total: 5, remaining: 5, byVersion: { "1": 5 } });

    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = tdb.sql.begin(async (sql) => {
      await sql`select id from checkouts where id = ${ids[2]!} for update`;
      locked();
      await held;
    });
    await isLocked;
    const first = await reencryptBatch(tdb.db, CHECKOUTS, { ring: ringV2, batchSize: 50 });
    expect(first).toMatchObject({ reencrypted: 4, fromVersions: { "1": 4 } });
    expect((await rotationStatus(tdb.db, ringV2)).remaining).toBe(1);
    release();
    await holder;
    expect(await reencryptBatch(tdb.db, CHECKOUTS, { ring: ringV2 })).toMatchObject({ reencrypted: 1 });
    expect(await reencryptBatch(tdb.db, CHECKOUTS, { ring: ringV2 })).toMatchObject({ reencrypted: 0 });

    const after = await tdb.db.select().from(checkouts);
    for (const row of after) {
      const old = before.find((b) => b.id === row.id)!;
      expect(envelopeKeyVersion(row.buyerInfoEncrypted)).toBe(2);
      expect(decryptJson(row.buyerInfoEncrypted, ringV2)).toEqual(decryptJson(old.buyerInfoEncrypted, ringV1));
      expect(row.updatedAt).toEqual(old.updatedAt);
    }
    const audits = await tdb.db.select().from(auditLog).where(eq(auditLog.action, "encryption.reencrypted"));
    expect(audits.map((a) => (a.data as { rows: number }).rows).sort()).toEqual([1, 4]);
    expect(audits[0]).toMatchObject({ actorUserId: null, targetType: "encrypted_column", targetId: CHECKOUTS.name });
    expect((await rotationStatus(tdb.db, ringV2)).tables.find((t) => t.table === CHECKOUTS.name)).toMatchObject({ total: 5, remaining: 0, byVersion: { "2": 5 } });
  });

  it("a value under a key the ring lacks is left alone (counted unreadable) and does not stop the readable rows", async () => {
    await tdb.db.delete(checkouts).where(eq(checkouts.merchantId, merchantId));
    // The unreadable row first in id order: a batch that took it would fail, and every retry with it.
    await insertCheckouts(1, buildKeyRing({ keys: [{ version: 3, key: K3 }], lookupKey: K3 }));
    await insertCheckouts(2, ringV1);
    const r = await reencryptBatch(tdb.db, CHECKOUTS, { ring: ringV2 });
    expect(r).toMatchObject({ reencrypted: 2, fromVersions: { "1": 2 } });
    expect((await reencryptBatch(tdb.db, CHECKOUTS, { ring: ringV2 })).reencrypted).toBe(0);
    const status = await rotationStatus(tdb.db, ringV2);
    expect(status).toMatchObject({ activeVersion: 2, ringVersions: [2, 1], unreadable: 1, remaining: 1 });
  });
});

describe("ops tRPC: progress and a re-encryption request", () => {
  it("ops read the progress and request a run (a catalog event through the outbox); merchant users may not", async () => {
    installKeyRing(ringV2);
    try {
      const ops = callerFor(tdb.db, (await createUser(tdb.db, { ops: true })).id);
      const status = await ops.ops.keyRotation();
      expect(status).toMatchObject({ activeVersion: 2, ringVersions: [2, 1] });
      expect(status.tables.map((t) => t.table).sort()).toEqual(ENCRYPTED_COLUMNS.map((c) => c.name).sort());
      expect(await ops.ops.requestReencryption()).toEqual({ requested: true });
      const rows = await tdb.db.select().from(outboxEvents).where(eq(outboxEvents.name, "keys/reencrypt.requested"));
      expect(rows).toHaveLength(1);
      expect(rows[0]!.data).toEqual({ requestedBy: expect.stringMatching(/^usr_/) });
      const viewer = callerFor(tdb.db, (await createUser(tdb.db, { merchantId, role: "merchant_admin" })).id, merchantId);
      await expect(viewer.ops.keyRotation()).rejects.toMatchObject({ code: "FORBIDDEN" });
      await expect(viewer.ops.requestReencryption()).rejects.toMatchObject({ code: "FORBIDDEN" });
    } finally {
      installKeyRing(ringV1);
    }
  });
});
