import type { Inngest } from "inngest";
import type { Db } from "@/db/client";
import { importStripeBalanceTransactions } from "@/server/reconciliation/imports";
import { nextStripeWindow, runReconciliation } from "@/server/reconciliation/run";
import type { StripeConnector } from "@/server/psp/stripe/connector";
import { reconciliationRunRequested } from "../events";
import { recordRunFailure, type LifecycleEventData } from "./exceptions";

// reconcile (docs/reconciliation.md): hourly, and on `reconciliation/run.requested` (ops' "run now"): imports the
// Stripe balance transactions since the last completed API window (the watermark; the first run reaches back
// FIRST_WINDOW_MS) up to now - IMPORT_LAG_MS, then runs the matcher and the invariants. Re-runs are harmless: a
// completed window is not imported twice, the matcher is idempotent, and runReconciliation takes the lock.

export const RECONCILE_CRON = "TZ=UTC 7 * * * *";
export const RECONCILE_RETRIES = 2;
export const RECONCILE_FUNCTION_ID = "reconcile" as const;

export interface ReconciliationFunctionDeps {
  getDb: () => Db;
  /** The Stripe connector to import through (tests: one on the sandbox); default the app's. */
  stripeFor?: (db: Db) => StripeConnector;
  now?: () => Date;
  /** Default RECONCILE_CRON (tests: one that never fires). */
  cron?: string;
}

export function createReconciliationFunctions(client: Inngest, deps: ReconciliationFunctionDeps) {
  const reconcile = client.createFunction(
    {
      id: RECONCILE_FUNCTION_ID,
      retries: RECONCILE_RETRIES,
      singleton: { mode: "skip" },
      onFailure: (args) => recordRunFailure(deps.getDb(), RECONCILE_FUNCTION_ID, args as { event: { data: LifecycleEventData }; error?: unknown }),
      triggers: [{ cron: deps.cron ?? RECONCILE_CRON }, { event: reconciliationRunRequested }],
    },
    async ({ step }) => {
      const imported = await step.run("import-stripe", async () => {
        const db = deps.getDb();
        const window = await nextStripeWindow(db, deps.now?.() ?? new Date());
        if (!window) return null;
        const r = await importStripeBalanceTransactions(db, window, deps.stripeFor ? { stripe: deps.stripeFor(db) } : {});
        return { from: window.from.toISOString(), to: window.to.toISOString(), rowsSeen: r.rowsSeen, rowsAdded: r.rowsAdded, alreadyImported: r.alreadyImported };
      });
      const result = await step.run("match", async () => {
        const r = await runReconciliation(deps.getDb(), { asOf: deps.now?.() ?? new Date(), label: "cron" });
        return { ...r, invariants: r.invariants.map((c) => ({ name: c.name, ok: c.ok, breaches: c.breaches })) };
      });
      return { imported, result };
    },
  );
  return [reconcile];
}
