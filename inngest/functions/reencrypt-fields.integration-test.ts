import { randomBytes } from "node:crypto";
import { eq, inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { auditLog, checkouts, engineRuns, paymentAttempts, pspEvents, riskRules, webhookEndpoints } from "@/db/schema";
import { pollUntil, startTestApp, type TestApp } from "@/inngest/engine/testing";
import { decryptField, decryptJson, encryptField, envelopeKeyVersion, lookupHash } from "@/server/crypto/field";
import { buildKeyRing, derivedLookupKey, installKeyRing, keyRing, type KeyRing } from "@/server/crypto/key-ring";
import { rotationStatus } from "@/server/keys";
import { createCheckout } from "@/server/payments/create-checkout";
import { storePspEvent } from "@/server/webhooks/store-psp-event";
import { createWebhookEndpoint } from "@/server/webhooks-out/endpoints";
import type { TCreateCheckoutInput } from "@/server/payments/create-checkout.schema";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createMerchant } from "@/test/fixtures";
import { createReencryptFields } from "./reencrypt-fields";

// A key rotation under load, end to end: writers keep creating checkouts, M-Pesa attempts, PSP events and
// webhook endpoints (the real services) while the ring holds only key 1, then while it holds keys 2 and 1;
// the re-encryption job runs through the real serve() handler and the engine while they write. Afterwards
// every row reads back with key 1 gone from the ring, none is left under key 1, and lookup hashes still
// match rows stored before the rotation (a velocity rule counts them).

const K1 = randomBytes(32);
const K2 = randomBytes(32);
const ringV1 = buildKeyRing({ keys: [{ version: 1, key: K1 }] });
const ringV2 = buildKeyRing({ keys: [{ version: 2, key: K2 }, { version: 1, key: K1 }] });
const ringV2Only = buildKeyRing({ keys: [{ version: 2, key: K2 }], lookupKey: derivedLookupKey(K1) });
const REPEAT_EMAIL = "repeat.buyer@example.com";
const VELOCITY_MAX = 3;

let tdb: TestDatabase;
let app: TestApp;
let processRing: KeyRing;
let merchantId: string;
let sellerRef: string;

beforeAll(async () => {
  processRing = installKeyRing(ringV1);
  tdb = await createTestDatabase();
  const m = await createMerchant(tdb.db);
  merchantId = m.id;
  const [seller] = await tdb.sql<{ reference: string }[]>`select reference from sellers where merchant_id = ${m.id} limit 1`;
  sellerRef = seller!.reference;
  await tdb.db.insert(riskRules).values({ merchantId, kind: "velocity", action: "review", params: { dimension: "email", window_s: 3600, max_count: VELOCITY_MAX } });
  app = await startTestApp({ db: tdb.db, clientId: "paybridge", functions: (client) => [createReencryptFields(client, { getDb: () => tdb.db, batchSize: 20 })] });
});
afterAll(async () => {
  installKeyRing(processRing);
  await app?.stop();
  await tdb?.drop();
});

interface Written {
  checkouts: Map<string, { email: string; name: string; phone: string }>;
  attempts: Map<string, string>;
  events: Map<string, string>;
  endpoints: Map<string, string>;
}
const written: Written = { checkouts: new Map(), attempts: new Map(), events: new Map(), endpoints: new Map() };
let seq = 0;

async function writeOne(email?: string): Promise<string> {
  const n = ++seq;
  const buyer = { email: email ?? `buyer${n}@example.com`, name: `Buyer ${n}`, phone: `2547${String(10_000_000 + n).slice(-8)}` };
  const { body } = await createCheckout(tdb.db, {
    merchantId,
    input: { payment_orders: [{ payment_order_id: `rot-${n}`, seller_account: sellerRef, amount: "100.00", currency: "KES" }], buyer_info: buyer, return_url: "https://shop.example.com/done" } as TCreateCheckoutInput,
  });
  written.checkouts.set(body.checkout_id, buyer);
  const [attempt] = await tdb.db
    .insert(paymentAttempts)
    .values({ checkoutId: body.checkout_id, attemptNo: 1, method: "mpesa", psp: "mpesa", idempotencyKey: `rot-${n}`, phoneEncrypted: encryptField(buyer.phone), phoneHint: buyer.phone.slice(-3) })
    .returning({ id: paymentAttempts.id });
  written.attempts.set(attempt!.id, buyer.phone);
  const raw = JSON.stringify({ id: `evt_rot_${n}`, type: "payment_intent.succeeded", data: { object: { id: `pi_rot_${n}`, receipt_email: buyer.email } } });
  const stored = await storePspEvent(tdb.db, { psp: "stripe", eventId: `evt_rot_${n}`, type: "payment_intent.succeeded", objectId: `pi_rot_${n}`, payload: {} }, raw);
  written.events.set(stored.storedEventId, raw);
  if (n % 5 === 0) {
    // Its own merchant each (a merchant has at most 16 enabled endpoints); loopback is allowed with the sandbox.
    const owner = await createMerchant(tdb.db);
    const endpoint = await createWebhookEndpoint(tdb.db, { merchantId: owner.id, url: `http://127.0.0.1:9/hook-${n}` });
    written.endpoints.set(endpoint.id, endpoint.secret);
  }
  return body.checkout_id;
}

