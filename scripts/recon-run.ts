/**
 * `npm run recon:run [-- --import] [-- --as-of ISO]` — one reconciliation run on the app's database (DATABASE_URL,
 * else the embedded dev Postgres): with --import, first the Stripe API window since the last completed one (as the
 * hourly cron does); then the matcher and the invariants. Prints the counts; exit 1 when cases are open or an
 * invariant is breached, 0 otherwise.
 */
import { importStripeBalanceTransactions } from "../server/reconciliation/imports";
import { formatInvariantChecks } from "../server/reconciliation/invariants";
import { nextStripeWindow, runReconciliation } from "../server/reconciliation/run";
import { argValue, withLedgerDb } from "./ledger-db";

withLedgerDb(async (db) => {
  const asOfArg = argValue("--as-of");
  const asOf = asOfArg ? new Date(asOfArg) : new Date();
  if (Number.isNaN(asOf.getTime())) throw new Error(`--as-of ${asOfArg}: not a date`);
  if (process.argv.includes("--import")) {
    const window = await nextStripeWindow(db, asOf);
    if (window) {
      const imp = await importStripeBalanceTransactions(db, window);
      console.log(`imported Stripe ${window.from.toISOString()} – ${window.to.toISOString()}: ${imp.rowsSeen} rows seen, ${imp.rowsAdded} added`);
    } else console.log("Stripe API: nothing new to import");
  }
  const t0 = Date.now();
  const r = await runReconciliation(db, { asOf, label: "recon:run" });
  console.log(`matched ${r.matchedRows}/${r.rows} rows against ${r.expected} expected movements in ${Date.now() - t0} ms`);
  console.log(`cases: ${r.opened} opened, ${r.reopened} re-opened, ${r.resolved} resolved, ${r.open} open; ${r.canceledAdjustments} pending adjustment(s) canceled`);
  console.log(formatInvariantChecks(r.invariants));
  return r.open === 0 && r.invariants.every((c) => c.ok);
}).then(
  (ok) => process.exit(ok ? 0 : 1),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  },
);
