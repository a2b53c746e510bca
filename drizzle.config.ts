import { defineConfig } from "drizzle-kit";

// `npm run db:generate` turns db/schema/*.ts into SQL migrations under db/migrations (committed).
// Generation needs no database; migrations are applied by scripts/migrate.ts (and by `npm run dev`).
export default defineConfig({
  dialect: "postgresql",
  schema: "./db/schema/index.ts",
  out: "./db/migrations",
  strict: true,
  verbose: true,
});
