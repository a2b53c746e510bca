// Liveness beats of background processes (process_heartbeats): written by the process itself, read by
// /api/health. The beat uses the database clock, so the age read back is free of clock skew between hosts.
import { randomBytes } from "node:crypto";
import os from "node:os";
import { and, eq, lt, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { processHeartbeats } from "@/db/schema";

export const HEARTBEAT_INTERVAL_MS = 5_000;
/** A process whose freshest beat is older than this is reported down. */
export const HEARTBEAT_STALE_S = 20;
/** Rows of instances gone this long are deleted by the next beat of the same process name. */
export const HEARTBEAT_PRUNE_AFTER_S = 24 * 3600;

export const DISPATCHER_HEARTBEAT = "outbox-dispatcher";

export function newInstanceId(): string {
  return `${os.hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
}

export async function writeHeartbeat(db: Db, name: string, instanceId: string): Promise<void> {
  await db
    .insert(processHeartbeats)
    .values({ name, instanceId })
    .onConflictDoUpdate({ target: [processHeartbeats.name, processHeartbeats.instanceId], set: { beatAt: sql`now()` } });
}

export async function pruneHeartbeats(db: Db, name: string): Promise<void> {
  await db.delete(processHeartbeats).where(and(eq(processHeartbeats.name, name), lt(processHeartbeats.beatAt, sql`now() - make_interval(secs => ${HEARTBEAT_PRUNE_AFTER_S})`)));
}
