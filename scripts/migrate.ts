// `npm run db:migrate`: applies the committed migrations to DATABASE_URL (production path).
import { env } from "../server/env.js";
import { runMigrations } from "../db/migrate";

if (!env.DATABASE_URL) {
  console.error("DATABASE_URL is not set (npm run dev migrates the embedded Postgres by itself)");
  process.exit(1);
}
await runMigrations(env.DATABASE_URL);
console.log("migrations applied");
