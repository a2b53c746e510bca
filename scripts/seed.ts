// `npm run db:seed`: seeds the demo tenant into DATABASE_URL (idempotent).
import { env } from "../server/env.js";
import { createDb } from "../db/client";
import { seedDemo } from "./seed-demo";

if (!env.DATABASE_URL) {
  console.error("DATABASE_URL is not set (npm run dev seeds the embedded Postgres by itself)");
  process.exit(1);
}
const handle = createDb(env.DATABASE_URL, { max: 1 });
try {
  const { created } = await seedDemo(handle.db);
  console.log(created ? "demo tenant seeded" : "demo tenant already present");
} finally {
  await handle.close();
}
