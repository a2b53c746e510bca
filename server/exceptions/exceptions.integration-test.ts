import { and, count, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog, engineDeadLetters, engineRuns, opsExceptions, outboxEvents, paymentAttempts, pspEvents, sellers } from "@/db/schema";
import { money } from "@/server/money";
import { applyAttemptOutcome } from "@/server/payments/apply-outcome";
import { transitionAttempt } from "@/server/payments/attempt-state";
import { startMpesaPayment } from "@/server/payments/attempts";
import { markDoubleChargeRefunded } from "@/server/payments/double-charges";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { callerFor, createMerchant, createTestCheckout, createUser, trpcErrorCode as code } from "@/test/fixtures";
import { EXCEPTION_DETECTORS, MPESA_ATTEMPT_DEADLINE_MS, PSP_EVENT_DEADLINE_MS, runDetector, sweepExceptions } from "./janitor";
import { recordException } from "./record-exception";
import { classifyRunFailure } from "./run-failure";

// The app's exceptions without any engine: the janitor finds stuck work from the app's own tables (no runs,
// no dead letters), records it once however often it sweeps, and resolves it when the subject reaches its
// outcome; a double charge is recorded with its flag; the ops router is ops-only and wants a note to close one.

let t: TestDatabase;
let merchantId: string;
let otherMerchant: string;
let merchantAdmin: string;
let opsUser: string;
let sellerRef: string;
let seq = 0;

beforeAll(async () => {
  t = await createTestDatabase();
  merchantId = (await createMerchant(t.db, "Janitor Shop")).id;
  otherMerchant = (await createMerchant(t.db, "Other Shop")).id;
  merchantAdmin = (await createUser(t.db, { merchantId, role: "merchant_admin" })).id;
  opsUser = (await createUser(t.db, { ops: true })).id;
  sellerRef = (await t.db.select().from(sellers).where(eq(sellers.merchantId, merchantId)).limit(1))[0]!.reference;
});
afterAll(async () => {
  await t?.drop();
});

const checkout = async (amount = "100.00") => (await createTestCheckout(t.db, { merchantId, sellerRefs: [sellerRef], amounts: [amount] })).checkout_id;

const later = (ms: number) => new Date(Date.now() + ms + 60_000);
const exceptionsOf = (subjectId: string) => t.db.select().from(opsExceptions).where(eq(opsExceptions.subjectId, subjectId));

