/**
 * `npm run ledger:verify` — walks the ledger hash chains in the database and names the first broken
 * transaction (exit 1), or says how many verified (exit 0). By default each chain stripe is walked from its verified
 * checkpoint (only what was posted since the last run); the checkpoints of the stripes that verified then move up.
 *   --full                              walk every stripe from genesis and rewrite the checkpoints (run it weekly:
 *                                       an incremental run trusts what earlier runs verified)
 *   --ledger <merchant id | platform>   only that ledger
 *   --file <statement.json|.csv>        verify an exported merchant statement offline (no database)
 */
import { readFile } from "node:fs/promises";
import { formatVerifyReport, formatVerifyThroughput, verifyLedger, type VerifyReport } from "../server/ledger";
import { parseStatement, verifyStatement } from "../server/ledger/statement";
import { argValue, withLedgerDb } from "./ledger-db";

async function main(): Promise<number> {
  const file = argValue("--file");
  let report: VerifyReport;
  if (file) {
    const statement = parseStatement(await readFile(file, "utf8"));
    report = verifyStatement(statement);
    console.log(`statement of ledger ${statement.ledger} exported ${statement.exportedAt}${statement.range ? ` (range ${statement.range.from ?? "…"} to ${statement.range.to ?? "…"})` : ""}`);
    if (statement.heads.length > 0) console.log(`chain heads (compare with ones you saved): ${statement.heads.map((h) => `${h.stripe}:${h.seq}:${h.hash.slice(0, 16)}`).join(" ")}`);
  } else {
    report = await withLedgerDb((db) => verifyLedger(db, { ledger: argValue("--ledger"), full: process.argv.includes("--full") }));
  }
  console.log(formatVerifyReport(report));
  const throughput = formatVerifyThroughput(report);
  if (throughput) console.log(throughput);
  return report.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  },
);
