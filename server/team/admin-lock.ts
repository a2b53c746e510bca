import { and, asc, eq } from "drizzle-orm";
import type { Tx } from "@/db/client";
import { memberships } from "@/db/schema";
import { AppError } from "@/server/errors";

// The team's one invariant: a merchant always keeps at least one admin. Every write that could take an admin
// away (a demotion, a removal) first locks the merchant's admin memberships, in one order (by user id, so two
// writers never deadlock), then counts them. A second writer waits for the first to commit and then sees the
// rows as they are (READ COMMITTED re-checks `role = merchant_admin` on a row it waited for), so two concurrent
// demotions of the last two admins cannot both pass.

/**
 * Locks the merchant's admin memberships and checks, inside the transaction, that the actor is still one of
 * them (they may have been demoted since the request was authorized). Returns the locked admins' user ids.
 */
export async function lockAdmins(tx: Tx, merchantId: string, actorUserId: string): Promise<string[]> {
  const rows = await tx
    .select({ userId: memberships.userId })
    .from(memberships)
    .where(and(eq(memberships.merchantId, merchantId), eq(memberships.role, "merchant_admin")))
    .orderBy(asc(memberships.userId))
    .for("update");
  const admins = rows.map((r) => r.userId);
  if (!admins.includes(actorUserId)) throw new AppError("forbidden", "This action needs the merchant_admin role");
  return admins;
}

export const LAST_ADMIN_MESSAGE = "A merchant needs at least one admin: make another member an admin first.";

/** Refuses to take `userId` out of the admins when they are the last one. */
export function assertNotLastAdmin(admins: readonly string[], userId: string): void {
  if (admins.includes(userId) && admins.length <= 1) throw new AppError("last_admin", LAST_ADMIN_MESSAGE);
}
