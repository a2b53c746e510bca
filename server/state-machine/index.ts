// The state-machine pattern every stateful entity follows (payment orders, checkouts, payment attempts; payouts,
// refunds, disputes and recon cases copy it). Per entity, one file holds:
//  - a transition table `Record<Status, readonly Status[]>`: the only moves allowed;
//  - one `transition<Entity>(tx, input)` that locks the row (FOR UPDATE), checks the move against the table,
//    updates the status (and the fields that go with it) and appends a `<entity>_transitions` row, all in the
//    caller's transaction;
//  - a unit test that walks the table (server/payments/state-machines.test.ts).
// No other code writes that `status` column (server/architecture.test.ts greps for it). Moving to the state the
// entity is already in is a no-op: PSPs and polling report the same outcome several times, in any order.
import { AppError } from "@/server/errors";

export type TransitionTable<S extends string> = Readonly<Record<S, readonly S[]>>;

export function canMove<S extends string>(table: TransitionTable<S>, from: S, to: S): boolean {
  return table[from].includes(to);
}

/** Refuses a move the table does not allow (a bug or a stale caller, never retried into success). */
export function assertMove<S extends string>(entity: string, table: TransitionTable<S>, from: S, to: S): void {
  if (!canMove(table, from, to)) throw new AppError("invalid_transition", `${entity} cannot move from ${from} to ${to}`, { details: { entity, from, to } });
}

/** Every state reachable from `initial` (for the table-walking tests). */
export function reachable<S extends string>(table: TransitionTable<S>, initial: S): Set<S> {
  const seen = new Set<S>([initial]);
  const queue: S[] = [initial];
  while (queue.length > 0) {
    for (const next of table[queue.shift()!]) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return seen;
}
