// Team: invitations (token hashing, expiry, resend, revoke, accept as a new or an existing user), role changes,
// removals and the last-admin rule (concurrent demotions included), viewers refused, audit rows. Real Postgres.
import { createHash } from "node:crypto";
import { and, count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog, memberships, merchantInvitations, users } from "@/db/schema";
import { hashPassword, verifyPassword } from "@/server/auth/password";
import { AppError } from "@/server/errors";
import { consumeWindow } from "@/server/rate-limit/window";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { callerFor, createMerchant, createUser, trpcErrorCode } from "@/test/fixtures";
import { acceptInvitation, previewInvitation } from "./accept-invitation";
import { changeMemberRole } from "./change-member";
import { INVITE_LOOKUPS_PER_IP_PER_MIN, INVITE_MISS_WINDOW, INVITE_MISSES_PER_MIN } from "./invitation-rate-limit";
import { hashInvitationToken, INVITATION_TOKEN_PATTERN, INVITATION_TTL_MS, newInvitationToken } from "./invitation-token";

let t: TestDatabase;
let merchantId: string;
let adminId: string;
let viewerId: string;
let otherMerchantId: string;
let otherAdminId: string;
/** Each test's own client IP, so the per-IP lookup limit never couples tests. */
let ipSeq = 0;
const nextIp = () => `198.51.100.${++ipSeq}`;

beforeAll(async () => {
  t = await createTestDatabase();
  merchantId = (await createMerchant(t.db, "Team Traders")).id;
  adminId = (await createUser(t.db, { merchantId, role: "merchant_admin" })).id;
  viewerId = (await createUser(t.db, { merchantId, role: "merchant_viewer" })).id;
  otherMerchantId = (await createMerchant(t.db, "Other Traders")).id;
  otherAdminId = (await createUser(t.db, { merchantId: otherMerchantId, role: "merchant_admin" })).id;
});
afterAll(async () => t?.drop());

const tokenOf = (link: string) => new URL(link).pathname.split("/").pop()!;
const auditRows = (action: string, targetId: string) => t.db.select().from(auditLog).where(and(eq(auditLog.action, action), eq(auditLog.targetId, targetId)));
const invitationCount = async (mId = merchantId) => (await t.db.select({ n: count() }).from(merchantInvitations).where(eq(merchantInvitations.merchantId, mId)))[0]!.n;
const roleOf = async (userId: string, mId = merchantId) => (await t.db.select({ role: memberships.role }).from(memberships).where(and(eq(memberships.userId, userId), eq(memberships.merchantId, mId))))[0]?.role;
const appCode = async (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => (e instanceof AppError ? e.code : String(e)));
const appCodeOfTrpc = async (p: Promise<unknown>) => p.then(() => undefined, (e: { cause?: unknown }) => (e.cause instanceof AppError ? e.cause.code : undefined));

