// The dashboard's disputes procedures (server/disputes/router.ts) and the evidence-file route, through the real
// middleware and route wrapper: merchant scope (another merchant's dispute and reminder are not_found, never data),
// roles (viewers read, only admins answer), the list sorted by deadline, the detail (allocation with the merchant's
// ids, timeline, wallets), notices and dismissal, bad input refused with nothing written, and the upload's limits.
// The dispute rows come from createDispute (the state machine), as the sync would make them.
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { disputeReminders, disputes, paymentAttempts, paymentOrders, sellers } from "@/db/schema";
import { sessionCookie, TEST_AUTH_SECRET } from "@/server/auth/test-helpers";
import type { Sandbox } from "@/sandbox/index";
import { startTestSandbox } from "@/sandbox/testing";
import { createTestDatabase, pointRoutesAt, type TestDatabase } from "@/test/db";

const APP = "http://localhost:3000";
const BROWSER = { host: "localhost:3000", "x-forwarded-proto": "http", "sec-fetch-site": "same-origin", origin: APP };
const DAY = 86_400_000;

let t: TestDatabase;
let sandbox: Sandbox;
let fixtures: typeof import("@/test/fixtures");
let route: typeof import("@/app/api/dashboard/disputes/[disputeId]/evidence-file/route");
let merchantA: { id: string };
let merchantB: { id: string };
let adminA: string;
let viewerA: string;
let adminB: string;
let soon: string;
let later: string;
let closed: string;
let reminderId: string;
let orderIds: string[];

async function makeDispute(merchantId: string, opts: { dueInMs: number; amounts: string[]; status?: "needs_response" | "lost" }) {
  const refs = (await t.db.select({ r: sellers.reference }).from(sellers).where(eq(sellers.merchantId, merchantId)).orderBy(sellers.reference)).map((r) => r.r);
  const co = await fixtures.createTestCheckout(t.db, { merchantId, sellerRefs: refs.slice(0, opts.amounts.length), amounts: opts.amounts });
  const orders = await t.db.select().from(paymentOrders).where(eq(paymentOrders.checkoutId, co.checkout_id)).orderBy(paymentOrders.position);
  const [attempt] = await t.db
    .insert(paymentAttempts)
    .values({ checkoutId: co.checkout_id, attemptNo: 1, method: "card", psp: "stripe", status: "succeeded", idempotencyKey: `att-${co.checkout_id}`, pspReference: `pi_${co.checkout_id}` })
    .returning();
  const { createDispute } = await import("@/server/disputes/state-machine");
  const total = orders.reduce((s, o) => s + o.amount, 0n);
  const dispute = await t.db.transaction(async (tx) =>
    (
      await createDispute(tx, {
        merchantId,
        checkoutId: co.checkout_id,
        attemptId: attempt!.id,
        psp: "stripe",
        pspDisputeId: `dp_${co.checkout_id}`,
        pspPaymentReference: attempt!.pspReference!,
        amount: total,
        currency: "KES",
        fee: 1500n,
        reason: "fraudulent",
        status: opts.status ?? "needs_response",
        evidenceDueBy: new Date(Date.now() + opts.dueInMs),
        allocation: orders.map((o, i) => ({ paymentOrderId: o.id, sellerId: o.sellerId, amount: o.amount.toString(), fee: i === 0 ? "1500" : "0" })),
      })
    ).dispute,
  );
  return { dispute, orders };
}

