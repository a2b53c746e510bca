import { authedProcedure, createTRPCRouter } from "@/server/trpc/init";
import { revokeUserSessions } from "./revoke-sessions";

export const authRouter = createTRPCRouter({
  /** The signed-in user and what they can reach (merchant memberships, ops). */
  whoami: authedProcedure.query(({ ctx }) => ({ ...ctx.access.user, memberships: ctx.access.memberships })),
  /** Sign out on every device, this one included: every session issued so far is refused from now on. */
  signOutEverywhere: authedProcedure.mutation(({ ctx }) => revokeUserSessions(ctx.db, { userId: ctx.userId, actorUserId: ctx.userId })),
});
