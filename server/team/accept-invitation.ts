import { eq, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { PG_UNIQUE_VIOLATION, pgErrorCode } from "@/db/pg-errors";
import { memberships, merchantInvitations, merchants, users } from "@/db/schema";
import type { MerchantRole } from "@/server/auth/access";
import { hashPassword, verifyPassword } from "@/server/auth/password";
import { admitSignInAttempt, recordSignInSuccess, signInRefusalMessage } from "@/server/auth/sign-in-throttle";
import { recordAudit } from "@/server/audit/record-audit";
import { AppError } from "@/server/errors";
import { admitInvitationLookup, recordInvitationMiss } from "./invitation-rate-limit";
import { INVITATION_TOKEN_PATTERN, hashInvitationToken } from "./invitation-token";
import { invitationStatus, UNUSABLE_INVITATION_MESSAGE, type InvitationStatus } from "./invitation-status";
import { ZAcceptAsExistingUserSchema, ZAcceptAsNewUserSchema, type TAcceptAsExistingUserSchema, type TAcceptAsNewUserSchema } from "./team.schema";

// The accept page (/invite/<token>): what the link offers, and accepting it. A visitor without an account sets
// a name and password (the user, the membership and the accepted invitation commit together); the owner of an
// existing account with the invited email proves it with their password (through the sign-in throttle). The
// email match is case-insensitive.

export type InvitationPreview =
  | { status: "unknown" }
  | { status: InvitationStatus; merchantName: string; timeZone: string; role: MerchantRole; email: string; userExists: boolean; expiresAt: Date };

async function findByToken(db: Db, token: string) {
  if (!INVITATION_TOKEN_PATTERN.test(token)) return undefined;
  const [row] = await db
    .select({ inv: merchantInvitations, merchantName: sql<string>`coalesce(${merchants.displayName}, ${merchants.name})`, timeZone: merchants.timeZone })
    .from(merchantInvitations)
    .innerJoin(merchants, eq(merchants.id, merchantInvitations.merchantId))
    .where(eq(merchantInvitations.tokenHash, hashInvitationToken(token)));
  return row;
}

async function findUserByEmail(db: Db, email: string) {
  const [user] = await db.select().from(users).where(eq(sql`lower(${users.email})`, email));
  return user;
}

/** Rate-limited (invitation-rate-limit.ts): every call counts per IP, an unknown token towards the site's misses. */
export async function previewInvitation(db: Db, opts: { token: string; clientIp: string | undefined }, now = new Date()): Promise<InvitationPreview> {
  await admitInvitationLookup(db, opts.clientIp);
  const row = await findByToken(db, opts.token);
  if (!row) {
    await recordInvitationMiss(db, opts.token);
    return { status: "unknown" };
  }
  const { inv } = row;
  return {
    status: invitationStatus(inv, now),
    merchantName: row.merchantName,
    timeZone: row.timeZone,
    role: inv.role,
    email: inv.email,
    userExists: (await findUserByEmail(db, inv.email)) !== undefined,
    expiresAt: inv.expiresAt,
  };
}

export type AcceptInput = ({ kind: "new_user" } & TAcceptAsNewUserSchema) | ({ kind: "existing_user" } & TAcceptAsExistingUserSchema);

export interface AcceptedInvitation {
  userId: string;
  email: string;
  merchantId: string;
  role: MerchantRole;
}

const UNKNOWN_LINK = "This invitation link is not valid. Check that you copied all of it.";

export async function acceptInvitation(db: Db, opts: { token: string; clientIp: string; input: AcceptInput }, now = new Date()): Promise<AcceptedInvitation> {
  const valid = (opts.input.kind === "new_user" ? ZAcceptAsNewUserSchema : ZAcceptAsExistingUserSchema).safeParse(opts.input);
  if (!valid.success) throw new AppError("validation_failed", valid.error.issues.map((i) => i.message).join("; "));
  await admitInvitationLookup(db, opts.clientIp);
  const found = await findByToken(db, opts.token);
  if (!found) {
    await recordInvitationMiss(db, opts.token);
    throw new AppError("not_found", UNKNOWN_LINK);
  }
  const early = invitationStatus(found.inv, now);
  if (early !== "pending") throw new AppError("invitation_unusable", UNUSABLE_INVITATION_MESSAGE[early]);
  const email = found.inv.email;
  const existing = await findUserByEmail(db, email);
  let passwordHash: string | undefined;
  if (opts.input.kind === "existing_user") {
    if (!existing) throw new AppError("conflict", "No account uses this email yet: choose a name and password instead.");
    await verifyExistingUser(db, { email, clientIp: opts.clientIp, password: opts.input.password, passwordHash: existing.passwordHash });
  } else {
    if (existing) throw new AppError("conflict", "An account with this email already exists: accept with its password.");
    passwordHash = await hashPassword(opts.input.password);
  }
  const input = opts.input;
  try {
    return await db.transaction(async (tx) => {
      const [inv] = await tx.select().from(merchantInvitations).where(eq(merchantInvitations.id, found.inv.id)).for("update");
      const status = invitationStatus(inv!, now);
      if (status !== "pending") throw new AppError("invitation_unusable", UNUSABLE_INVITATION_MESSAGE[status]);
      let userId = existing?.id;
      if (input.kind === "new_user") {
        const [created] = await tx.insert(users).values({ email, name: input.name, passwordHash }).returning({ id: users.id });
        userId = created!.id;
      }
      const [membership] = await tx
        .insert(memberships)
        .values({ userId: userId!, merchantId: inv!.merchantId, role: inv!.role })
        .onConflictDoNothing()
        .returning({ userId: memberships.userId });
      if (!membership) throw new AppError("already_member", "You are already a member of this team. Sign in to reach it.");
      await tx.update(merchantInvitations).set({ acceptedAt: now, acceptedByUserId: userId }).where(eq(merchantInvitations.id, inv!.id));
      await recordAudit(tx, {
        actor: userId,
        merchantId: inv!.merchantId,
        action: "team.invitation_accepted",
        target: { type: "merchant_invitation", id: inv!.id },
        data: { email, role: inv!.role, userId, newUser: input.kind === "new_user" },
      });
      return { userId: userId!, email, merchantId: inv!.merchantId, role: inv!.role };
    });
  } catch (err) {
    // Someone created the account meanwhile (another tab accepting, a sign-up): users.email is unique.
    if (pgErrorCode(err) === PG_UNIQUE_VIOLATION) throw new AppError("conflict", "An account with this email already exists: accept with its password.");
    throw err;
  }
}

/** The password check of the sign-in form, with its throttle (a locked-out client waits here too). */
async function verifyExistingUser(db: Db, o: { email: string; clientIp: string; password: string; passwordHash: string | null }): Promise<void> {
  const attempt = { email: o.email, clientIp: o.clientIp };
  const admission = await admitSignInAttempt(db, attempt);
  if (!admission.allowed) throw new AppError("rate_limited", signInRefusalMessage(admission.retryAfterS), { details: { retryAfterS: admission.retryAfterS } });
  if (!o.passwordHash || !(await verifyPassword(o.password, o.passwordHash))) throw new AppError("unauthenticated", "The password is not correct.");
  await recordSignInSuccess(db, attempt);
}