beforeAll(async () => {
  t = await createTestDatabase();
  sandbox = await startTestSandbox();
  pointRoutesAt(t, { AUTH_SECRET: TEST_AUTH_SECRET, STRIPE_API_BASE: sandbox.url });
  fixtures = await import("@/test/fixtures");
  route = await import("@/app/api/dashboard/disputes/[disputeId]/evidence-file/route");
  merchantA = await fixtures.createMerchant(t.db, "Disputes Shop");
  merchantB = await fixtures.createMerchant(t.db, "Other Shop");
  adminA = (await fixtures.createUser(t.db, { merchantId: merchantA.id, role: "merchant_admin" })).id;
  viewerA = (await fixtures.createUser(t.db, { merchantId: merchantA.id, role: "merchant_viewer" })).id;
  adminB = (await fixtures.createUser(t.db, { merchantId: merchantB.id, role: "merchant_admin" })).id;
  later = (await makeDispute(merchantA.id, { dueInMs: 6 * DAY, amounts: ["100.00"] })).dispute.id;
  const s = await makeDispute(merchantA.id, { dueInMs: 2 * DAY, amounts: ["300.00", "100.00"] });
  soon = s.dispute.id;
  orderIds = s.orders.map((o) => o.paymentOrderId);
  closed = (await makeDispute(merchantA.id, { dueInMs: 1 * DAY, amounts: ["50.00"], status: "lost" })).dispute.id;
  const [r] = await t.db.insert(disputeReminders).values({ disputeId: soon, merchantId: merchantA.id, kind: "72h", dueBy: s.dispute.evidenceDueBy! }).returning();
  reminderId = r!.id;
}, 120_000);
afterAll(async () => {
  await sandbox?.stop();
  await t?.drop();
});

describe("disputes.* (dashboard)", () => {
  it("lists the merchant's disputes, the open ones soonest deadline first, and none of another merchant's", async () => {
    const page = await fixtures.callerFor(t.db, viewerA).disputes.list({ sort: "due_by" });
    expect(page.data.map((d) => d.id)).toEqual([soon, later, closed]);
    expect((await fixtures.callerFor(t.db, adminB).disputes.list({ sort: "due_by" })).data).toEqual([]);
    expect((await fixtures.callerFor(t.db, viewerA).disputes.list({ sort: "due_by", status: "lost" })).data.map((d) => d.id)).toEqual([closed]);
  });

  it("shows the detail: amount and fee in minor units, the allocation with the merchant's order ids and sellers, the timeline, the wallets", async () => {
    const d = await fixtures.callerFor(t.db, viewerA).disputes.get({ disputeId: soon });
    expect(d.amountMinor).toBe("40000");
    expect(d.feeMinor).toBe("1500");
    expect(d.allocation.map((a) => [a.paymentOrderId, a.amountMinor, a.feeMinor])).toEqual([
      [orderIds[0], "30000", "1500"],
      [orderIds[1], "10000", "0"],
    ]);
    expect(d.timeline).toEqual([expect.objectContaining({ from: null, to: "needs_response" })]);
    expect(d.wallets).toHaveLength(2);
    expect(d.wallets.every((w) => w.available === "0" && w.owed === "0")).toBe(true);
    expect(d.view.respondable).toBe(true);
  });

  it("answers another merchant's dispute, or a malformed id, as not found / bad request", async () => {
    expect(await fixtures.trpcErrorCode(fixtures.callerFor(t.db, adminB).disputes.get({ disputeId: soon }))).toBe("NOT_FOUND");
    expect(await fixtures.trpcErrorCode(fixtures.callerFor(t.db, adminB).disputes.accept({ disputeId: soon }))).toBe("NOT_FOUND");
    expect(await fixtures.trpcErrorCode(fixtures.callerFor(t.db, adminA).disputes.get({ disputeId: "dsp_nope" }))).toBe("BAD_REQUEST");
  });

  it("refuses viewers every answer, and bad evidence with a 400 and nothing written", async () => {
    const viewer = fixtures.callerFor(t.db, viewerA);
    expect(await fixtures.trpcErrorCode(viewer.disputes.submitEvidence({ disputeId: soon, evidence: { uncategorizedText: "x" } }))).toBe("FORBIDDEN");
    expect(await fixtures.trpcErrorCode(viewer.disputes.accept({ disputeId: soon }))).toBe("FORBIDDEN");
    expect(await fixtures.trpcErrorCode(viewer.disputes.dismissNotice({ reminderId }))).toBe("FORBIDDEN");
    const admin = fixtures.callerFor(t.db, adminA);
    expect(await fixtures.trpcErrorCode(admin.disputes.submitEvidence({ disputeId: soon, evidence: {} }))).toBe("BAD_REQUEST");
    expect(await fixtures.trpcErrorCode(admin.disputes.submitEvidence({ disputeId: soon, evidence: { uncategorizedText: "x".repeat(8001) } }))).toBe("BAD_REQUEST");
    expect(await fixtures.trpcErrorCode(admin.disputes.submitEvidence({ disputeId: soon, evidence: { customerEmailAddress: "not an email" } }))).toBe("BAD_REQUEST");
    const [row] = await t.db.select().from(disputes).where(eq(disputes.id, soon));
    expect(row!.evidenceSubmittedAt).toBeNull();
    expect(row!.evidenceEncrypted).toBeNull();
  });

  it("lists the reminder as a notice until an admin of the merchant dismisses it", async () => {
    const notices = await fixtures.callerFor(t.db, viewerA).disputes.notices();
    expect(notices.map((n) => [n.reminderId, n.disputeId, n.kind])).toEqual([[reminderId, soon, "72h"]]);
    expect(await fixtures.callerFor(t.db, adminB).disputes.notices()).toEqual([]);
    expect(await fixtures.trpcErrorCode(fixtures.callerFor(t.db, adminB).disputes.dismissNotice({ reminderId }))).toBe("NOT_FOUND");
    expect(await fixtures.callerFor(t.db, viewerA).disputes.notices()).toHaveLength(1);
    await fixtures.callerFor(t.db, adminA).disputes.dismissNotice({ reminderId });
    expect(await fixtures.callerFor(t.db, viewerA).disputes.notices()).toEqual([]);
  });
});

