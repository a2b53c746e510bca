import type { Inngest } from "inngest";
import type { Db } from "@/db/client";
import { createDuePayouts } from "@/server/payouts/build";
import { payoutsScheduleRequested } from "../payout-events";
import { recordFailure } from "./exceptions";

/** Every 15 minutes: the payouts due now (server/payouts/build.ts; schedules in each merchant's time zone). */
export const CREATE_DUE_PAYOUTS_CRON = "*/15 * * * *";
export const CREATE_DUE_PAYOUTS_RETRIES = 3;

/**
 * create-due-payouts: the cron, and payouts/schedule.requested (ops, tests). A repeated or concurrent run is
 * harmless (one payout per seller, currency and period: the idempotency key under lockSellerFunds); `skip`
 * only saves the work.
 */
export function createPayoutScheduleFunctions(client: Inngest, deps: { getDb: () => Db; now?: () => Date; cron?: string }) {
  const run = client.createFunction(
    {
      id: "create-due-payouts",
      retries: CREATE_DUE_PAYOUTS_RETRIES,
      singleton: { mode: "skip" },
      onFailure: recordFailure(deps.getDb, "create-due-payouts"),
      triggers: [{ cron: deps.cron ?? CREATE_DUE_PAYOUTS_CRON }, { event: payoutsScheduleRequested }],
    },
    async ({ step }) =>
      step.run("create-due-payouts", async () => {
        const r = await createDuePayouts(deps.getDb(), { now: deps.now?.() });
        return { created: r.created.length, skipped: r.skipped, payoutIds: r.created.slice(0, 100).map((p) => p.id) };
      }),
  );
  return [run];
}
