import { and, eq, isNull } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { memberships, merchantInvitations, users } from "@/db/schema";
import type { MerchantRole } from "@/server/auth/access";
import { recordAudit } from "@/server/audit/record-audit";
import { AppError } from "@/server/errors";
import { assertNotLastAdmin, lockAdmins } from "./admin-lock";

// Role changes and removals. Both lock the merchant's admins first (admin-lock.ts), so the last admin can be
// neither demoted nor removed, by themself or anyone, however many requests race. The member's session epoch
// is bumped by the memberships trigger of migration 0012 (their open sessions end, their new role applies at
// their next sign-in).

async function lockMember(tx: Tx, merchantId: string, userId: string) {
  const [row] = await tx
    .select({ role: memberships.role, email: users.email })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.merchantId, merchantId), eq(memberships.userId, userId)))
    .for("update", { of: memberships });
  if (!row) throw new AppError("not_found", "Member not found");
  return row;
}

/**
 * An admin who is demoted or removed takes their pending invitations with them: otherwise a departing admin could
 * invite another address of theirs as admin and come back through it after being removed.
 */
async function revokeInvitationsIssuedBy(tx: Tx, merchantId: string, userId: string): Promise<number> {
  const revoked = await tx
    .update(merchantInvitations)
    .set({ revokedAt: new Date() })
    .where(and(eq(merchantInvitations.merchantId, merchantId), eq(merchantInvitations.invitedByUserId, userId), isNull(merchantInvitations.acceptedAt), isNull(merchantInvitations.revokedAt)))
    .returning({ id: merchantInvitations.id });
  return revoked.length;
}

export async function changeMemberRole(
  db: Db,
  opts: { merchantId: string; actorUserId: string; userId: string; role: MerchantRole },
): Promise<{ userId: string; role: MerchantRole; changed: boolean }> {
  return db.transaction(async (tx) => {
    const admins = await lockAdmins(tx, opts.merchantId, opts.actorUserId);
    const member = await lockMember(tx, opts.merchantId, opts.userId);
    if (member.role === opts.role) return { userId: opts.userId, role: member.role, changed: false };
    if (opts.role !== "merchant_admin") assertNotLastAdmin(admins, opts.userId);
    await tx.update(memberships).set({ role: opts.role }).where(and(eq(memberships.merchantId, opts.merchantId), eq(memberships.userId, opts.userId)));
    const invitationsRevoked = member.role === "merchant_admin" ? await revokeInvitationsIssuedBy(tx, opts.merchantId, opts.userId) : 0;
    await recordAudit(tx, {
      actor: opts.actorUserId,
      merchantId: opts.merchantId,
      action: "team.member_role_changed",
      target: { type: "user", id: opts.userId },
      before: { role: member.role },
      after: { role: opts.role },
      data: { email: member.email, invitationsRevoked },
    });
    return { userId: opts.userId, role: opts.role, changed: true };
  });
}

export async function removeMember(db: Db, opts: { merchantId: string; actorUserId: string; userId: string }): Promise<{ userId: string }> {
  return db.transaction(async (tx) => {
    const admins = await lockAdmins(tx, opts.merchantId, opts.actorUserId);
    const member = await lockMember(tx, opts.merchantId, opts.userId);
    assertNotLastAdmin(admins, opts.userId);
    await tx.delete(memberships).where(and(eq(memberships.merchantId, opts.merchantId), eq(memberships.userId, opts.userId)));
    const invitationsRevoked = await revokeInvitationsIssuedBy(tx, opts.merchantId, opts.userId);
    await recordAudit(tx, {
      actor: opts.actorUserId,
      merchantId: opts.merchantId,
      action: "team.member_removed",
      target: { type: "user", id: opts.userId },
      data: { email: member.email, role: member.role, invitationsRevoked },
    });
    return { userId: opts.userId };
  });
}
