// One reconciliation run (the hourly cron, ops' "run now", a case re-query, npm run recon:run): the matcher in one
// transaction under the reconciliation lock — its auto-resolved cases' pending adjustments canceled in the same
// transaction — then the invariants in a second one (their own REPEATABLE READ snapshot, same lock).
import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { cancelPendingAdjustments } from "./adjustments";
import { RECON_LOCK_KEY, runInvariants, type InvariantsResult } from "./invariants";
import { matchSettlement, type MatchScope } from "./match";
import type { MatchResult } from "./types";

export interface RunReconciliationInput {
  asOf?: Date;
  /** A case-scoped re-match (the invariants still run whole). */
  scope?: MatchScope;
  label?: string;
  /** Default true; false: match only. */
  invariants?: boolean;
}

export type RunReconciliationResult = MatchResult & { invariants: InvariantsResult["checks"]; canceledAdjustments: number; invariantCases: { opened: number; reopened: number; resolved: number } };

export async function runReconciliation(db: Db, input: RunReconciliationInput = {}): Promise<RunReconciliationResult> {
  const asOf = input.asOf ?? new Date();
  const label = input.label ?? `run ${asOf.toISOString()}`;
  const matched = await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${RECON_LOCK_KEY}))`);
    const r = await matchSettlement(tx, { asOf, scope: input.scope, label });
    const canceled = await cancelPendingAdjustments(tx, r.sync.resolved, `resolved by the matcher (${label})`);
    return { ...r, canceled: canceled.length };
  });
  const inv = input.invariants === false ? null : await runInvariants(db, { asOf, label });
  const { sync: _sync, canceled, ...counts } = matched;
  void _sync;
  return {
    ...counts,
    canceledAdjustments: canceled,
    invariants: inv?.checks ?? [],
    invariantCases: { opened: inv?.sync?.opened.length ?? 0, reopened: inv?.sync?.reopened.length ?? 0, resolved: inv?.sync?.resolved.length ?? 0 },
  };
}

/** The cron's import window ends this long before now: Stripe's newest balance transactions may still be written. */
export const IMPORT_LAG_MS = 5 * 60_000;
/** With no completed API import yet, the first window reaches back this far. */
export const FIRST_WINDOW_MS = 3 * 86_400_000;
/** A window import key: `stripe_api:<from ISO>:<to ISO>` (imports/stripe-api.ts); payout / account imports carry more. */
const WINDOW_KEY = /^stripe_api:(\d{4}-\d\d-\d\dT[\d:.]+Z):(\d{4}-\d\d-\d\dT[\d:.]+Z)$/;

/** The next Stripe API window: from the end of the last completed window import (the watermark) to now - lag. */
export async function nextStripeWindow(db: Db, now: Date): Promise<{ from: Date; to: Date } | null> {
  const done = await db.execute<{ import_key: string }>(sql`
    select import_key from recon_imports where source = 'stripe_api' and status = 'completed' and import_key ~ ${WINDOW_KEY.source}`);
  let watermark: Date | null = null;
  for (const r of done) {
    const end = new Date(WINDOW_KEY.exec(r.import_key)![2]!);
    if (!watermark || end > watermark) watermark = end;
  }
  const to = new Date(now.getTime() - IMPORT_LAG_MS);
  const from = watermark ?? new Date(now.getTime() - FIRST_WINDOW_MS);
  return from < to ? { from, to } : null;
}
