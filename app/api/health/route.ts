import { sql } from "drizzle-orm";
import { getDb } from "@/db";

// Public on purpose: liveness + database reachability for load balancers and the e2e harness.
export async function GET() {
  try {
    await getDb().execute(sql`select 1`);
    return Response.json({ ok: true });
  } catch {
    return Response.json({ ok: false, error: "database unreachable" }, { status: 503 });
  }
}
export const dynamic = "force-dynamic";