describe("invitation tokens", () => {
  it("are 32 random bytes (base64url), hashed with sha256", () => {
    const a = newInvitationToken();
    const b = newInvitationToken();
    expect(a).toMatch(INVITATION_TOKEN_PATTERN);
    expect(Buffer.from(a, "base64url")).toHaveLength(32);
    expect(a).not.toBe(b);
    expect(hashInvitationToken(a)).toBe(createHash("sha256").update(a).digest("hex"));
    expect(hashInvitationToken(a)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("invite", () => {
  it("stores the email lower-cased and only the token's sha256, expiring in 7 days, with an audit row", async () => {
    const before = Date.now();
    const res = await callerFor(t.db, adminId).team.invite({ email: "  New.Person@Example.TEST ", role: "merchant_viewer" });
    expect(res.link).toMatch(/\/invite\/[A-Za-z0-9_-]{43}$/);
    const token = tokenOf(res.link);
    const [row] = await t.db.select().from(merchantInvitations).where(eq(merchantInvitations.id, res.invitation.id));
    expect(row).toMatchObject({ merchantId, email: "new.person@example.test", role: "merchant_viewer", invitedByUserId: adminId, acceptedAt: null, revokedAt: null });
    expect(row!.tokenHash).toBe(createHash("sha256").update(token).digest("hex"));
    // The token itself is nowhere in the database.
    const found = await t.sql`select 1 from merchant_invitations where token_hash = ${token} or email = ${token}`;
    expect(found).toHaveLength(0);
    expect(row!.expiresAt.getTime()).toBeGreaterThanOrEqual(before + INVITATION_TTL_MS - 1000);
    expect(row!.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + INVITATION_TTL_MS + 1000);
    const [audit] = await auditRows("team.member_invited", row!.id);
    expect(audit).toMatchObject({ actorUserId: adminId, merchantId, targetType: "merchant_invitation", data: { email: "new.person@example.test", role: "merchant_viewer" } });
    const list = await callerFor(t.db, viewerId).team.list();
    expect(list.invitations.map((i) => i.email)).toContain("new.person@example.test");
  });

  it("refuses a second pending invitation for the same email (any case), an existing member, and bad input; writes nothing", async () => {
    await callerFor(t.db, adminId).team.invite({ email: "twice@example.test", role: "merchant_admin" });
    const n = await invitationCount();
    expect(await appCodeOfTrpc(callerFor(t.db, adminId).team.invite({ email: "TWICE@example.test", role: "merchant_viewer" }))).toBe("already_member");
    const [viewer] = await t.db.select({ email: users.email }).from(users).where(eq(users.id, viewerId));
    expect(await appCodeOfTrpc(callerFor(t.db, adminId).team.invite({ email: viewer!.email.toUpperCase(), role: "merchant_admin" }))).toBe("already_member");
    expect(await trpcErrorCode(callerFor(t.db, adminId).team.invite({ email: "not-an-email", role: "merchant_viewer" }))).toBe("BAD_REQUEST");
    expect(await trpcErrorCode(callerFor(t.db, adminId).team.invite({ email: `${"x".repeat(250)}@example.test`, role: "merchant_viewer" }))).toBe("BAD_REQUEST");
    expect(await trpcErrorCode(callerFor(t.db, adminId).team.invite({ email: "role@example.test", role: "owner" as "merchant_admin" }))).toBe("BAD_REQUEST");
    expect(await invitationCount()).toBe(n);
  });
});

describe("viewers", () => {
  it("see the team but every admin action is refused, and nothing is written", async () => {
    const viewer = callerFor(t.db, viewerId);
    const list = await viewer.team.list();
    expect(list.role).toBe("merchant_viewer");
    expect(list.members.map((m) => m.userId).sort()).toEqual([adminId, viewerId].sort());
    const { invitation } = await callerFor(t.db, adminId).team.invite({ email: "viewer-test@example.test", role: "merchant_viewer" });
    const n = await invitationCount();
    const auditsBefore = (await t.db.select({ n: count() }).from(auditLog))[0]!.n;
    expect(await trpcErrorCode(viewer.team.invite({ email: "sneaky@example.test", role: "merchant_admin" }))).toBe("FORBIDDEN");
    expect(await trpcErrorCode(viewer.team.resendInvitation({ invitationId: invitation.id }))).toBe("FORBIDDEN");
    expect(await trpcErrorCode(viewer.team.revokeInvitation({ invitationId: invitation.id }))).toBe("FORBIDDEN");
    expect(await trpcErrorCode(viewer.team.changeRole({ userId: viewerId, role: "merchant_admin" }))).toBe("FORBIDDEN");
    expect(await trpcErrorCode(viewer.team.removeMember({ userId: adminId }))).toBe("FORBIDDEN");
    expect(await invitationCount()).toBe(n);
    expect(await roleOf(viewerId)).toBe("merchant_viewer");
    expect(await roleOf(adminId)).toBe("merchant_admin");
    expect((await t.db.select({ n: count() }).from(auditLog))[0]!.n).toBe(auditsBefore);
    expect(await trpcErrorCode(callerFor(t.db, null).team.list())).toBe("UNAUTHORIZED");
  });
});

describe("another merchant's objects", () => {
  it("are not found: its invitations and its members", async () => {
    const { invitation } = await callerFor(t.db, otherAdminId).team.invite({ email: "theirs@example.test", role: "merchant_viewer" });
    const admin = callerFor(t.db, adminId);
    expect(await trpcErrorCode(admin.team.revokeInvitation({ invitationId: invitation.id }))).toBe("NOT_FOUND");
    expect(await trpcErrorCode(admin.team.resendInvitation({ invitationId: invitation.id }))).toBe("NOT_FOUND");
    expect(await trpcErrorCode(admin.team.changeRole({ userId: otherAdminId, role: "merchant_viewer" }))).toBe("NOT_FOUND");
    expect(await trpcErrorCode(admin.team.removeMember({ userId: otherAdminId }))).toBe("NOT_FOUND");
    expect(await roleOf(otherAdminId, otherMerchantId)).toBe("merchant_admin");
    const [row] = await t.db.select().from(merchantInvitations).where(eq(merchantInvitations.id, invitation.id));
    expect(row!.revokedAt).toBeNull();
    expect((await admin.team.list()).invitations.map((i) => i.email)).not.toContain("theirs@example.test");
  });
});

describe("resend and revoke", () => {
  it("resend issues a new token (the old link stops working) and a fresh expiry", async () => {
    const admin = callerFor(t.db, adminId);
    const first = await admin.team.invite({ email: "resend@example.test", role: "merchant_viewer" });
    await t.db.update(merchantInvitations).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(merchantInvitations.id, first.invitation.id));
    expect((await previewInvitation(t.db, { token: tokenOf(first.link), clientIp: nextIp() })).status).toBe("expired");
    const second = await admin.team.resendInvitation({ invitationId: first.invitation.id });
    expect(tokenOf(second.link)).not.toBe(tokenOf(first.link));
    expect((await previewInvitation(t.db, { token: tokenOf(first.link), clientIp: nextIp() })).status).toBe("unknown");
    expect(await previewInvitation(t.db, { token: tokenOf(second.link), clientIp: nextIp() })).toMatchObject({ status: "pending", merchantName: "Team Traders", role: "merchant_viewer", email: "resend@example.test", userExists: false });
    expect(second.invitation.expiresAt.getTime()).toBeGreaterThan(Date.now() + INVITATION_TTL_MS - 60_000);
    expect(await auditRows("team.invitation_resent", first.invitation.id)).toHaveLength(1);
  });

  it("revoke makes the link unusable, once", async () => {
    const admin = callerFor(t.db, adminId);
    const { invitation, link } = await admin.team.invite({ email: "revoke@example.test", role: "merchant_admin" });
    await admin.team.revokeInvitation({ invitationId: invitation.id });
    expect((await previewInvitation(t.db, { token: tokenOf(link), clientIp: nextIp() })).status).toBe("revoked");
    expect(await appCode(acceptInvitation(t.db, { token: tokenOf(link), clientIp: nextIp(), input: { kind: "new_user", name: "R", password: "a-good-password" } }))).toBe("invitation_unusable");
    expect(await appCodeOfTrpc(admin.team.revokeInvitation({ invitationId: invitation.id }))).toBe("invitation_unusable");
    expect(await appCodeOfTrpc(admin.team.resendInvitation({ invitationId: invitation.id }))).toBe("invitation_unusable");
    expect(await t.db.select().from(users).where(eq(users.email, "revoke@example.test"))).toHaveLength(0);
    expect(await auditRows("team.invitation_revoked", invitation.id)).toHaveLength(1);
    // A new invitation for the same email is allowed once the old one is revoked.
    await admin.team.invite({ email: "revoke@example.test", role: "merchant_viewer" });
  });
});

describe("accept", () => {
  it("as a new user: creates the user, the membership and accepts the invitation in one go; a second use is refused", async () => {
    const { invitation, link } = await callerFor(t.db, adminId).team.invite({ email: "Fresh@Example.test", role: "merchant_viewer" });
    const token = tokenOf(link);
    const accepted = await acceptInvitation(t.db, { token, clientIp: nextIp(), input: { kind: "new_user", name: "Fresh Person", password: "fresh-password-1" } });
    expect(accepted).toMatchObject({ email: "fresh@example.test", merchantId, role: "merchant_viewer" });
    const [user] = await t.db.select().from(users).where(eq(users.id, accepted.userId));
    expect(user).toMatchObject({ email: "fresh@example.test", name: "Fresh Person" });
    expect(await verifyPassword("fresh-password-1", user!.passwordHash!)).toBe(true);
    expect(await roleOf(accepted.userId)).toBe("merchant_viewer");
    const [row] = await t.db.select().from(merchantInvitations).where(eq(merchantInvitations.id, invitation.id));
    expect(row).toMatchObject({ acceptedByUserId: accepted.userId });
    expect(row!.acceptedAt).toBeInstanceOf(Date);
    const [audit] = await auditRows("team.invitation_accepted", invitation.id);
    expect(audit).toMatchObject({ actorUserId: accepted.userId, merchantId, data: { email: "fresh@example.test", role: "merchant_viewer", newUser: true } });
    expect((await previewInvitation(t.db, { token, clientIp: nextIp() })).status).toBe("accepted");
    expect(await appCode(acceptInvitation(t.db, { token, clientIp: nextIp(), input: { kind: "new_user", name: "Again", password: "fresh-password-2" } }))).toBe("invitation_unusable");
    // The new viewer sees the team and no admin action.
    const list = await callerFor(t.db, accepted.userId).team.list();
    expect(list.role).toBe("merchant_viewer");
    expect(await trpcErrorCode(callerFor(t.db, accepted.userId).team.invite({ email: "x@example.test", role: "merchant_viewer" }))).toBe("FORBIDDEN");
  });

  it("refuses a short password and an expired invitation, writing nothing", async () => {
    const admin = callerFor(t.db, adminId);
    const a = await admin.team.invite({ email: "short@example.test", role: "merchant_viewer" });
    expect(await appCode(acceptInvitation(t.db, { token: tokenOf(a.link), clientIp: nextIp(), input: { kind: "new_user", name: "S", password: "short" } }))).toBe("validation_failed");
    const b = await admin.team.invite({ email: "late@example.test", role: "merchant_viewer" });
    await t.db.update(merchantInvitations).set({ expiresAt: new Date(Date.now() - 1) }).where(eq(merchantInvitations.id, b.invitation.id));
    expect(await appCode(acceptInvitation(t.db, { token: tokenOf(b.link), clientIp: nextIp(), input: { kind: "new_user", name: "L", password: "late-password-1" } }))).toBe("invitation_unusable");
    expect(await t.db.select().from(users).where(eq(users.email, "short@example.test"))).toHaveLength(0);
    expect(await t.db.select().from(users).where(eq(users.email, "late@example.test"))).toHaveLength(0);
    expect(await appCode(acceptInvitation(t.db, { token: newInvitationToken(), clientIp: nextIp(), input: { kind: "new_user", name: "N", password: "nobody-password" } }))).toBe("not_found");
  });

  it("as an existing user (email matched case-insensitively): needs their password", async () => {
    const other = await createUser(t.db, { merchantId: otherMerchantId, role: "merchant_viewer" });
    await t.db.update(users).set({ passwordHash: await hashPassword("existing-password") }).where(eq(users.id, other.id));
    const { invitation, link } = await callerFor(t.db, adminId).team.invite({ email: other.email.toUpperCase(), role: "merchant_admin" });
    const token = tokenOf(link);
    expect(await previewInvitation(t.db, { token, clientIp: nextIp() })).toMatchObject({ status: "pending", userExists: true });
    expect(await appCode(acceptInvitation(t.db, { token, clientIp: nextIp(), input: { kind: "new_user", name: "Dup", password: "another-password" } }))).toBe("conflict");
    expect(await appCode(acceptInvitation(t.db, { token, clientIp: nextIp(), input: { kind: "existing_user", password: "wrong-password" } }))).toBe("unauthenticated");
    expect(await roleOf(other.id)).toBeUndefined();
    const accepted = await acceptInvitation(t.db, { token, clientIp: nextIp(), input: { kind: "existing_user", password: "existing-password" } });
    expect(accepted.userId).toBe(other.id);
    expect(await roleOf(other.id)).toBe("merchant_admin");
    expect(await roleOf(other.id, otherMerchantId)).toBe("merchant_viewer");
    expect((await auditRows("team.invitation_accepted", invitation.id))[0]!.data).toMatchObject({ newUser: false });
    // Demote them back so the last-admin tests below count admins as they expect.
    await callerFor(t.db, adminId).team.removeMember({ userId: other.id });
  });
});

describe("rate limits on invitation links", () => {
  it("per client IP, every lookup counts", async () => {
    const ip = "203.0.113.77";
    for (let i = 0; i < INVITE_LOOKUPS_PER_IP_PER_MIN; i++) await previewInvitation(t.db, { token: newInvitationToken(), clientIp: ip });
    expect(await appCode(previewInvitation(t.db, { token: newInvitationToken(), clientIp: ip }))).toBe("rate_limited");
  });

  it("site-wide, past the unknown-token ceiling unknown tokens are refused, but a valid token still works", async () => {
    const { link } = await callerFor(t.db, adminId).team.invite({ email: "ceiling@example.test", role: "merchant_viewer" });
    await consumeWindow(t.db, INVITE_MISS_WINDOW, INVITE_MISSES_PER_MIN);
    expect(await appCode(previewInvitation(t.db, { token: newInvitationToken(), clientIp: nextIp() }))).toBe("rate_limited");
    // Others' misses never lock a real invitee out (review: a flood of bad links blocked every invitation).
    expect((await previewInvitation(t.db, { token: tokenOf(link), clientIp: nextIp() })).status).toBe("pending");
    // A malformed token is no guess: not counted, just unknown.
    expect((await previewInvitation(t.db, { token: "x", clientIp: nextIp() })).status).toBe("unknown");
    await t.sql`delete from rate_limit_counters where bucket like 'invite_token_misses%'`;
  });

  it("an admin's pending invitations end when the admin is demoted or removed", async () => {
    const m = (await createMerchant(t.db)).id;
    const keeper = (await createUser(t.db, { merchantId: m, role: "merchant_admin" })).id;
    const leaving = (await createUser(t.db, { merchantId: m, role: "merchant_admin" })).id;
    const demoted = (await createUser(t.db, { merchantId: m, role: "merchant_admin" })).id;
    const { link: backdoor } = await callerFor(t.db, leaving).team.invite({ email: "leaving.alt@example.test", role: "merchant_admin" });
    const { link: second } = await callerFor(t.db, demoted).team.invite({ email: "demoted.alt@example.test", role: "merchant_admin" });
    const { link: kept } = await callerFor(t.db, keeper).team.invite({ email: "kept@example.test", role: "merchant_viewer" });
    await callerFor(t.db, keeper).team.removeMember({ userId: leaving });
    await callerFor(t.db, keeper).team.changeRole({ userId: demoted, role: "merchant_viewer" });
    expect((await previewInvitation(t.db, { token: tokenOf(backdoor), clientIp: nextIp() })).status).toBe("revoked");
    expect((await previewInvitation(t.db, { token: tokenOf(second), clientIp: nextIp() })).status).toBe("revoked");
    expect((await previewInvitation(t.db, { token: tokenOf(kept), clientIp: nextIp() })).status).toBe("pending");
    expect(await appCode(acceptInvitation(t.db, { token: tokenOf(backdoor), clientIp: nextIp(), input: { kind: "new_user", name: "Back", password: "a-good-password" } }))).toBe("invitation_unusable");
  });
});

describe("roles and removal", () => {
  it("changes a role with an audit row (from, to) and bumps the member's session epoch", async () => {
    const member = await createUser(t.db, { merchantId, role: "merchant_viewer" });
    await callerFor(t.db, adminId).team.changeRole({ userId: member.id, role: "merchant_admin" });
    expect(await roleOf(member.id)).toBe("merchant_admin");
    const [u] = await t.db.select({ epoch: users.sessionEpoch }).from(users).where(eq(users.id, member.id));
    expect(u!.epoch).toBe(member.sessionEpoch + 1);
    const [audit] = await auditRows("team.member_role_changed", member.id);
    expect(audit).toMatchObject({ actorUserId: adminId, merchantId, data: { role: { from: "merchant_viewer", to: "merchant_admin" } } });
    await callerFor(t.db, adminId).team.removeMember({ userId: member.id });
    expect(await roleOf(member.id)).toBeUndefined();
    expect(await auditRows("team.member_removed", member.id)).toHaveLength(1);
  });

  it("the last admin can neither demote nor remove themself; nothing is written", async () => {
    const m = (await createMerchant(t.db)).id;
    const solo = (await createUser(t.db, { merchantId: m, role: "merchant_admin" })).id;
    const admin = callerFor(t.db, solo, m);
    expect(await appCodeOfTrpc(admin.team.changeRole({ userId: solo, role: "merchant_viewer" }))).toBe("last_admin");
    expect(await appCodeOfTrpc(admin.team.removeMember({ userId: solo }))).toBe("last_admin");
    expect(await trpcErrorCode(admin.team.removeMember({ userId: solo }))).toBe("CONFLICT");
    expect(await roleOf(solo, m)).toBe("merchant_admin");
    expect(await t.db.select().from(auditLog).where(eq(auditLog.merchantId, m))).toHaveLength(0);
    // With a second admin, either may step down.
    const second = (await createUser(t.db, { merchantId: m, role: "merchant_admin" })).id;
    await admin.team.changeRole({ userId: solo, role: "merchant_viewer" });
    expect(await roleOf(solo, m)).toBe("merchant_viewer");
    // Now `second` is the last admin: nobody may remove or demote them (the demoted one is no admin any more).
    expect(await trpcErrorCode(callerFor(t.db, solo, m).team.removeMember({ userId: second }))).toBe("FORBIDDEN");
    expect(await appCodeOfTrpc(callerFor(t.db, second, m).team.removeMember({ userId: second }))).toBe("last_admin");
  });

  it("two concurrent demotions never leave a merchant without an admin", async () => {
    const ROUNDS = 8;
    const outcomes = await Promise.all(
      Array.from({ length: ROUNDS }, async (_, i) => {
        const m = (await createMerchant(t.db)).id;
        const a = (await createUser(t.db, { merchantId: m, role: "merchant_admin" })).id;
        const b = (await createUser(t.db, { merchantId: m, role: "merchant_admin" })).id;
        // Half the rounds: each demotes the other; half: each demotes themself.
        const [x, y] = i % 2 === 0 ? [b, a] : [a, b];
        const results = await Promise.allSettled([
          changeMemberRole(t.db, { merchantId: m, actorUserId: a, userId: x, role: "merchant_viewer" }),
          changeMemberRole(t.db, { merchantId: m, actorUserId: b, userId: y, role: "merchant_viewer" }),
        ]);
        const admins = await t.sql`select user_id from memberships where merchant_id = ${m} and role = 'merchant_admin'`;
        return { admins: admins.length, ok: results.filter((r) => r.status === "fulfilled").length, refused: results.flatMap((r) => (r.status === "rejected" ? [(r.reason as AppError).code] : [])) };
      }),
    );
    for (const o of outcomes) {
      expect(o.admins).toBe(1);
      expect(o.ok).toBe(1);
      expect(["last_admin", "forbidden"]).toContain(o.refused[0]);
    }
  });
});