/** `workers` concurrent writers until stop() */
function startWriters(workers: number) {
  let stopped = false;
  const errors: unknown[] = [];
  const loops = Array.from({ length: workers }, async () => {
    while (!stopped) {
      try {
        await writeOne();
      } catch (err) {
        errors.push(err);
        return;
      }
    }
  });
  return { stop: async () => ((stopped = true), await Promise.all(loops), errors), errors };
}

/** Polls until `cond` holds; a generous ceiling, never a deadline a loaded machine can miss. */
async function until(cond: () => Promise<boolean> | boolean): Promise<void> {
  await pollUntil(async () => ((await cond()) ? true : undefined), { ceilingMs: 120_000 });
}

function failFast(w: { errors: unknown[] }): true {
  if (w.errors.length > 0) throw w.errors[0];
  return true;
}

const countUnderV1 = async () => (await rotationStatus(tdb.db, ringV2)).tables.reduce((s, t) => s + (t.byVersion["1"] ?? 0), 0);

it("rotates to key 2 under concurrent writes: every row readable without key 1, none left under it, lookup hashes unchanged", async () => {
  // Key 1 only: a few checkouts by one buyer (the velocity rule's history), then writers.
  for (let i = 0; i < VELOCITY_MAX; i++) await writeOne(REPEAT_EMAIL);
  const hashBefore = lookupHash(REPEAT_EMAIL);
  let writers = startWriters(3);
  await until(() => failFast(writers) && seq >= 40);
  // The ring gains key 2 (newest): writes continue, now under it.
  installKeyRing(ringV2);
  expect(keyRing().active).toBe(2);
  const underV1AtSwitch = await countUnderV1();
  expect(underV1AtSwitch).toBeGreaterThan(60);
  await until(() => failFast(writers) && seq >= 60);

  // The job runs while the writers keep going.
  await app.handle.engine.sendEvents([{ name: "keys/reencrypt.requested", data: { requestedBy: null } }]);
  await until(async () => (await tdb.db.select({ n: sql<number>`count(*)::int` }).from(auditLog).where(eq(auditLog.action, "encryption.reencrypted")))[0]!.n >= 2);
  const errors = await writers.stop();
  expect(errors).toEqual([]);
  const runs = async () => tdb.db.select().from(engineRuns).where(eq(engineRuns.functionId, "paybridge-reencrypt-fields"));
  await until(async () => (await runs()).some((r) => r.status !== "running"));
  expect((await runs()).map((r) => r.status)).toContain("completed");
  // Writers ran on under key 2 throughout; a second short burst after the job does too.
  writers = startWriters(2);
  const target = seq + 10;
  await until(() => failFast(writers) && seq >= target);
  expect(await writers.stop()).toEqual([]);

  // Nothing remains under key 1; the progress report agrees.
  const status = await rotationStatus(tdb.db, ringV2);
  expect(status.remaining).toBe(0);
  expect(status.total).toBeGreaterThan(underV1AtSwitch);
  for (const t of status.tables) expect(Object.keys(t.byVersion)).toEqual(t.total === 0 ? [] : ["2"]);

  // Every row reads back, with key 1 removed from the ring.
  installKeyRing(ringV2Only);
  const cs = await tdb.db.select().from(checkouts).where(inArray(checkouts.id, [...written.checkouts.keys()]));
  expect(cs).toHaveLength(written.checkouts.size);
  for (const c of cs) {
    const buyer = written.checkouts.get(c.id)!;
    expect(envelopeKeyVersion(c.buyerInfoEncrypted)).toBe(2);
    expect(decryptJson(c.buyerInfoEncrypted)).toMatchObject(buyer);
    expect(c.buyerEmailHash).toBe(lookupHash(buyer.email));
  }
  const as = await tdb.db.select().from(paymentAttempts);
  expect(as).toHaveLength(written.attempts.size);
  for (const a of as) expect(decryptField(a.phoneEncrypted!)).toBe(written.attempts.get(a.id));
  const es = await tdb.db.select().from(pspEvents);
  expect(es).toHaveLength(written.events.size);
  for (const e of es) expect(decryptField(e.rawBody)).toBe(written.events.get(e.id));
  const ws = await tdb.db.select().from(webhookEndpoints);
  expect(ws).toHaveLength(written.endpoints.size);
  for (const w of ws) expect(decryptField(w.secretEncrypted)).toBe(written.endpoints.get(w.id));

  // Lookup hashes: the same value hashes as before, and the rule counts the checkouts stored under key 1.
  expect(lookupHash(REPEAT_EMAIL)).toBe(hashBefore);
  const repeat = await writeOne(REPEAT_EMAIL);
  const [held] = await tdb.db.select({ status: checkouts.status }).from(checkouts).where(eq(checkouts.id, repeat));
  expect(held!.status).toBe("review");

  // The job is audited: a row per batch, as many rows re-encrypted as were under key 1.
  const audits = await tdb.db.select().from(auditLog).where(eq(auditLog.action, "encryption.reencrypted"));
  const moved = audits.reduce((s, a) => s + Number((a.data as { rows: number }).rows), 0);
  expect(moved).toBeGreaterThanOrEqual(underV1AtSwitch);
  for (const a of audits) expect(a.data).toMatchObject({ toVersion: 2, fromVersions: { "1": expect.any(Number) } });
  console.info(`[rotation] rows under key 1 at the switch: ${underV1AtSwitch}; rows at the end: ${status.total}; batches audited: ${audits.length}; writes: ${seq}`);
}, 300_000);
