import { env } from "@/config/env.js";
import { createDb, type Db } from "./client";

// The app's process-wide pool. Created on first use so `next build` never needs a database.
let handle: ReturnType<typeof createDb> | undefined;

export function getDb(): Db {
  if (!handle) {
    if (!env.DATABASE_URL) {
      throw new Error(
        "DATABASE_URL is not set. Start the app with `npm run dev` (embedded Postgres) or set DATABASE_URL.",
      );
    }
    handle = createDb(env.DATABASE_URL);
  }
  return handle.db;
}