describe("POST /api/dashboard/disputes/<id>/evidence-file", () => {
  const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
  async function post(disputeId: string, userId: string, file: Blob | null, name = "receipt.png", headers: Record<string, string> = {}) {
    const body = new FormData();
    if (file) body.append("file", file, name);
    const cookie = await sessionCookie({ userId, signedInAtMs: Date.now(), epoch: 0 });
    const req = new Request(`${APP}/api/dashboard/disputes/${disputeId}/evidence-file`, { method: "POST", body, headers: { ...BROWSER, cookie, ...headers } });
    return route.POST(req);
  }

  it("uploads a PNG to the PSP's files API and answers its file id", async () => {
    const res = await post(soon, adminA, new Blob([PNG], { type: "image/png" }));
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { file_id: string }).file_id).toMatch(/^file_/);
  });

  it("refuses a viewer, another merchant, a cross-site request, a wrong type, an empty and an oversized file", async () => {
    expect((await post(soon, viewerA, new Blob([PNG], { type: "image/png" }))).status).toBe(403);
    expect((await post(soon, adminB, new Blob([PNG], { type: "image/png" }))).status).toBe(404);
    expect((await post("dsp_malformed", adminA, new Blob([PNG], { type: "image/png" }))).status).toBe(404);
    expect((await post(soon, adminA, new Blob([PNG], { type: "image/png" }), "r.png", { "sec-fetch-site": "cross-site" })).status).toBe(403);
    const svg = await post(soon, adminA, new Blob(["<svg/>"], { type: "image/svg+xml" }), "x.svg");
    expect(svg.status).toBe(400);
    expect(((await svg.json()) as { error: { fields: { path: string }[] } }).error.fields[0]!.path).toBe("file");
    expect((await post(soon, adminA, new Blob([], { type: "image/png" }))).status).toBe(400);
    expect((await post(soon, adminA, null)).status).toBe(400);
    const big = new Uint8Array(5 * 1024 * 1024 + 1);
    big.set(PNG);
    expect((await post(soon, adminA, new Blob([big], { type: "image/png" }))).status).toBe(413);
    // A PNG by name and type whose bytes are not one (the domain's magic-byte check).
    expect((await post(soon, adminA, new Blob(["not a png"], { type: "image/png" }))).status).toBe(400);
    // A closed dispute takes no files.
    expect((await post(closed, adminA, new Blob([PNG], { type: "image/png" }))).status).toBe(409);
  });
});
