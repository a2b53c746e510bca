import { inArray, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { engineJobs } from "@/db/schema";

// Short leases kept alive by a heartbeat. A claimed job's lease (DEFAULT_LEASE_MS) is renewed every
// heartbeat (DEFAULT_HEARTBEAT_MS) by the worker that holds it, for as long as it holds it — however long
// the call takes (the call is cut by callTimeoutMs, not by the lease). A worker that dies stops renewing,
// so its jobs are claimable again within one lease. Renewal matches the lease token: a worker whose lease
// lapsed (it stalled past a lease) learns it lost the job, and takeJob refuses its result.

export const DEFAULT_LEASE_MS = 15_000;
export const DEFAULT_HEARTBEAT_MS = 5_000;

export class LeaseKeeper {
  /** The lease token of every job this engine holds. */
  private readonly held = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    readonly leaseMs: number,
    readonly heartbeatMs: number,
    private readonly log: (msg: string) => void,
  ) {}

  hold(job: { leaseToken: string | null }): void {
    if (job.leaseToken) this.held.add(job.leaseToken);
  }

  release(job: { leaseToken: string | null }): void {
    if (job.leaseToken) this.held.delete(job.leaseToken);
  }

  /** Whether this engine still holds the job's lease (false once a renewal found another worker's token on it). */
  holds(job: { leaseToken: string | null }): boolean {
    return job.leaseToken !== null && this.held.has(job.leaseToken);
  }

  get size(): number {
    return this.held.size;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.renewing = this.renewing.then(async () => {
        await this.renew();
      });
    }, this.heartbeatMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.renewing;
  }

  /** Extends every held lease by leaseMs from now; returns how many were renewed. */
  async renew(): Promise<number> {
    const tokens = [...this.held];
    if (tokens.length === 0) return 0;
    try {
      const rows = await this.db
        .update(engineJobs)
        .set({ leaseUntil: sql`now() + ${`${this.leaseMs} milliseconds`}::interval` })
        .where(inArray(engineJobs.leaseToken, tokens))
        .returning({ token: engineJobs.leaseToken });
      const renewed = new Set(rows.map((r) => r.token));
      for (const t of tokens) {
        // Gone: finished meanwhile (deleted under our lease) or taken over after our lease lapsed.
        if (!renewed.has(t) && this.held.has(t)) this.held.delete(t);
      }
      return rows.length;
    } catch (e) {
      // The database is away: the next beat tries again. Should the outage outlast the lease, another engine
      // may take the job over; our result is then refused by the token check.
      this.log(`[engine] lease heartbeat failed: ${e instanceof Error ? e.message : String(e)}`);
      return 0;
    }
  }
}
