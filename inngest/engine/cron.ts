import { and, eq, lte, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { engineCrons } from "@/db/schema";
import { INTERNAL_EVENT } from "./protocol";
import type { FunctionRegistry } from "./registry";
import { nextCronTime } from "./registry";
import { createRun } from "./runs";

// Cron triggers fire once per tick across every engine process: the tick runs under a transaction-level
// advisory lock (the leader is whoever holds it), and a tick's run and the schedule's advance commit together.

const CRON_LEADER_LOCK = 727_275;
const CRON_BATCH_MAX = 100;

export async function fireDueCrons(db: Db, registry: FunctionRegistry): Promise<number> {
  return db.transaction(async (tx) => {
    const [lock] = await tx.execute<{ ok: boolean }>(sql`select pg_try_advisory_xact_lock(${CRON_LEADER_LOCK}) as ok`);
    if (!lock?.ok) return 0;
    const due = await tx.select().from(engineCrons).where(lte(engineCrons.nextAt, new Date())).limit(CRON_BATCH_MAX).for("update");
    let fired = 0;
    for (const c of due) {
      const fn = await registry.get(c.functionId);
      const next = nextCronTime(c.schedule, new Date(Math.max(Date.now(), c.nextAt.getTime())));
      if (fn) {
        const event = { id: `cron:${c.functionId}:${c.nextAt.toISOString()}`, name: INTERNAL_EVENT.scheduledTimer, data: { cron: c.schedule }, ts: c.nextAt.getTime() };
        if (await createRun(tx, fn, event)) fired++;
      }
      const where = and(eq(engineCrons.functionId, c.functionId), eq(engineCrons.schedule, c.schedule));
      if (next) await tx.update(engineCrons).set({ nextAt: next }).where(where);
      else await tx.delete(engineCrons).where(where);
    }
    return fired;
  });
}
