import type { Inngest } from "inngest";
import type { Db } from "@/db/client";
import type { ConnectorFor } from "@/server/psp";
import { settleDueOrders, SETTLEMENT_LIMIT_DEFAULT } from "@/server/payouts/settlement";
import { recordFailure } from "./exceptions";

// settle-orders (docs/payouts.md "Settlement"): every 10 minutes, successful payment orders whose funds the PSP made
// available (or whose fallback delay passed) move from the seller's pending to available balance. Each step settles
// up to SETTLEMENT_LIMIT_DEFAULT candidates and hands the next one on, at most SETTLE_STEPS_MAX steps per run; the
// rest waits for the next run. Idempotent (order_settlements' primary key), so a retried step or two overlapping
// runs settle each order once.

export const SETTLE_ORDERS_CRON = "TZ=UTC */10 * * * *";
export const SETTLE_ORDERS_RETRIES = 3;
/** Steps per run (each up to SETTLEMENT_LIMIT_DEFAULT orders examined). */
export const SETTLE_STEPS_MAX = 25;

export interface SettlementFunctionDeps {
  getDb: () => Db;
  connectorFor: ConnectorFor;
  /** Our clock for the fallback and M-Pesa delays (tests inject one); default the wall clock. */
  now?: () => Date;
  /** Default SETTLE_ORDERS_CRON (tests tick every second). */
  cron?: string;
}

export function createSettlementFunctions(client: Inngest, deps: SettlementFunctionDeps) {
  const settle = client.createFunction(
    {
      id: "settle-orders",
      retries: SETTLE_ORDERS_RETRIES,
      singleton: { mode: "skip" },
      onFailure: recordFailure(deps.getDb, "settle-orders"),
      triggers: [{ cron: deps.cron ?? SETTLE_ORDERS_CRON }],
    },
    async ({ step }) => {
      let after: string | undefined;
      let settled = 0;
      let waiting = 0;
      for (let i = 0; i < SETTLE_STEPS_MAX; i++) {
        const r = await step.run(`settle-${i}`, () => settleDueOrders(deps.getDb(), deps.connectorFor, { now: deps.now?.() ?? new Date(), limit: SETTLEMENT_LIMIT_DEFAULT, after }));
        settled += r.settled;
        waiting += r.waiting;
        if (!r.next) break;
        after = r.next;
      }
      return { settled, waiting };
    },
  );
  return [settle];
}
