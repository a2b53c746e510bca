import { eq, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { users } from "@/db/schema";
import { recordAudit } from "@/server/audit/record-audit";
import { AppError } from "@/server/errors";

/**
 * Signs the user out everywhere: bumps their session epoch, so every token issued before (this device's
 * included) is refused from the next request on. With its audit row, in one transaction. Password, platform
 * role and membership changes bump the epoch by themselves (triggers, migration 0012).
 */
export async function revokeUserSessions(db: Db, opts: { userId: string; actorUserId: string }): Promise<{ revokedAt: Date }> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(users)
      .set({ sessionEpoch: sql`${users.sessionEpoch} + 1` })
      .where(eq(users.id, opts.userId))
      .returning({ epoch: users.sessionEpoch });
    if (!row) throw new AppError("not_found", "User not found");
    const audit = await recordAudit(tx, {
      actor: opts.actorUserId,
      action: "user.sessions_revoked",
      target: { type: "user", id: opts.userId },
      data: { sessionEpoch: row.epoch },
    });
    return { revokedAt: audit.createdAt };
  });
}
