import { isDatabaseUnavailable } from "@/db/pg-errors";
import type { Db } from "@/db/client";
import { createDb } from "@/db/client";
import { fireDueCrons } from "./cron";
import { hostname } from "node:os";
import { claimJobs, processJob, type ExecutorOptions, type JobRow } from "./executor";
import { AppGate } from "./gate";
import { idsFromSeed, newUlid } from "./ids";
import { DEFAULT_HEARTBEAT_MS, DEFAULT_LEASE_MS, LeaseKeeper } from "./leases";
import { ingestEvent, type IncomingEvent } from "./intake";
import { assertEventSizes, MAX_FUNCTION_TIMEOUT_MS } from "./limits";
import { answerKeys, canonicalJson, HEADER, signBody, verifyBodySignatureWithAny } from "./protocol";
import { FunctionRegistry, registerApp, RegistrationError, type SyncPayload } from "./registry";
import { cappedDoubling, inngestBackoff, type BackoffFn } from "./time";
import { AppTransportError, type Transport } from "./transport";

// The local Inngest-protocol engine: event intake, registration, and the worker loop that drives runs.
// State is in Postgres only; any number of engine processes may share a database.

export const DEFAULT_WORKER_CONCURRENCY = 8;
/** A job whose processing failed on an unreachable database is tried again after this, doubling up to the max. */
export const DB_RETRY_BASE_MS = 250;
export const DB_RETRY_MAX_MS = 2_000;
/** Inngest's function timeout (consts.MaxFunctionTimeout, 2 h): a call to the SDK may take that long. */
export const DEFAULT_CALL_TIMEOUT_MS = MAX_FUNCTION_TIMEOUT_MS;
/** The in-band sync keeps a short cut-off of its own (a sync that hangs would hold the sync loop). */
export const SYNC_TIMEOUT_MS = 60_000;
/** How long stop() waits for in-flight jobs (the old default call timeout). */
export const STOP_INFLIGHT_GRACE_MS = 60_000;
export const DEFAULT_POLL_MS = 200;
export const CRON_TICK_MS = 1000;
export const MAX_EVENTS_PER_SEND = 500;
/** Expired dedupe keys are pruned in batches from the cron loop, so the table stays at ~24 h of keys. */
export { DEDUPE_PRUNE_BATCH } from "./runs";
import { pruneExpiredDedupeKeys } from "./runs";

export interface EngineOptions {
  databaseUrl?: string;
  db?: Db;
  transport: Transport;
  /** When set, requests to the app are signed and /fn/register requires it; /e/:key requires eventKey. */
  signingKey?: string;
  /**
   * The previous signing key during a rotation (Inngest's fallback key): accepted for /fn/register and checkpoint
   * auth, and for verifying the app's signed answers (an app not yet redeployed signs with the old key). Calls are
   * always signed with signingKey (the SDK verifies with its key or its own fallback).
   */
  signingKeyFallback?: string;
  eventKey?: string;
  backoff?: BackoffFn;
  /** A call that takes longer is cut (and counts as an attempt). Independent of the lease. Default 2 h, as Inngest. */
  callTimeoutMs?: number;
  /** How long a claimed job stays ours without a heartbeat: a dead engine's jobs are free again after this. */
  leaseMs?: number;
  /** How often held leases are renewed; at most half of leaseMs (default min(5 s, leaseMs / 3)). */
  heartbeatMs?: number;
  /** Prefix of this engine's lease tokens (default host:pid:random), so ops can tell who holds a job. */
  instanceId?: string;
  pollMs?: number;
  concurrency?: number;
  log?: (msg: string) => void;
}

