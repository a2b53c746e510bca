import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog } from "@/db/schema";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createMerchant, createUser } from "@/test/fixtures";
import { AUDIT_ACTIONS, isAuditAction, recordAudit, type AuditAction } from "./record-audit";

let t: TestDatabase;
let merchantId: string;
let userId: string;

beforeAll(async () => {
  t = await createTestDatabase();
  merchantId = (await createMerchant(t.db)).id;
  userId = (await createUser(t.db, { merchantId, role: "merchant_admin" })).id;
});
afterAll(async () => {
  await t.drop();
});

async function rowsFor(targetId: string) {
  return t.db.select().from(auditLog).where(eq(auditLog.targetId, targetId));
}

describe("recordAudit", () => {
  it("writes one row with the actor, merchant, action, target and data", async () => {
    const written = await t.db.transaction((tx) =>
      recordAudit(tx, {
        actor: userId,
        merchantId,
        action: "webhook_endpoint.created",
        target: { type: "webhook_endpoint", id: "whe_audit_1" },
        data: { url: "https://example.com/hook" },
      }),
    );
    const rows = await rowsFor("whe_audit_1");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toEqual({
      id: written.id,
      actorUserId: userId,
      merchantId,
      action: "webhook_endpoint.created",
      targetType: "webhook_endpoint",
      targetId: "whe_audit_1",
      data: { url: "https://example.com/hook" },
      createdAt: written.createdAt,
    });
    expect(written.id).toMatch(/^aud_/);
  });

  it("stores before/after as { field: { from, to } }, next to any other data", async () => {
    await t.db.transaction((tx) =>
      recordAudit(tx, {
        actor: userId,
        merchantId,
        action: "merchant.updated",
        target: { type: "merchant", id: merchantId },
        before: { name: "Old" },
        after: { name: "New" },
        data: { note: "rename" },
      }),
    );
    const [row] = await rowsFor(merchantId);
    expect(row!.data).toEqual({ name: { from: "Old", to: "New" }, note: "rename" });
  });

  it("leaves the actor and merchant null, and data {}, when not given", async () => {
    await t.db.transaction((tx) => recordAudit(tx, { actor: undefined, action: "api_key.revoked", target: { type: "api_key", id: "key_audit_1" } }));
    const [row] = await rowsFor("key_audit_1");
    expect(row).toMatchObject({ actorUserId: null, merchantId: null, action: "api_key.revoked", targetType: "api_key", data: {} });
  });

  it("commits and rolls back with the caller's transaction", async () => {
    await expect(
      t.db.transaction(async (tx) => {
        await recordAudit(tx, { actor: userId, merchantId, action: "api_key.created", target: { type: "api_key", id: "key_audit_rollback" } });
        throw new Error("the change failed");
      }),
    ).rejects.toThrow("the change failed");
    expect(await rowsFor("key_audit_rollback")).toEqual([]);
  });

  it("refuses an action outside AUDIT_ACTIONS, at compile time and at run time, and writes nothing", async () => {
    const [before] = await t.db.select({ n: count() }).from(auditLog);
    await expect(
      t.db.transaction((tx) =>
        recordAudit(tx, {
          actor: userId,
          merchantId,
          // @ts-expect-error -- not an AuditAction
          action: "merchant.deleted",
          target: { type: "merchant", id: merchantId },
        }),
      ),
    ).rejects.toThrow(/Unknown audit action: "merchant.deleted"/);
    const [after] = await t.db.select({ n: count() }).from(auditLog);
    expect(after!.n).toBe(before!.n);
  });

  it("refuses before without after (and the reverse)", async () => {
    await expect(
      t.db.transaction((tx) => recordAudit(tx, { actor: userId, action: "merchant.updated", target: { type: "merchant", id: merchantId }, before: { name: "x" } })),
    ).rejects.toThrow(/both before and after/);
    await expect(
      t.db.transaction((tx) => recordAudit(tx, { actor: userId, action: "merchant.updated", target: { type: "merchant", id: merchantId }, after: { name: "x" } })),
    ).rejects.toThrow(/both before and after/);
  });
});

describe("AUDIT_ACTIONS", () => {
  it("is exactly the actions the code writes, stored byte for byte", () => {
    expect([...AUDIT_ACTIONS].sort()).toEqual([
      "api_key.created",
      "api_key.revoked",
      "buyer_data.viewed",
      "dispute.accepted",
      "dispute.evidence_submitted",
      "double_charge.marked_refunded",
      "encryption.reencrypted",
      "engine_run.replayed",
      "exception.resolved",
      "exception.retried",
      "merchant.settings_updated",
      "merchant.updated",
      "payout.approved",
      "payout.canceled",
      "payout.requested",
      "payout_destination.set",
      "payout_schedule.updated",
      "recon_adjustment.approved",
      "recon_adjustment.proposed",
      "recon_adjustment.rejected",
      "recon_case.accepted",
      "recon_case.acknowledged",
      "recon_case.requeried",
      "recon_import.uploaded",
      "recon_run.requested",
      "refund.canceled",
      "refund.created",
      "risk_review.approved",
      "risk_review.rejected",
      "risk_rule.created",
      "risk_rule.disabled",
      "risk_rule.enabled",
      "team.invitation_accepted",
      "team.invitation_resent",
      "team.invitation_revoked",
      "team.member_invited",
      "team.member_removed",
      "team.member_role_changed",
      "user.sessions_revoked",
      "webhook_delivery.resent",
      "webhook_endpoint.created",
      "webhook_endpoint.disabled",
      "webhook_endpoint.test_sent",
    ]);
    expect(new Set(AUDIT_ACTIONS).size).toBe(AUDIT_ACTIONS.length);
  });

  it("isAuditAction narrows strings", () => {
    const s: string = "risk_rule.enabled";
    expect(isAuditAction(s)).toBe(true);
    expect(isAuditAction("risk_rule.deleted")).toBe(false);
    if (isAuditAction(s)) {
      const a: AuditAction = s;
      expect(a).toBe("risk_rule.enabled");
    }
  });
});
