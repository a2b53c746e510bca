import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "../db/embedded";
import { runMigrations } from "../db/migrate";

export const TEMPLATE_DB = "paybridge_test_template";

declare module "vitest" {
  export interface ProvidedContext {
    /** Maintenance URL of the test Postgres server; test/db.ts clones TEMPLATE_DB from it. */
    pgMaintenanceUrl: string;
    pgTemplateDb: string;
  }
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

export default async function setup(project: TestProject) {
  // TEST_DATABASE_URL: a real server you own (its maintenance db); otherwise a throwaway embedded one.
  const external = process.env.TEST_DATABASE_URL;
  let stop = async () => {};
  let maintenanceUrl: string;
  if (external) {
    maintenanceUrl = external;
  } else {
    const tmp = await mkdtemp(path.join(os.tmpdir(), "paybridge-test-pg-"));
    const pg = await startEmbeddedPostgres({ dir: path.join(tmp, "pg"), port: 55432, fast: true });
    maintenanceUrl = pg.url;
    stop = async () => {
      await pg.stop();
      await rm(tmp, { recursive: true, force: true });
    };
  }
  try {
    const admin = postgres(maintenanceUrl, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`drop database if exists ${TEMPLATE_DB} with (force)`);
      await admin.unsafe(`create database ${TEMPLATE_DB}`);
    } finally {
      await admin.end();
    }
    await runMigrations(withDatabase(maintenanceUrl, TEMPLATE_DB));
  } catch (err) {
    await stop();
    throw err;
  }
  project.provide("pgMaintenanceUrl", maintenanceUrl);
  project.provide("pgTemplateDb", TEMPLATE_DB);
  return stop;
}
