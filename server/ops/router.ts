import { createTRPCRouter, opsProcedure } from "@/server/trpc/init";
import { getPlatformOverview } from "./get-platform-overview";

export const opsRouter = createTRPCRouter({
  overview: opsProcedure.query(async ({ ctx }) => ({ ...(await getPlatformOverview(ctx.db)), user: ctx.access.user })),
});
