import type { Inngest } from "inngest";
import type { Db } from "@/db/client";
import { sweepAll } from "@/server/maintenance/sweep";
import type { ConnectorFor } from "@/server/payments/execution";
import { recordFailure } from "./exceptions";

/** Hourly: expired idempotency records, old rate-limit windows, unpaid checkouts (server/maintenance). */
export const HOUSEKEEPING_CRON = "TZ=Africa/Nairobi 17 * * * *";

export function createHousekeeping(client: Inngest, deps: { getDb: () => Db; connectorFor?: ConnectorFor }) {
  return client.createFunction({ id: "housekeeping", retries: 3, triggers: [{ cron: HOUSEKEEPING_CRON }], onFailure: recordFailure(deps.getDb, "housekeeping") }, async ({ step }) =>
    step.run("sweep", () => sweepAll(deps.getDb(), { connectorFor: deps.connectorFor })),
  );
}
