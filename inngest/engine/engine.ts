import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { createDb } from "@/db/client";
import { fireDueCrons } from "./cron";
import { claimJobs, processJob, type ExecutorOptions, type JobRow } from "./executor";
import { idsFromSeed, newUlid } from "./ids";
import { ingestEvent, type IncomingEvent } from "./intake";
import { canonicalJson, HEADER, signBody, verifyBodySignature } from "./protocol";
import { FunctionRegistry, registerApp, RegistrationError, type SyncPayload } from "./registry";
import { inngestBackoff, type BackoffFn } from "./time";
import type { Transport } from "./transport";

// The local Inngest-protocol engine: event intake, registration, and the worker loop that drives runs.
// State is in Postgres only; any number of engine processes may share a database.

export const DEFAULT_WORKER_CONCURRENCY = 8;
export const DEFAULT_CALL_TIMEOUT_MS = 60_000;
export const DEFAULT_LEASE_MARGIN_MS = 30_000;
export const DEFAULT_POLL_MS = 200;
export const CRON_TICK_MS = 1000;
export const MAX_EVENTS_PER_SEND = 500;
/** Expired dedupe keys are pruned in batches from the cron loop, so the table stays at ~24 h of keys. */
export const DEDUPE_PRUNE_BATCH = 1000;

export interface EngineOptions {
  databaseUrl?: string;
  db?: Db;
  transport: Transport;
  /** When set, requests to the app are signed and /fn/register requires it; /e/:key requires eventKey. */
  signingKey?: string;
  eventKey?: string;
  backoff?: BackoffFn;
  callTimeoutMs?: number;
  leaseMs?: number;
  pollMs?: number;
  concurrency?: number;
  log?: (msg: string) => void;
}

export class Engine {
  readonly db: Db;
  readonly registry: FunctionRegistry;
  private readonly exec: ExecutorOptions;
  private readonly closeDb: () => Promise<void>;
  private readonly inflight = new Set<Promise<void>>();
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  private cronDone: Promise<void> = Promise.resolve();
  private wakeUp: (() => void) | null = null;

  constructor(private readonly opts: EngineOptions) {
    if (opts.db) {
      this.db = opts.db;
      this.closeDb = async () => {};
    } else {
      if (!opts.databaseUrl) throw new Error("startEngine needs databaseUrl or db");
      const handle = createDb(opts.databaseUrl, { max: (opts.concurrency ?? DEFAULT_WORKER_CONCURRENCY) + 4 });
      this.db = handle.db;
      this.closeDb = handle.close;
    }
    this.registry = new FunctionRegistry(this.db);
    const callTimeoutMs = opts.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.exec = {
      db: this.db,
      transport: opts.transport,
      registry: this.registry,
      backoff: opts.backoff ?? inngestBackoff,
      callTimeoutMs,
      leaseMs: opts.leaseMs ?? callTimeoutMs + DEFAULT_LEASE_MARGIN_MS,
      signingKey: opts.signingKey,
      log: opts.log ?? (() => {}),
    };
    if (this.exec.leaseMs <= callTimeoutMs) throw new Error("leaseMs must exceed callTimeoutMs, or a slow call would run twice");
  }

  get signingKey(): string | undefined {
    return this.opts.signingKey;
  }
  get eventKey(): string | undefined {
    return this.opts.eventKey;
  }

  /** Takes in events as `POST /e/:key` does; ids derive from the SDK's seed so a resend is a no-op. */
  async sendEvents(events: IncomingEvent[], seed: string | null = null): Promise<string[]> {
    if (events.length > MAX_EVENTS_PER_SEND) throw new Error(`At most ${MAX_EVENTS_PER_SEND} events per send`);
    const ids = idsFromSeed(seed, events.length) ?? events.map(() => newUlid());
    const functions = await this.registry.all();
    await this.db.transaction(async (tx) => {
      for (const [i, e] of events.entries()) await ingestEvent(tx, functions, e, ids[i]);
    });
    this.wake();
    return ids;
  }

  async register(payload: SyncPayload): Promise<void> {
    await registerApp(this.db, payload);
    this.registry.invalidate();
  }

  /** In-band sync: asks the app (PUT, x-inngest-sync-kind: in_band) for its functions and registers them. */
  async syncApp(appUrl: string): Promise<number> {
    const body = canonicalJson({ url: appUrl });
    const headers: Record<string, string> = { "content-type": "application/json", [HEADER.syncKind]: "in_band", [HEADER.serverKind]: "dev" };
    if (this.opts.signingKey) headers[HEADER.signature] = signBody(body, this.opts.signingKey, Date.now());
    const res = await this.opts.transport.send({ url: appUrl, method: "PUT", headers, body, timeoutMs: this.exec.callTimeoutMs });
    if (res.status !== 200) throw new Error(`Sync of ${appUrl} failed: HTTP ${res.status} ${res.body.slice(0, 500)}`);
    if (this.opts.signingKey && !verifyBodySignature(res.body, res.headers.get(HEADER.signature), this.opts.signingKey, Date.now())) {
      throw new Error(`Sync of ${appUrl} refused: the answer is not signed with the signing key`);
    }
    const parsed = JSON.parse(res.body) as { app_id: string; url: string; sdk?: string; functions: unknown[] };
    await this.register({ appId: parsed.app_id, url: parsed.url, sdk: parsed.sdk, functions: parsed.functions ?? [] });
    return parsed.functions.length;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.workLoop();
    this.cronDone = this.cronLoop();
  }

  wake(): void {
    this.wakeUp?.();
  }

  /** Processes due jobs until none is left (tests that drive the engine step by step). */
  async drain(maxJobs = 10_000): Promise<number> {
    let done = 0;
    while (done < maxJobs) {
      const jobs = await claimJobs(this.exec, 8);
      if (jobs.length === 0) return done;
      await Promise.all(jobs.map((j) => processJob(this.exec, j)));
      done += jobs.length;
    }
    return done;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await Promise.all([this.loopDone, this.cronDone]);
    await Promise.allSettled([...this.inflight]);
    await this.closeDb();
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }

  private async workLoop(): Promise<void> {
    const max = this.opts.concurrency ?? DEFAULT_WORKER_CONCURRENCY;
    while (this.running) {
      let jobs: JobRow[] = [];
      const free = max - this.inflight.size;
      if (free > 0) {
        try {
          jobs = await claimJobs(this.exec, free);
        } catch (e) {
          this.exec.log(`[engine] claiming jobs failed: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      for (const job of jobs) this.track(job);
      if (jobs.length === 0 || this.inflight.size >= max) await this.idle(this.opts.pollMs ?? DEFAULT_POLL_MS);
    }
  }

  private track(job: JobRow): void {
    const p = processJob(this.exec, job)
      .catch((e) => this.exec.log(`[engine] job ${job.id} (${job.kind}) failed: ${e instanceof Error ? e.stack : String(e)}`))
      .finally(() => {
        this.inflight.delete(p);
        this.wake();
      });
    this.inflight.add(p);
  }

  private async cronLoop(): Promise<void> {
    while (this.running) {
      try {
        if ((await fireDueCrons(this.db, this.registry)) > 0) this.wake();
        await this.db.execute(
          sql`delete from engine_dedupe_keys where key in (select key from engine_dedupe_keys where expires_at < now() limit ${DEDUPE_PRUNE_BATCH} for update skip locked)`,
        );
      } catch (e) {
        this.exec.log(`[engine] cron tick failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      await new Promise((r) => setTimeout(r, CRON_TICK_MS));
    }
  }
}

export { RegistrationError };
