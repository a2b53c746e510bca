/**
 * `npm run ledger:check` — prints any drift between materialized balances and the sum of entries, any
 * unbalanced transaction, any no-negative account below zero and any hold mismatch (exit 1), or OK (exit 0).
 */
import { checkLedgerInvariants, formatInvariantReport } from "../server/ledger";
import { withLedgerDb } from "./ledger-db";

withLedgerDb((db) => checkLedgerInvariants(db)).then(
  (report) => {
    console.log(formatInvariantReport(report));
    process.exit(report.ok ? 0 : 1);
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  },
);