describe("the exceptions janitor", () => {
  it("finds a payment attempt stuck past its deadline with no engine involved, records it once over two sweeps, and resolves it when the attempt is final", async () => {
    const id = await checkout("60.00");
    // An M-Pesa payment started (checkout processing, execution enqueued) that no engine ever ran.
    const { attemptId } = await startMpesaPayment(t.db, { checkoutId: id, phone: "0712340062" });
    expect(await t.db.select({ n: count() }).from(engineRuns)).toEqual([{ n: 0 }]);
    expect(await t.db.select({ n: count() }).from(engineDeadLetters)).toEqual([{ n: 0 }]);

    // Not yet past its deadline: nothing.
    const detector = EXCEPTION_DETECTORS.find((d) => d.name === "payment_attempts")!;
    expect(await runDetector(t.db, detector, new Date())).toBe(0);
    expect(await exceptionsOf(attemptId)).toEqual([]);

    const now = later(MPESA_ATTEMPT_DEADLINE_MS);
    const first = await sweepExceptions(t.db, { now });
    expect(first.recorded.payment_attempts).toBe(1);
    const second = await sweepExceptions(t.db, { now });
    expect(second.recorded.payment_attempts).toBe(0);
    const rows = await exceptionsOf(attemptId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      kind: "payment_attempt",
      subjectType: "payment_attempt",
      merchantId,
      reason: "stuck",
      status: "open",
      occurrences: 1,
      runId: null,
      fingerprint: `payment_attempt:${attemptId}:stuck`,
      retryEvent: { name: "payment/attempt.execute", data: { attemptId } },
    });
    expect(rows[0]!.id).toMatch(/^exc_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(rows[0]!.message).toMatch(/still created/);
    // The execution's outbox row, never sent, is found too (its own subject).
    const [outboxRow] = await t.db.select().from(outboxEvents).where(eq(outboxEvents.name, "payment/attempt.execute"));
    expect(await exceptionsOf(outboxRow!.id)).toMatchObject([{ kind: "payment_attempt", subjectType: "outbox_event", reason: "stuck", retryEvent: null }]);

    // The attempt becomes final: the next sweep resolves the exception, saying why.
    await t.db.transaction((tx) => transitionAttempt(tx, { attemptId, to: "failed", reason: "psp_failed", set: { failureCode: "test", failureMessage: "test" } }));
    const third = await sweepExceptions(t.db, { now });
    expect(third.resolved.payment_attempt).toBe(1);
    const [resolved] = await exceptionsOf(attemptId);
    expect(resolved).toMatchObject({ status: "resolved", resolvedBy: null, resolutionNote: expect.stringMatching(/payment attempt is now failed/) });
    expect(resolved!.resolvedAt).toBeInstanceOf(Date);
    // Final now: not found again.
    expect((await sweepExceptions(t.db, { now })).recorded.payment_attempts).toBe(0);
  });

  it("finds a stored PSP event never processed and resolves it once processed", async () => {
    const [ev] = await t.db.insert(pspEvents).values({ psp: "stripe", eventId: `evt_jan_${++seq}`, eventType: "payment_intent.succeeded", objectId: "pi_jan", rawBody: "x", payload: {} }).returning();
    await sweepExceptions(t.db, { now: later(PSP_EVENT_DEADLINE_MS) });
    expect(await exceptionsOf(ev!.id)).toMatchObject([{ kind: "psp_event", reason: "stuck", retryEvent: { name: "psp/event.received", data: { psp: "stripe", pspEventId: ev!.eventId, storedEventId: ev!.id } } }]);
    await t.sql`update psp_events set status = 'ignored', processed_at = now() where id = ${ev!.id}`;
    await sweepExceptions(t.db);
    expect(await exceptionsOf(ev!.id)).toMatchObject([{ status: "resolved", resolutionNote: expect.stringMatching(/now ignored/) }]);
  });
});

describe("recording", () => {
  it("one open exception per subject and reason: recording again bumps it; a closed one lets a new one open", async () => {
    const input = { kind: "job" as const, subjectType: "function" as const, subjectId: `fn-${++seq}`, reason: "run_failed" as const, message: "first", retryEvent: null, runId: "run-1" };
    const a = await recordException(t.db, input);
    const b = await recordException(t.db, { ...input, message: "second", runId: "run-2" });
    expect(b).toMatchObject({ id: a.id, inserted: false, occurrences: 2 });
    const [row] = await exceptionsOf(input.subjectId);
    expect(row).toMatchObject({ message: "second", runId: "run-2", occurrences: 2, merchantId: null });
    expect(row!.lastSeenAt.getTime()).toBeGreaterThanOrEqual(row!.firstSeenAt.getTime());
    await callerFor(t.db, opsUser).ops.exceptions.resolve({ id: a.id, note: "fixed the cron", as: "resolved" });
    const c = await recordException(t.db, { ...input, message: "third" });
    expect(c.inserted).toBe(true);
    expect((await exceptionsOf(input.subjectId)).map((r) => r.status).sort()).toEqual(["open", "resolved"]);
  });

  it("a double charge is recorded with its flag (no retry event), and resolved once the double charge is refunded", async () => {
    const id = await checkout("1200.00");
    const paid = (ref: string) => ({ psp: "stripe" as const, pspReference: ref, status: "succeeded" as const, amount: money(120_000n, "KES"), receipt: `ch_${ref}` });
    const insert = async (attemptNo: number, status: "pending" | "canceled") =>
      (await t.db.insert(paymentAttempts).values({ checkoutId: id, attemptNo, method: "card", psp: "stripe", status, idempotencyKey: `${id}:${attemptNo}`, pspReference: `pi_${id}_${attemptNo}` }).returning())[0]!;
    const first = await insert(1, "pending");
    expect(await applyAttemptOutcome(t.db, first.id, paid(first.pspReference!))).toBe("succeeded");
    const second = await insert(2, "canceled");
    expect(await applyAttemptOutcome(t.db, second.id, paid(second.pspReference!))).toBe("double_charge");
    expect(await applyAttemptOutcome(t.db, second.id, paid(second.pspReference!))).toBe("double_charge");
    const [exc] = await exceptionsOf(second.id);
    expect(exc).toMatchObject({ kind: "payment_attempt", reason: "double_charge", code: "double_charge", merchantId, retryEvent: null, occurrences: 1, status: "open" });
    // The attempt is final (canceled) but the money is owed back: auto-resolution leaves it open…
    await sweepExceptions(t.db);
    expect((await exceptionsOf(second.id))[0]!.status).toBe("open");
    // …and retry is refused: re-running cannot refund anything.
    expect(await code(callerFor(t.db, opsUser).ops.exceptions.retry({ id: exc!.id, expectedRetryCount: 0 }))).toBe("CONFLICT");
    const [dc] = await t.sql<{ id: string }[]>`select id from double_charges where attempt_id = ${second.id}`;
    await markDoubleChargeRefunded(t.db, { id: dc!.id, actorUserId: opsUser, note: "re_123" });
    await sweepExceptions(t.db);
    expect((await exceptionsOf(second.id))[0]).toMatchObject({ status: "resolved", resolutionNote: expect.stringMatching(/refunded/) });
  });
});

