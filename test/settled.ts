import type postgres from "postgres";
import { waitFor } from "@/sandbox/testing";

/**
 * Everything in flight has finished: no unsent outbox row and no running run, seen on two polls in a row (one
 * statement, so one snapshot: a row is either unsent or its run exists). `before`: another idle check to pass
 * first on each poll (the PSP sandbox's webhooks). Delayed work that is not yet due is not in flight.
 */
export async function asyncWorkSettled(sql: postgres.Sql, opts: { timeoutMs: number; before?: () => Promise<unknown> }): Promise<void> {
  let quiet = 0;
  await waitFor(
    async () => {
      await opts.before?.();
      const [row] = await sql<{ unsent: number; running: number }[]>`
        select (select count(*)::int from outbox_events where sent_at is null) as unsent,
               (select count(*)::int from engine_runs where status = 'running') as running`;
      quiet = row!.unsent === 0 && row!.running === 0 ? quiet + 1 : 0;
      return quiet >= 2 ? true : undefined;
    },
    opts.timeoutMs,
    30,
  );
}
