/**
 * `npm run ledger:check` — prints any drift between materialized balances and the sum of entries, any
 * unbalanced transaction, any no-negative account below zero and any hold mismatch, then the reconciliation
 * invariants (server/reconciliation/invariants.ts: one posting per SUCCESS order and succeeded refund, no stale
 * hold, PSP clearing == what the PSP reported), read only: nothing is recorded. Exit 1 on any breach, 0 when OK.
 */
import { checkLedgerInvariants, formatInvariantReport } from "../server/ledger";
import { formatInvariantChecks, runInvariants } from "../server/reconciliation/invariants";
import { withLedgerDb } from "./ledger-db";

withLedgerDb(async (db) => {
  const report = await checkLedgerInvariants(db);
  const recon = await runInvariants(db, { record: false });
  return { report, recon };
}).then(
  ({ report, recon }) => {
    console.log(formatInvariantReport(report));
    console.log("reconciliation invariants:");
    console.log(formatInvariantChecks(recon.checks));
    process.exit(report.ok && recon.checks.every((c) => c.ok) ? 0 : 1);
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  },
);
