import { authedProcedure, createTRPCRouter } from "@/server/trpc/init";

export const authRouter = createTRPCRouter({
  /** The signed-in user and what they can reach (merchant memberships, ops). */
  whoami: authedProcedure.query(({ ctx }) => ({ ...ctx.access.user, memberships: ctx.access.memberships })),
});