export class Engine {
  readonly db: Db;
  readonly registry: FunctionRegistry;
  private readonly exec: ExecutorOptions;
  readonly gate: AppGate;
  readonly leases: LeaseKeeper;
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
    const log = opts.log ?? (() => {});
    const leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
    const heartbeatMs = opts.heartbeatMs ?? Math.min(DEFAULT_HEARTBEAT_MS, Math.floor(leaseMs / 3));
    if (!(heartbeatMs > 0) || heartbeatMs * 2 > leaseMs) {
      throw new Error(`heartbeatMs (${heartbeatMs}) must be positive and at most half of leaseMs (${leaseMs}), or a late beat loses the lease`);
    }
    this.gate = new AppGate(opts.transport, log, () => this.wake());
    this.leases = new LeaseKeeper(this.db, leaseMs, heartbeatMs, log);
    this.exec = {
      db: this.db,
      transport: opts.transport,
      registry: this.registry,
      backoff: opts.backoff ?? inngestBackoff,
      callTimeoutMs: opts.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS,
      leaseMs,
      signingKey: opts.signingKey,
      signingKeyFallback: opts.signingKeyFallback,
      log,
      gate: this.gate,
      instanceId: opts.instanceId ?? `${hostname()}:${process.pid}:${newUlid().slice(-6)}`,
    };
  }

  get signingKey(): string | undefined {
    return this.opts.signingKey;
  }
  get signingKeyFallback(): string | undefined {
    return this.opts.signingKeyFallback;
  }
  get eventKey(): string | undefined {
    return this.opts.eventKey;
  }

  /**
   * Takes in events as `POST /e/:key` does; ids derive from the SDK's seed so a resend is a no-op. An event over
   * 512 KB (limits.ts MAX_EVENT_BYTES) refuses the whole send with EventTooLargeError, before anything is stored.
   */
  async sendEvents(events: IncomingEvent[], seed: string | null = null): Promise<string[]> {
    if (events.length > MAX_EVENTS_PER_SEND) throw new Error(`At most ${MAX_EVENTS_PER_SEND} events per send`);
    assertEventSizes(events);
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
    let res;
    try {
      res = await this.opts.transport.send({ url: appUrl, method: "PUT", headers, body, timeoutMs: Math.min(this.exec.callTimeoutMs, SYNC_TIMEOUT_MS) });
    } catch (e) {
      // Not up yet (engine started first, or the app is restarting): hold its calls until it answers.
      if (e instanceof AppTransportError && e.kind === "unreachable") this.gate.reportUnreachable(appUrl, e.code);
      throw e;
    }
    this.gate.reportReachable(appUrl);
    if (res.status !== 200) throw new Error(`Sync of ${appUrl} failed: HTTP ${res.status} ${res.body.slice(0, 500)}`);
    if (this.opts.signingKey && !verifyBodySignatureWithAny(res.body, res.headers.get(HEADER.signature), answerKeys(this.opts), Date.now())) {
      throw new Error(`Sync of ${appUrl} refused: the answer is not signed with the signing key`);
    }
    const parsed = JSON.parse(res.body) as { app_id: string; url: string; sdk?: string; functions: unknown[] };
    await this.register({ appId: parsed.app_id, url: parsed.url, sdk: parsed.sdk, functions: parsed.functions ?? [] });
    return parsed.functions.length;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.leases.start();
    this.loopDone = this.workLoop();
    this.cronDone = this.cronLoop();
  }

  wake(): void {
    this.wakeUp?.();
  }

  /** Processes due jobs until none is left (tests that drive the engine step by step). */
  async drain(maxJobs = 10_000): Promise<number> {
    let done = 0;
    this.leases.start();
    while (done < maxJobs) {
      const jobs = await claimJobs(this.exec, 8);
      if (jobs.length === 0) return done;
      await Promise.all(jobs.map((j) => this.held(j)));
      done += jobs.length;
    }
    return done;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await Promise.all([this.loopDone, this.cronDone]);
    // A call may take up to 2 h: wait a while for in-flight jobs, then leave the rest as a killed engine leaves
    // them (their leases lapse and another engine calls again; results are written once).
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.inflight]), new Promise((r) => (grace = setTimeout(r, STOP_INFLIGHT_GRACE_MS)))]);
    clearTimeout(grace);
    await this.leases.stop();
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
      this.gate.probeDue();
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

  /**
   * Processes a claimed job under its lease. When Postgres is briefly gone (a restart, a failover) the job is tried
   * again by this worker as soon as the database answers, still under its lease (the heartbeat keeps it once the
   * database is back), instead of waiting for the lease to lapse and a claim: the same at-least-once call, sooner.
   * A job whose lease another worker took meanwhile is dropped (the heartbeat forgets it; takeJob would refuse it).
   */
  private async held(job: JobRow): Promise<void> {
    this.leases.hold(job);
    try {
      for (let retry = 0; ; retry++) {
        try {
          await processJob(this.exec, job);
          return;
        } catch (e) {
          if (!isDatabaseUnavailable(e) || !this.running || !this.leases.holds(job)) throw e;
          if (retry === 0) this.exec.log(`[engine] job ${job.id} (${job.kind}): database unavailable; retrying it under its lease`);
          await new Promise((r) => setTimeout(r, cappedDoubling(retry, DB_RETRY_BASE_MS, DB_RETRY_MAX_MS)));
        }
      }
    } finally {
      this.leases.release(job);
    }
  }

  private track(job: JobRow): void {
    const p = this.held(job)
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
        await pruneExpiredDedupeKeys(this.db);
      } catch (e) {
        this.exec.log(`[engine] cron tick failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      await new Promise((r) => setTimeout(r, CRON_TICK_MS));
    }
  }
}

export { RegistrationError };
