import { apiKeysRouter } from "@/server/api-keys/router";
import { apiLogRouter } from "@/server/api-log/router";
import { authRouter } from "@/server/auth/router";
import { disputesRouter } from "@/server/disputes/router";
import { merchantRouter } from "@/server/merchants/router";
import { doubleChargesRouter } from "@/server/ops/double-charges-router";
import { opsRouter } from "@/server/ops/router";
import { engineRunsRouter } from "@/server/ops/runs-router";
import { checkoutRouter } from "@/server/payments/checkout-router";
import { paymentsRouter } from "@/server/payments/router";
import { payoutsRouter } from "@/server/payouts/router";
import { reconciliationRouter } from "@/server/reconciliation/router";
import { refundsRouter } from "@/server/refunds/router";
import { riskRouter } from "@/server/risk/router";
import { teamRouter } from "@/server/team/router";
import { webhooksRouter } from "@/server/webhooks-out/router";
import { createCallerFactory, createTRPCRouter } from "./init";

export const appRouter = createTRPCRouter({
  auth: authRouter,
  merchant: merchantRouter,
  ops: opsRouter,
  engineRuns: engineRunsRouter,
  doubleCharges: doubleChargesRouter,
  apiKeys: apiKeysRouter,
  apiLog: apiLogRouter,
  payments: paymentsRouter,
  checkout: checkoutRouter,
  risk: riskRouter,
  team: teamRouter,
  webhooks: webhooksRouter,
  disputes: disputesRouter,
  refunds: refundsRouter,
  payouts: payoutsRouter,
  reconciliation: reconciliationRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
