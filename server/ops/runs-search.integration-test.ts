import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineApps, engineDeadLetters, engineFunctions, engineRuns, merchantEvents, paymentAttempts, pspEvents } from "@/db/schema";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { callerFor, createMerchant, createTestCheckout, createUser, trpcErrorCode as code } from "@/test/fixtures";

// engineRuns.list / deadLetters: search by payment (checkout id, payment order id, merchant's order id) finds the
// runs whose event data names the checkout's attempt, PSP event, merchant event or delivery, nested failure events
// included; each row carries its checkout; paging walks every run once.

let t: TestDatabase;
let ops: string;
let admin: string;
let checkoutId: string;
let otherCheckoutId: string;
let orderRef: string;
let orderId: string;

const fn = (id: string) => ({ id, appId: "app", name: id, url: `http://app.test/api/inngest?fnId=${id}&stepId=step`, config: { id, name: id, triggers: [{ event: "x/y" }] } });
let seq = 0;
const run = (id: string, name: string, data: Record<string, unknown>, extra: Partial<typeof engineRuns.$inferInsert> = {}) => ({
  id,
  functionId: "app-fn",
  eventId: `e-${id}`,
  event: { name, data },
  createdAt: new Date(Date.now() + 1000 + seq++ * 10),
  ...extra,
});

beforeAll(async () => {
  t = await createTestDatabase();
  ops = (await createUser(t.db, { ops: true })).id;
  const m = await createMerchant(t.db);
  admin = (await createUser(t.db, { merchantId: m.id, role: "merchant_admin" })).id;
  const sellers = await t.db.query.sellers.findMany({ where: (s, { eq }) => eq(s.merchantId, m.id) });
  const c = await createTestCheckout(t.db, { merchantId: m.id, sellerRefs: [sellers[0]!.reference] });
  checkoutId = c.checkout_id;
  orderRef = c.payment_orders[0]!.payment_order_id;
  const order = await t.db.query.paymentOrders.findFirst({ where: (o, { eq }) => eq(o.checkoutId, checkoutId) });
  orderId = order!.id;
  otherCheckoutId = (await createTestCheckout(t.db, { merchantId: m.id, sellerRefs: [sellers[0]!.reference] })).checkout_id;
  const [attempt] = await t.db
    .insert(paymentAttempts)
    .values({ checkoutId, attemptNo: 1, method: "card", psp: "stripe", idempotencyKey: `${checkoutId}:attempt:1`, pspReference: "pi_runs_search_1" })
    .returning();
  const [other] = await t.db.insert(paymentAttempts).values({ checkoutId: otherCheckoutId, attemptNo: 1, method: "card", psp: "stripe", idempotencyKey: `${otherCheckoutId}:attempt:1` }).returning();
  const [stored] = await t.db.insert(pspEvents).values({ psp: "stripe", eventId: "evt_runs_1", eventType: "payment_intent.succeeded", objectId: "pi_runs_search_1", rawBody: "v1.x", payload: {} }).returning();
  await t.db.insert(merchantEvents).values({ id: "evt_mer_runs_1", merchantId: m.id, type: "payment_order.succeeded", objectId: orderRef, sequence: 1n, payload: {} });
  await t.db.insert(engineApps).values({ id: "app", url: "http://app.test/api/inngest" });
  await t.db.insert(engineFunctions).values([fn("app-fn")]);
  await t.db.insert(engineRuns).values([
    run("01RUN_EXEC", "payment/attempt.execute", { attemptId: attempt!.id }),
    run("01RUN_PSP", "psp/event.received", { psp: "stripe", pspEventId: "evt_runs_1", storedEventId: stored!.id }),
    run("01RUN_HINT", "payment/psp.updated", { psp: "stripe", pspReference: "pi_runs_search_1" }),
    run("01RUN_MEVT", "merchant/event.created", { eventId: "evt_mer_runs_1" }),
    run("01RUN_FAIL", "inngest/function.failed", { function_id: "app-fn", run_id: "01RUN_EXEC", error: {}, event: { name: "payment/attempt.execute", data: { attemptId: attempt!.id } } }, { status: "failed", endedAt: new Date(), error: { name: "Error", message: "boom" } }),
    run("01RUN_OTHER", "payment/attempt.execute", { attemptId: other!.id }),
    run("01RUN_PING", "platform/ping", { message: "hi" }),
    run("01RUN_REPLAY", "payment/attempt.execute", { attemptId: other!.id }, { replayOf: "01RUN_OTHER" }),
  ]);
  await t.db.insert(engineDeadLetters).values([
    { runId: "01RUN_FAIL", functionId: "app-fn", error: { message: "boom" } },
    { runId: "01RUN_PING", functionId: "app-fn", error: { message: "boom" } },
  ]);
});
afterAll(async () => {
  await t?.drop();
});

