import { and, eq } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { merchantInvitations } from "@/db/schema";
import { recordAudit } from "@/server/audit/record-audit";
import { AppError } from "@/server/errors";
import { INVITATION_TTL_MS, hashInvitationToken, invitationPath, newInvitationToken } from "./invitation-token";
import { invitationStatus } from "./invitation-status";
import type { IssuedInvitation } from "./invite-member";

// Resend (a new token and a fresh 7 days: the old link stops working) and revoke, for a pending invitation of
// the caller's merchant. Another merchant's invitation id is not found.

async function lockInvitation(tx: Tx, merchantId: string, invitationId: string) {
  const [row] = await tx
    .select()
    .from(merchantInvitations)
    .where(and(eq(merchantInvitations.id, invitationId), eq(merchantInvitations.merchantId, merchantId)))
    .for("update");
  if (!row) throw new AppError("not_found", "Invitation not found");
  return row;
}

export async function resendInvitation(db: Db, opts: { merchantId: string; actorUserId: string; invitationId: string }, now = new Date()): Promise<IssuedInvitation> {
  return db.transaction(async (tx) => {
    const row = await lockInvitation(tx, opts.merchantId, opts.invitationId);
    const status = invitationStatus(row, now);
    // An expired invitation may be resent: that is what renewing it means.
    if (status === "accepted" || status === "revoked") throw new AppError("invitation_unusable", `This invitation was already ${status}.`);
    const token = newInvitationToken();
    const [updated] = await tx
      .update(merchantInvitations)
      .set({ tokenHash: hashInvitationToken(token), expiresAt: new Date(now.getTime() + INVITATION_TTL_MS) })
      .where(eq(merchantInvitations.id, row.id))
      .returning({ id: merchantInvitations.id, email: merchantInvitations.email, role: merchantInvitations.role, expiresAt: merchantInvitations.expiresAt });
    await recordAudit(tx, {
      actor: opts.actorUserId,
      merchantId: opts.merchantId,
      action: "team.invitation_resent",
      target: { type: "merchant_invitation", id: row.id },
      data: { email: row.email, role: row.role, expiresAt: updated!.expiresAt.toISOString() },
    });
    return { invitation: updated!, token, path: invitationPath(token) };
  });
}

export async function revokeInvitation(db: Db, opts: { merchantId: string; actorUserId: string; invitationId: string }, now = new Date()): Promise<{ id: string; revokedAt: Date }> {
  return db.transaction(async (tx) => {
    const row = await lockInvitation(tx, opts.merchantId, opts.invitationId);
    const status = invitationStatus(row, now);
    if (status === "accepted" || status === "revoked") throw new AppError("invitation_unusable", `This invitation was already ${status}.`);
    const [updated] = await tx
      .update(merchantInvitations)
      .set({ revokedAt: now })
      .where(eq(merchantInvitations.id, row.id))
      .returning({ id: merchantInvitations.id, revokedAt: merchantInvitations.revokedAt });
    await recordAudit(tx, {
      actor: opts.actorUserId,
      merchantId: opts.merchantId,
      action: "team.invitation_revoked",
      target: { type: "merchant_invitation", id: row.id },
      data: { email: row.email, role: row.role },
    });
    return { id: updated!.id, revokedAt: updated!.revokedAt! };
  });
}
