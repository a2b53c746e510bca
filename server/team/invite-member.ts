import { and, count, eq, isNull, sql } from "drizzle-orm";
import type { Db, DbOrTx } from "@/db/client";
import { PG_UNIQUE_VIOLATION, pgErrorCode } from "@/db/pg-errors";
import { memberships, merchantInvitations, users } from "@/db/schema";
import type { MerchantRole } from "@/server/auth/access";
import { recordAudit } from "@/server/audit/record-audit";
import { AppError } from "@/server/errors";
import { INVITATION_TTL_MS, hashInvitationToken, invitationPath, newInvitationToken } from "./invitation-token";
import { PENDING_INVITATIONS_MAX } from "./list-team";
import type { TInviteMemberInputSchema } from "./team.schema";

export interface IssuedInvitation {
  invitation: { id: string; email: string; role: MerchantRole; expiresAt: Date };
  /** The secret part of the link: returned this once, never stored (only its sha256). */
  token: string;
  /** `/invite/<token>`: the caller shows it with the app's origin. */
  path: string;
}

const ALREADY_INVITED = "This email already has a pending invitation: resend or revoke it.";

/** Is a user with this (lower-cased) email already on the merchant's team? */
export async function isMemberByEmail(db: DbOrTx, merchantId: string, email: string): Promise<boolean> {
  const [row] = await db
    .select({ userId: memberships.userId })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.merchantId, merchantId), eq(sql`lower(${users.email})`, email)));
  return row !== undefined;
}

/** Creates a pending invitation (7 days) and its audit row in one transaction; the token leaves only here. */
export async function inviteMember(db: Db, opts: { merchantId: string; actorUserId: string; input: TInviteMemberInputSchema }, now = new Date()): Promise<IssuedInvitation> {
  const { email, role } = opts.input;
  const token = newInvitationToken();
  try {
    return await db.transaction(async (tx) => {
      if (await isMemberByEmail(tx, opts.merchantId, email)) throw new AppError("already_member", "This email is already a member of the team.");
      const pending = and(eq(merchantInvitations.merchantId, opts.merchantId), isNull(merchantInvitations.acceptedAt), isNull(merchantInvitations.revokedAt));
      const [same] = await tx.select({ id: merchantInvitations.id }).from(merchantInvitations).where(and(pending, eq(merchantInvitations.email, email)));
      if (same) throw new AppError("already_member", ALREADY_INVITED);
      const [{ n } = { n: 0 }] = await tx.select({ n: count() }).from(merchantInvitations).where(pending);
      if (n >= PENDING_INVITATIONS_MAX) throw new AppError("limit_reached", `At most ${PENDING_INVITATIONS_MAX} invitations may be pending: revoke some first.`);
      const [row] = await tx
        .insert(merchantInvitations)
        .values({ merchantId: opts.merchantId, email, role, tokenHash: hashInvitationToken(token), invitedByUserId: opts.actorUserId, expiresAt: new Date(now.getTime() + INVITATION_TTL_MS) })
        .returning({ id: merchantInvitations.id, email: merchantInvitations.email, role: merchantInvitations.role, expiresAt: merchantInvitations.expiresAt });
      await recordAudit(tx, {
        actor: opts.actorUserId,
        merchantId: opts.merchantId,
        action: "team.member_invited",
        target: { type: "merchant_invitation", id: row!.id },
        data: { email, role, expiresAt: row!.expiresAt.toISOString() },
      });
      return { invitation: row!, token, path: invitationPath(token) };
    });
  } catch (err) {
    // Two admins inviting the same email at once: the partial unique index lets one through.
    if (pgErrorCode(err) === PG_UNIQUE_VIOLATION) throw new AppError("already_member", ALREADY_INVITED);
    throw err;
  }
}
