import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { inject } from "vitest";
import { createDb, type Db } from "@/db/client";

// Each integration test file gets a fresh database cloned from the migrated template: real Postgres,
// real constraints and triggers, no state shared between files.

export interface TestDatabase {
  db: Db;
  url: string;
  /** A raw postgres.js client on the same database, for SQL the app would never run (tamper tests). */
  sql: postgres.Sql;
  drop: () => Promise<void>;
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const maintenanceUrl = inject("pgMaintenanceUrl");
  const template = inject("pgTemplateDb");
  const name = `t_${randomBytes(6).toString("hex")}`;
  const admin = postgres(maintenanceUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name} template ${template}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(maintenanceUrl, name);
  const handle = createDb(url);
  const sql = postgres(url, { max: 2, onnotice: () => {}, types: { bigint: postgres.BigInt } });
  return {
    db: handle.db,
    url,
    sql,
    drop: async () => {
      await handle.close();
      await sql.end({ timeout: 5 });
      const a = postgres(maintenanceUrl, { max: 1, onnotice: () => {} });
      try {
        await a.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await a.end();
      }
    },
  };
}

/**
 * Route handlers read server/env.js once, at their first import: call this before importing them so their
 * getDb() uses this test's database (and any other variable given, such as AUTH_SECRET).
 */
export function pointRoutesAt(t: Pick<TestDatabase, "url">, vars: Record<string, string> = {}): void {
  Object.assign(process.env, { DATABASE_URL: t.url, ...vars });
}
