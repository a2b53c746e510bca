import { and, asc, desc, eq, isNull } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { memberships, merchantInvitations, users } from "@/db/schema";
import type { MerchantRole } from "@/server/auth/access";

// The team page's read: the merchant's members and its pending invitations, nothing of other merchants.

/** Explicit limits on what one page lists (a team is small; these are ceilings, not pages). */
export const TEAM_MEMBERS_MAX = 500;
export const PENDING_INVITATIONS_MAX = 100;

export interface TeamMember {
  userId: string;
  email: string;
  name: string | null;
  role: MerchantRole;
  joinedAt: Date;
}
export interface PendingInvitation {
  id: string;
  email: string;
  role: MerchantRole;
  createdAt: Date;
  expiresAt: Date;
  expired: boolean;
  invitedByEmail: string | null;
}

export async function listTeam(db: DbOrTx, merchantId: string, now = new Date()): Promise<{ members: TeamMember[]; invitations: PendingInvitation[] }> {
  const members = await db
    .select({ userId: users.id, email: users.email, name: users.name, role: memberships.role, joinedAt: memberships.createdAt })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(eq(memberships.merchantId, merchantId))
    .orderBy(asc(memberships.createdAt), asc(users.id))
    .limit(TEAM_MEMBERS_MAX);
  const rows = await db
    .select({
      id: merchantInvitations.id,
      email: merchantInvitations.email,
      role: merchantInvitations.role,
      createdAt: merchantInvitations.createdAt,
      expiresAt: merchantInvitations.expiresAt,
      invitedByEmail: users.email,
    })
    .from(merchantInvitations)
    .leftJoin(users, eq(users.id, merchantInvitations.invitedByUserId))
    .where(and(eq(merchantInvitations.merchantId, merchantId), isNull(merchantInvitations.acceptedAt), isNull(merchantInvitations.revokedAt)))
    .orderBy(desc(merchantInvitations.createdAt))
    .limit(PENDING_INVITATIONS_MAX);
  return { members, invitations: rows.map((r) => ({ ...r, expired: r.expiresAt.getTime() <= now.getTime() })) };
}
