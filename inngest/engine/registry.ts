import { Cron } from "croner";
import { and, eq, notInArray } from "drizzle-orm";
import type { Db, DbOrTx } from "@/db/client";
import { engineApps, engineCrons, engineFunctions } from "@/db/schema";
import { validateFunctionConfig, type FunctionDef } from "./config";

// Registered apps and functions. A sync replaces an app's function list atomically; a sync with any
// unsupported config is refused whole, with every problem listed.

export const FUNCTION_CACHE_TTL_MS = 1000;

export class RegistrationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Inngest sync refused by the local engine:\n  - ${problems.join("\n  - ")}`);
    this.name = "RegistrationError";
  }
}

export interface SyncPayload {
  appId: string;
  url: string;
  sdk?: string;
  functions: unknown[];
}

export function parseCronSchedule(schedule: string): { pattern: string; timezone?: string } {
  const tz = schedule.match(/^TZ=(\S+)\s+/);
  return { pattern: tz ? schedule.slice(tz[0].length) : schedule, timezone: tz?.[1] };
}

export function nextCronTime(schedule: string, after: Date): Date | null {
  const { pattern, timezone } = parseCronSchedule(schedule);
  return new Cron(pattern, { paused: true, timezone }).nextRun(after);
}

export async function registerApp(db: Db, payload: SyncPayload): Promise<FunctionDef[]> {
  const results = payload.functions.map(validateFunctionConfig);
  const problems = results.flatMap((r) => (r.ok ? [] : r.problems));
  if (problems.length > 0) throw new RegistrationError(problems);
  const fns = results.flatMap((r) => (r.ok ? [r.fn] : []));
  await db.transaction(async (tx) => {
    await tx
      .insert(engineApps)
      .values({ id: payload.appId, url: payload.url, sdk: payload.sdk ?? null })
      .onConflictDoUpdate({ target: engineApps.id, set: { url: payload.url, sdk: payload.sdk ?? null, syncedAt: new Date() } });
    for (const fn of fns) {
      const row = { appId: payload.appId, name: fn.name, url: fn.url, config: fn as unknown as Record<string, unknown>, active: 1 };
      await tx.insert(engineFunctions).values({ id: fn.id, ...row }).onConflictDoUpdate({ target: engineFunctions.id, set: row });
      await syncCrons(tx, fn);
    }
    const ids = fns.map((f) => f.id);
    const stale = and(eq(engineFunctions.appId, payload.appId), ids.length ? notInArray(engineFunctions.id, ids) : undefined);
    await tx.update(engineFunctions).set({ active: 0 }).where(stale);
  });
  return fns;
}

async function syncCrons(tx: DbOrTx, fn: FunctionDef): Promise<void> {
  const schedules = fn.triggers.flatMap((t) => (t.cron ? [t.cron] : []));
  await tx
    .delete(engineCrons)
    .where(and(eq(engineCrons.functionId, fn.id), schedules.length ? notInArray(engineCrons.schedule, schedules) : undefined));
  for (const schedule of schedules) {
    const nextAt = nextCronTime(schedule, new Date());
    if (nextAt) await tx.insert(engineCrons).values({ functionId: fn.id, schedule, nextAt }).onConflictDoNothing();
  }
}

/** Active functions, cached briefly: intake and the worker read them on every event and job. */
/** Active functions straight from the table (the registry caches this; intake inside a transaction reads it uncached). */
export async function activeFunctions(db: DbOrTx): Promise<Map<string, FunctionDef>> {
  const rows = await db.select({ config: engineFunctions.config }).from(engineFunctions).where(eq(engineFunctions.active, 1));
  return new Map(rows.map((r) => [(r.config as unknown as FunctionDef).id, r.config as unknown as FunctionDef]));
}

export class FunctionRegistry {
  private cache: { at: number; byId: Map<string, FunctionDef> } | null = null;

  constructor(private readonly db: Db) {}

  invalidate(): void {
    this.cache = null;
  }

  async all(): Promise<Map<string, FunctionDef>> {
    if (this.cache && Date.now() - this.cache.at < FUNCTION_CACHE_TTL_MS) return this.cache.byId;
    const byId = await activeFunctions(this.db);
    this.cache = { at: Date.now(), byId };
    return byId;
  }

  async get(id: string): Promise<FunctionDef | undefined> {
    const hit = (await this.all()).get(id);
    if (hit) return hit;
    // Inactive functions still finish their runs: read straight from the table.
    const rows = await this.db.select({ config: engineFunctions.config }).from(engineFunctions).where(eq(engineFunctions.id, id));
    return rows[0]?.config as unknown as FunctionDef | undefined;
  }
}
