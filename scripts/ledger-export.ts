/**
 * `npm run ledger:export -- --merchant <id> [--format json|csv] [--out file] [--from ISO] [--to ISO]`
 * Writes a merchant's statement with its hashes; `npm run ledger:verify -- --file <file>` checks it offline.
 */
import { writeFile } from "node:fs/promises";
import { exportStatement, statementToCsv } from "../server/ledger";
import { argValue, withLedgerDb } from "./ledger-db";

async function main(): Promise<void> {
  const ledger = argValue("--merchant") ?? argValue("--ledger");
  if (!ledger) throw new Error("usage: ledger:export -- --merchant <merchant id> [--format json|csv] [--out file] [--from ISO] [--to ISO]");
  const from = argValue("--from");
  const to = argValue("--to");
  const statement = await withLedgerDb((db) => exportStatement(db, { ledger, from: from ? new Date(from) : undefined, to: to ? new Date(to) : undefined }));
  const text = argValue("--format") === "csv" ? statementToCsv(statement) : `${JSON.stringify(statement, null, 2)}\n`;
  const out = argValue("--out");
  if (out) {
    await writeFile(out, text);
    console.error(`wrote ${statement.transactions.length} transactions to ${out}`);
  } else {
    process.stdout.write(text);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(2);
});
