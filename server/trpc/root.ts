import { authRouter } from "@/server/auth/router";
import { merchantRouter } from "@/server/merchants/router";
import { opsRouter } from "@/server/ops/router";
import { createCallerFactory, createTRPCRouter } from "./init";

export const appRouter = createTRPCRouter({
  auth: authRouter,
  merchant: merchantRouter,
  ops: opsRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
