/**
 * `npm run ledger:check` — prints any drift between materialized balances and their entries, any unbalanced
 * transaction, any no-negative account below zero, any hold mismatch, any wrong balance snapshot and any transaction
 * whose id time is far from its posted_at, then the reconciliation invariants (server/reconciliation/invariants.ts:
 * one posting per SUCCESS order and succeeded refund, no stale hold, PSP clearing == what the PSP reported), read only
 * except for its own ledger_check_runs row. Exit 1 on any breach, 0 when OK.
 *   (default)   incremental: balances against the latest snapshot + later entries, transactions and snapshot runs
 *               since the previous OK run (docs/ledger.md, "Invariant check")
 *   --full      every balance from all entries, every transaction, order and snapshot run
 */
import { checkLedgerInvariants, formatCheckThroughput, formatInvariantReport, recordLedgerCheckRun } from "../server/ledger";
import { formatInvariantChecks, runInvariants } from "../server/reconciliation/invariants";
import { withLedgerDb } from "./ledger-db";

withLedgerDb(async (db) => {
  const report = await checkLedgerInvariants(db, { full: process.argv.includes("--full") });
  await recordLedgerCheckRun(db, report);
  const recon = await runInvariants(db, { record: false });
  return { report, recon };
}).then(
  ({ report, recon }) => {
    console.log(formatInvariantReport(report));
    console.log(formatCheckThroughput(report));
    console.log("reconciliation invariants:");
    console.log(formatInvariantChecks(recon.checks));
    process.exit(report.ok && recon.checks.every((c) => c.ok) ? 0 : 1);
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  },
);
