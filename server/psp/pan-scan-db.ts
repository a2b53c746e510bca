// Scans every table of a database schema for card numbers (pan-scan.ts). Tests and the checkout e2e use
// it to prove that no PAN was ever stored by the platform.
import type postgres from "postgres";
import { findPans } from "./pan-scan";

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

export interface PanHit {
  table: string;
  pans: string[];
}

export async function findPansInDatabase(sql: postgres.Sql, schema = "public"): Promise<PanHit[]> {
  const tables = await sql<{ table_name: string }[]>`select table_name from information_schema.tables where table_schema = ${schema} and table_type = 'BASE TABLE' order by table_name`;
  const hits: PanHit[] = [];
  for (const { table_name } of tables) {
    const rows = await sql.unsafe(`select t::text as row from ${quoteIdent(schema)}.${quoteIdent(table_name)} t`);
    const pans = rows.flatMap((r) => findPans(String(r.row)));
    if (pans.length) hits.push({ table: table_name, pans });
  }
  return hits;
}