const PAYMENT_RUNS = ["01RUN_FAIL", "01RUN_MEVT", "01RUN_HINT", "01RUN_PSP", "01RUN_EXEC"];

describe("engineRuns search by payment", () => {
  it("finds every run about the checkout, by checkout id, our order id or the merchant's order id, and nothing else", async () => {
    const list = callerFor(t.db, ops).engineRuns.list;
    for (const search of [checkoutId, orderId, orderRef, "pi_runs_search_1"]) {
      const page = await list({ search });
      expect(page.items.map((r) => r.id), search).toEqual(PAYMENT_RUNS);
      expect(new Set(page.items.map((r) => r.checkoutId))).toEqual(new Set([checkoutId]));
    }
    expect((await list({ search: otherCheckoutId })).items.map((r) => r.id)).toEqual(["01RUN_REPLAY", "01RUN_OTHER"]);
    expect((await list({ search: "nothing-like-this" })).items).toEqual([]);
    expect((await list({ search: checkoutId, status: "failed" })).items.map((r) => r.id)).toEqual(["01RUN_FAIL"]);
  });

  it("finds a run by its id (and its replays), and links each run to its checkout", async () => {
    const list = callerFor(t.db, ops).engineRuns.list;
    expect((await list({ search: "01RUN_OTHER" })).items.map((r) => r.id)).toEqual(["01RUN_REPLAY", "01RUN_OTHER"]);
    const all = (await list({})).items;
    expect(all.find((r) => r.id === "01RUN_PING")!.checkoutId).toBeNull();
    expect(all.find((r) => r.id === "01RUN_MEVT")!.checkoutId).toBe(checkoutId);
    expect(all.find((r) => r.id === "01RUN_OTHER")!.checkoutId).toBe(otherCheckoutId);
  });

  it("searches dead letters the same way", async () => {
    const dead = callerFor(t.db, ops).engineRuns.deadLetters;
    expect((await dead({ search: orderRef })).items.map((d) => [d.runId, d.checkoutId])).toEqual([["01RUN_FAIL", checkoutId]]);
    expect((await dead({})).items.map((d) => d.runId).sort()).toEqual(["01RUN_FAIL", "01RUN_PING"]);
  });

  it("pages through every run once, both ways", async () => {
    const list = callerFor(t.db, ops).engineRuns.list;
    const all = (await list({})).items.map((r) => r.id);
    expect(all).toHaveLength(8);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Awaited<ReturnType<typeof list>> = await list({ limit: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((r) => r.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual(all);
    expect(pages).toBe(3);
    const second = await list({ limit: 3, cursor: all[2]! });
    expect(second.items.map((r) => r.id)).toEqual(all.slice(3, 6));
    expect((await list({ limit: 3, cursor: second.prevCursor!, direction: "prev" })).items.map((r) => r.id)).toEqual(all.slice(0, 3));
  });

  it("is for ops only, and refuses bad input with a 400", async () => {
    expect(await code(callerFor(t.db, admin).engineRuns.list({ search: checkoutId }))).toBe("FORBIDDEN");
    expect(await code(callerFor(t.db, admin).engineRuns.deadLetters({ search: checkoutId }))).toBe("FORBIDDEN");
    const ops_ = callerFor(t.db, ops).engineRuns;
    expect(await code(ops_.list({ cursor: "01NOT_A_RUN" }))).toBe("BAD_REQUEST");
    expect(await code(ops_.list({ search: "x".repeat(201) }))).toBe("BAD_REQUEST");
    expect(await code(ops_.deadLetters({ cursor: "01RUN_EXEC" }))).toBe("BAD_REQUEST");
  });
});
