import { Middleware, RetryAfterError } from "inngest";
import { isDatabaseUnavailable } from "@/db/pg-errors";

// A step that failed because Postgres was briefly gone (a restart, a failover, a killed postmaster) is retried
// soon, not after Inngest's first backoff of 15 s: the first retries come after OUTAGE_RETRY_DELAYS_MS, later
// ones keep the default backoff, so a long outage still has the function's whole retry budget (minutes) before
// a dead letter. Every other error is left exactly as thrown. Registered once on the client (inngest/client.ts).

/** Delay of the retry after attempt N (0-based) failed on an unreachable database; past the list: default backoff. */
export const OUTAGE_RETRY_DELAYS_MS = [2_000, 5_000] as const;

export function outageRetryDelayMs(attempt: number): number | undefined {
  return OUTAGE_RETRY_DELAYS_MS[attempt];
}

export class DatabaseOutageRetry extends Middleware.BaseMiddleware {
  readonly id = "paybridge-database-outage-retry";

  override async wrapStepHandler({ ctx, next }: Middleware.WrapStepHandlerArgs): Promise<unknown> {
    try {
      return await next();
    } catch (err) {
      const delay = isDatabaseUnavailable(err) ? outageRetryDelayMs((ctx as { attempt?: number }).attempt ?? 0) : undefined;
      if (delay === undefined) throw err;
      throw new RetryAfterError(`Database unavailable; retrying in ${delay / 1000} s: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`, delay, { cause: err });
    }
  }
}
