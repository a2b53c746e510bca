import { env } from "@/server/env.js";
import { createTRPCRouter, merchantProcedure } from "@/server/trpc/init";
import { changeMemberRole, removeMember } from "./change-member";
import { inviteMember, type IssuedInvitation } from "./invite-member";
import { listTeam } from "./list-team";
import { resendInvitation, revokeInvitation } from "./manage-invitation";
import { ZChangeMemberRoleInputSchema, ZInvitationIdInputSchema, ZInviteMemberInputSchema, ZRemoveMemberInputSchema } from "./team.schema";

/** The link to show once: the app's origin and the accept path. */
const withLink = (issued: IssuedInvitation) => ({ invitation: issued.invitation, link: new URL(issued.path, env.APP_URL).toString() });

export const teamRouter = createTRPCRouter({
  /** Members and pending invitations of the active merchant: viewers may read it. */
  list: merchantProcedure("merchant_viewer").query(async ({ ctx }) => ({ ...(await listTeam(ctx.db, ctx.merchant.id)), you: ctx.userId, role: ctx.merchant.role })),
  invite: merchantProcedure("merchant_admin")
    .input(ZInviteMemberInputSchema)
    .mutation(async ({ ctx, input }) => withLink(await inviteMember(ctx.db, { merchantId: ctx.merchant.id, actorUserId: ctx.userId, input }))),
  resendInvitation: merchantProcedure("merchant_admin")
    .input(ZInvitationIdInputSchema)
    .mutation(async ({ ctx, input }) => withLink(await resendInvitation(ctx.db, { merchantId: ctx.merchant.id, actorUserId: ctx.userId, invitationId: input.invitationId }))),
  revokeInvitation: merchantProcedure("merchant_admin")
    .input(ZInvitationIdInputSchema)
    .mutation(({ ctx, input }) => revokeInvitation(ctx.db, { merchantId: ctx.merchant.id, actorUserId: ctx.userId, invitationId: input.invitationId })),
  changeRole: merchantProcedure("merchant_admin")
    .input(ZChangeMemberRoleInputSchema)
    .mutation(({ ctx, input }) => changeMemberRole(ctx.db, { merchantId: ctx.merchant.id, actorUserId: ctx.userId, ...input })),
  removeMember: merchantProcedure("merchant_admin")
    .input(ZRemoveMemberInputSchema)
    .mutation(({ ctx, input }) => removeMember(ctx.db, { merchantId: ctx.merchant.id, actorUserId: ctx.userId, userId: input.userId })),
});