describe("what is stored", () => {
  it("a run that failed on a query keeps the SQL but not its bound values (buyers' data) in the message", async () => {
    const email = `buyer${++seq}@example.test`;
    // A real DrizzleQueryError ("Failed query: …\nparams: …"), as a step's error reaches onFailure: name, message and stack only.
    const err = await t.db.execute(sql`select ${email}::int as n`).then(() => null, (e: unknown) => e as Error);
    expect(err?.message).toContain(email);
    const failure = classifyRunFailure({ name: err!.name, message: err!.message, stack: err!.stack });
    const subjectId = `fn-query-${seq}`;
    await recordException(t.db, { kind: "job", subjectType: "function", subjectId, reason: failure.reason, code: failure.code, message: failure.message, retryEvent: null });
    const [row] = await exceptionsOf(subjectId);
    expect(row!.message).toMatch(/^Failed query: select \$1::int as n\nparams: \[redacted\]$/);
    expect(row!.message).not.toContain(email);
    expect((await callerFor(t.db, opsUser).ops.exceptions.list({ search: email })).items).toEqual([]);
  });
});

describe("ops.exceptions router", () => {
  it("retry of an exception whose subject has reached its outcome since resolves it and emits nothing (a delivered webhook is not POSTed again)", async () => {
    const n = ++seq;
    await t.sql`insert into webhook_endpoints (id, merchant_id, url, secret_encrypted) values (${`whe_r${n}`}, ${merchantId}, 'https://hooks.example/r', 'x')`;
    await t.sql`insert into merchant_events (id, merchant_id, type, object_id, sequence, payload) values (${`evt_r${n}`}, ${merchantId}, 'payment_order.succeeded', ${`r${n}`}, 1, '{}')`;
    await t.sql`insert into webhook_deliveries (id, event_id, endpoint_id, status) values (${`whd_r${n}`}, ${`evt_r${n}`}, ${`whe_r${n}`}, 'failed')`;
    const deliveryId = `whd_r${n}`;
    const { id } = await recordException(t.db, { kind: "merchant_webhook", subjectType: "webhook_delivery", subjectId: deliveryId, reason: "retries_exhausted", message: "HTTP 500", retryEvent: { name: "merchant/webhook.deliver", data: { deliveryId } } });
    // The merchant resent it from the dashboard and it went through, before the janitor's next sweep.
    await t.sql`update webhook_deliveries set status = 'delivered', delivered_at = now() where id = ${deliveryId}`;
    const outboxBefore = await t.db.select({ n: count() }).from(outboxEvents);
    expect(await code(callerFor(t.db, opsUser).ops.exceptions.retry({ id, expectedRetryCount: 0 }))).toBe("CONFLICT");
    expect(await t.db.select({ n: count() }).from(outboxEvents)).toEqual(outboxBefore);
    const [row] = await exceptionsOf(deliveryId);
    expect(row).toMatchObject({ status: "resolved", retryCount: 0, lastRetryEventId: null, resolutionNote: expect.stringMatching(/now delivered/) });
    expect(await t.db.select().from(auditLog).where(eq(auditLog.targetId, id))).toEqual([]);
  });


  it("two ops retrying the same row at once send one event; the other is refused with the count it saw", async () => {
    const subjectId = `fn-race-${++seq}`;
    const { id } = await recordException(t.db, { kind: "job", subjectType: "function", subjectId, reason: "run_failed", message: "m", retryEvent: { name: "platform/ping", data: { message: "race" } } });
    const ops = callerFor(t.db, opsUser);
    const results = await Promise.allSettled([0, 1, 2].map(() => ops.ops.exceptions.retry({ id, expectedRetryCount: 0 })));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results.filter((x) => x.status === "rejected")) expect(await code(Promise.reject((r as PromiseRejectedResult).reason))).toBe("CONFLICT");
    expect(await t.db.select({ n: count() }).from(outboxEvents).where(sql`${outboxEvents.id} like ${`exception-retry:${id}:%`}`)).toEqual([{ n: 1 }]);
    expect((await exceptionsOf(subjectId))[0]).toMatchObject({ status: "retrying", retryCount: 1 });
    // With the count it now shows, the next retry goes through.
    expect((await ops.ops.exceptions.retry({ id, expectedRetryCount: 1 })).eventId).toBe(`exception-retry:${id}:2`);
  });

  it("an exception saying the PSP may hold uncredited money stays open when the app (not the PSP) closes the attempt", async () => {
    const checkoutId = await checkout("10.00");
    const [attempt] = await t.db.insert(paymentAttempts).values({ checkoutId, attemptNo: 1, method: "mpesa", psp: "mpesa", status: "pending", idempotencyKey: `${checkoutId}:1` }).returning();
    const unknown = await recordException(t.db, { kind: "payment_attempt", subjectType: "payment_attempt", subjectId: attempt!.id, merchantId, reason: "outcome_unknown", code: "psp_outcome_unknown", message: "STK push got no answer", retryEvent: null });
    const stuck = await recordException(t.db, { kind: "payment_attempt", subjectType: "payment_attempt", subjectId: attempt!.id, merchantId, reason: "stuck", message: "stuck", retryEvent: null });
    await t.sql`update payment_attempts set status = 'canceled', failure_code = 'checkout_paid' where id = ${attempt!.id}`;
    await sweepExceptions(t.db);
    const rows = await exceptionsOf(attempt!.id);
    expect(rows.find((r) => r.id === unknown.id)?.status).toBe("open");
    expect(rows.find((r) => r.id === stuck.id)?.status).toBe("resolved");
    // A success (the PSP's word) closes it.
    await t.sql`update payment_attempts set status = 'succeeded', failure_code = null where id = ${attempt!.id}`;
    await sweepExceptions(t.db);
    expect((await exceptionsOf(attempt!.id)).find((r) => r.id === unknown.id)).toMatchObject({ status: "resolved", resolutionNote: expect.stringMatching(/succeeded/) });
  });

  it("is ops-only: signed out and merchant sessions are refused and write nothing", async () => {
    const { id } = await recordException(t.db, { kind: "payment_attempt", subjectType: "payment_attempt", subjectId: `pat_router_${++seq}`, merchantId, reason: "run_failed", message: "m", retryEvent: null });
    const merchant = callerFor(t.db, merchantAdmin, merchantId);
    expect(await code(callerFor(t.db, null).ops.exceptions.list({}))).toBe("UNAUTHORIZED");
    expect(await code(merchant.ops.exceptions.list({}))).toBe("FORBIDDEN");
    expect(await code(merchant.ops.exceptions.summary())).toBe("FORBIDDEN");
    expect(await code(merchant.ops.exceptions.get({ id }))).toBe("FORBIDDEN");
    expect(await code(merchant.ops.exceptions.retry({ id, expectedRetryCount: 0 }))).toBe("FORBIDDEN");
    expect(await code(merchant.ops.exceptions.resolve({ id, note: "mine now", as: "ignored" }))).toBe("FORBIDDEN");
    const [row] = await t.db.select().from(opsExceptions).where(eq(opsExceptions.id, id));
    expect(row).toMatchObject({ status: "open", resolvedBy: null });
    expect(await t.db.select().from(auditLog).where(eq(auditLog.targetId, id))).toEqual([]);
  });

  it("bad input to every procedure is a 400, never a 5xx, and writes nothing", async () => {
    const subjectId = `fn-bad-${++seq}`;
    const { id } = await recordException(t.db, { kind: "job", subjectType: "function", subjectId, reason: "run_failed", message: "m", retryEvent: { name: "platform/ping", data: { message: "bad" } } });
    const ops = callerFor(t.db, opsUser).ops.exceptions;
    const bad: [string, () => Promise<unknown>][] = [
      ["NUL in search", () => ops.list({ search: "a\u0000b" })],
      ["lone surrogate in search", () => ops.list({ search: "\ud800" })],
      ["search too long", () => ops.list({ search: "x".repeat(201) })],
      ["huge limit", () => ops.list({ limit: 1e12 })],
      ["unknown kind", () => ops.list({ kind: "refundz" as never })],
      ["NUL in cursor", () => ops.list({ cursor: "\u0000" })],
      ["wrong id type", () => ops.get({ id: 42 as never })],
      ["NUL in id", () => ops.get({ id: "exc_\u0000" })],
      ["negative retry count", () => ops.retry({ id, expectedRetryCount: -1 })],
      ["fractional retry count", () => ops.retry({ id, expectedRetryCount: 0.5 })],
      ["huge retry count", () => ops.retry({ id, expectedRetryCount: Number.MAX_SAFE_INTEGER })],
      ["NUL in note", () => ops.resolve({ id, note: "done\u0000", as: "resolved" })],
      ["unknown resolution", () => ops.resolve({ id, note: "done", as: "deleted" as never })],
    ];
    for (const [what, call] of bad) expect([what, await code(call())]).toEqual([what, "BAD_REQUEST"]);
    expect((await exceptionsOf(subjectId))[0]).toMatchObject({ status: "open", retryCount: 0, resolutionNote: null });
    expect(await t.db.select({ n: count() }).from(outboxEvents).where(sql`${outboxEvents.id} like ${`exception-retry:${id}:%`}`)).toEqual([{ n: 0 }]);
    expect(await t.db.select().from(auditLog).where(eq(auditLog.targetId, id))).toEqual([]);
  });

  it("resolve and ignore want a note (1..1000 characters, not blank), audited; closed ones stay closed", async () => {
    const ops = callerFor(t.db, opsUser);
    const mk = async () => (await recordException(t.db, { kind: "psp_event", subjectType: "psp_event", subjectId: `pse_note_${++seq}`, reason: "run_failed", message: "m", retryEvent: null })).id;
    const id = await mk();
    expect(await code(ops.ops.exceptions.resolve({ id, note: "", as: "resolved" }))).toBe("BAD_REQUEST");
    expect(await code(ops.ops.exceptions.resolve({ id, note: "   ", as: "ignored" }))).toBe("BAD_REQUEST");
    expect(await code(ops.ops.exceptions.resolve({ id, note: "x".repeat(1001), as: "ignored" }))).toBe("BAD_REQUEST");
    expect(await t.db.select().from(auditLog).where(eq(auditLog.targetId, id))).toEqual([]);
    const ignored = await ops.ops.exceptions.resolve({ id, note: "  test event from the PSP dashboard  ", as: "ignored" });
    expect(ignored).toMatchObject({ status: "ignored", resolvedBy: opsUser, resolutionNote: "test event from the PSP dashboard" });
    expect(await code(ops.ops.exceptions.resolve({ id, note: "again", as: "resolved" }))).toBe("CONFLICT");
    const detail = await ops.ops.exceptions.get({ id });
    expect(detail.audit.map((a) => [a.action, a.actorUserId, a.data.as, a.data.note])).toEqual([["exception.resolved", opsUser, "ignored", "test event from the PSP dashboard"]]);
    expect(await code(ops.ops.exceptions.get({ id: "exc_nope" }))).toBe("NOT_FOUND");
    expect(await code(ops.ops.exceptions.retry({ id: "exc_nope", expectedRetryCount: 0 }))).toBe("NOT_FOUND");
  });

  it("lists newest first with a cursor, filters by status, kind and search, and summarizes open work", async () => {
    const ops = callerFor(t.db, opsUser);
    const tag = `page${++seq}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await recordException(t.db, { kind: i % 2 ? "merchant_webhook" : "job", subjectType: "function", subjectId: `${tag}-${i}`, merchantId: i === 4 ? otherMerchant : null, reason: "run_failed", message: `boom ${tag} ${i}`, retryEvent: null, runId: `run-${tag}-${i}` })).id);
    }
    const p1 = await ops.ops.exceptions.list({ search: tag, limit: 2 });
    expect(p1.items).toHaveLength(2);
    expect(p1.nextCursor).toEqual(expect.any(String));
    const p2 = await ops.ops.exceptions.list({ search: tag, limit: 2, cursor: p1.nextCursor! });
    const p3 = await ops.ops.exceptions.list({ search: tag, limit: 2, cursor: p2.nextCursor! });
    expect(p3.nextCursor).toBeNull();
    expect([...p1.items, ...p2.items, ...p3.items].map((r) => r.id)).toEqual([...ids].reverse());
    expect(p1.items[0]!.lastSeenAt).toBeInstanceOf(Date);
    expect((await ops.ops.exceptions.list({ search: tag, kind: "merchant_webhook" })).items.map((r) => r.id)).toEqual([ids[3], ids[1]]);
    expect((await ops.ops.exceptions.list({ search: `run-${tag}-2` })).items.map((r) => r.id)).toEqual([ids[2]]);
    expect((await ops.ops.exceptions.list({ search: otherMerchant })).items.map((r) => r.id)).toEqual([ids[4]]);
    // By code, as the search box says.
    const coded = await recordException(t.db, { kind: "job", subjectType: "function", subjectId: `coded-${++seq}`, reason: "run_failed", code: "attempt_not_executable", message: "coded", retryEvent: null });
    expect((await ops.ops.exceptions.list({ search: "attempt_not_exec" })).items.map((r) => r.id)).toContain(coded.id);
    await ops.ops.exceptions.resolve({ id: coded.id, note: "test row", as: "ignored" });
    // A search is text, not a pattern.
    expect((await ops.ops.exceptions.list({ search: "%" })).items).toEqual([]);
    expect(await code(ops.ops.exceptions.list({ cursor: "not-a-cursor" }))).toBe("BAD_REQUEST");

    await ops.ops.exceptions.resolve({ id: ids[0]!, note: "done", as: "resolved" });
    expect((await ops.ops.exceptions.list({ search: tag })).items.map((r) => r.id)).not.toContain(ids[0]);
    expect((await ops.ops.exceptions.list({ search: tag, status: "resolved" })).items.map((r) => r.id)).toEqual([ids[0]]);
    expect((await ops.ops.exceptions.list({ search: tag, status: "all" })).items).toHaveLength(5);

    const summary = await ops.ops.exceptions.summary();
    const [open] = await t.db.select({ n: count() }).from(opsExceptions).where(and(eq(opsExceptions.status, "open"), eq(opsExceptions.kind, "job")));
    expect(summary.byKind.job.open).toBe(open!.n);
    expect(summary.byKind.refund).toEqual({ open: 0, retrying: 0 });
    expect(summary.oldestOpenLastSeenAt).toBeInstanceOf(Date);
  });
});
