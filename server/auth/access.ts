import { asc, eq } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { memberships, merchants, users } from "@/db/schema";
import { AppError } from "@/server/errors";
import { isWithinAbsoluteLifetime, type SessionClaims } from "./session";

// Who the signed-in user is and what they may do, read from Postgres on every request (never trusted
// from the session cookie), so a revoked role takes effect at once; and whether their session still stands
// (its epoch is the user's current one, its absolute lifetime not over), so a revoked session ends at once.

export const MERCHANT_ROLES = ["merchant_viewer", "merchant_admin"] as const;
export type MerchantRole = (typeof MERCHANT_ROLES)[number];
const ROLE_RANK: Record<MerchantRole, number> = { merchant_viewer: 1, merchant_admin: 2 };

/** Request header / cookie that selects the active merchant for a user who belongs to several. */
export const MERCHANT_SCOPE_HEADER = "x-merchant-id";
export const MERCHANT_SCOPE_COOKIE = "pb_merchant";

export interface Membership {
  merchantId: string;
  merchantName: string;
  role: MerchantRole;
}
export interface Access {
  user: { id: string; email: string; name: string | null; isOps: boolean };
  memberships: Membership[];
}
export interface MerchantScope {
  id: string;
  name: string;
  role: MerchantRole;
}

export const SESSION_ENDED_MESSAGE = "Your session has ended. Sign in again.";

/**
 * Whether a session with these claims still stands: its user exists, its epoch is the user's current one and
 * its absolute lifetime is not over. Auth.js's jwt callback asks this on every read of a token
 * (server/auth/config.ts), so a revoked session is no session anywhere, /api/auth/session included.
 */
export async function sessionStillValid(db: DbOrTx, userId: string, session: SessionClaims): Promise<boolean> {
  if (!isWithinAbsoluteLifetime(session.signedInAtMs)) return false;
  const [user] = await db.select({ sessionEpoch: users.sessionEpoch }).from(users).where(eq(users.id, userId));
  return user?.sessionEpoch === session.epoch;
}

export async function loadAccess(db: DbOrTx, userId: string, session?: SessionClaims): Promise<Access> {
  const [user] = await db
    .select({ id: users.id, email: users.email, name: users.name, platformRole: users.platformRole, sessionEpoch: users.sessionEpoch })
    .from(users)
    .where(eq(users.id, userId));
  if (!user) throw new AppError("unauthenticated", "The signed-in user no longer exists");
  if (session && (session.epoch !== user.sessionEpoch || !isWithinAbsoluteLifetime(session.signedInAtMs))) {
    throw new AppError("unauthenticated", SESSION_ENDED_MESSAGE);
  }
  const rows = await db
    .select({ merchantId: memberships.merchantId, merchantName: merchants.name, role: memberships.role })
    .from(memberships)
    .innerJoin(merchants, eq(merchants.id, memberships.merchantId))
    .where(eq(memberships.userId, userId))
    .orderBy(asc(memberships.createdAt), asc(memberships.merchantId));
  return {
    user: { id: user.id, email: user.email, name: user.name, isOps: user.platformRole === "ops" },
    memberships: rows,
  };
}

/**
 * The merchant this request acts for. With no explicit choice, the user's first membership.
 * A merchant the user does not belong to is "not found", never "forbidden": we do not confirm it exists.
 */
export function resolveMerchantScope(access: Access, requestedMerchantId: string | undefined, minRole: MerchantRole): MerchantScope {
  const membership = requestedMerchantId
    ? access.memberships.find((m) => m.merchantId === requestedMerchantId)
    : access.memberships[0];
  if (!membership) throw new AppError("not_found", "Merchant not found");
  if (ROLE_RANK[membership.role] < ROLE_RANK[minRole]) {
    throw new AppError("forbidden", `This action needs the ${minRole} role`);
  }
  return { id: membership.merchantId, name: membership.merchantName, role: membership.role };
}

export function requireOps(access: Access): void {
  if (!access.user.isOps) throw new AppError("forbidden", "This action needs the ops role");
}
