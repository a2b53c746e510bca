import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import type { ReconCaseType, ReconSide } from "@/db/schema";
import { syncCases, type SyncCasesResult } from "./case-state";

// For the ops-domain tests: cases opened (and refreshed) the way the matcher opens them, through syncCases with a
// one-row findings query, scoped to that fingerprint so no other test's case is auto-resolved.

export interface TestFinding {
  fingerprint: string;
  type: ReconCaseType;
  psp?: string;
  reference: string;
  currency?: string;
  merchantId?: string | null;
  amountAtRisk?: bigint;
  delta?: Array<{ currency: string; amount: string }>;
  pspSide?: ReconSide;
  ledgerSide?: ReconSide;
  detail?: string;
}

/** Merges one finding (present: opens / refreshes / re-opens it; `present: false`: the matcher no longer sees it). */
export async function syncFinding(db: Db, f: TestFinding, opts: { asOf?: Date; present?: boolean } = {}): Promise<SyncCasesResult> {
  const present = opts.present ?? true;
  const findings = sql`
    select ${f.fingerprint}::text as fingerprint, ${f.type}::recon_case_type as type, ${f.psp ?? "stripe"}::text as psp,
      ${f.reference}::text as reference, ${f.currency ?? "USD"}::text as currency, ${f.merchantId ?? null}::text as merchant_id,
      ${(f.amountAtRisk ?? 0n).toString()}::bigint as amount_at_risk, ${JSON.stringify(f.delta ?? [])}::jsonb as delta,
      ${JSON.stringify(f.pspSide ?? {})}::jsonb as psp_side, ${JSON.stringify(f.ledgerSide ?? {})}::jsonb as ledger_side,
      ${f.detail ?? "test finding"}::text as detail
    where ${present}::boolean`;
  return db.transaction((tx) => syncCases(tx, { findings, types: [f.type], scope: sql`c.fingerprint = ${f.fingerprint}`, asOf: opts.asOf ?? new Date(), label: "test" }));
}

/** Opens a case and returns its id. */
export async function openTestCase(db: Db, f: TestFinding, opts: { asOf?: Date } = {}): Promise<string> {
  const r = await syncFinding(db, f, opts);
  if (r.opened.length !== 1) throw new Error(`expected to open one case for ${f.fingerprint}, opened ${r.opened.length}`);
  return r.opened[0]!;
}

