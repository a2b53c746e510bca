import { sql } from "drizzle-orm";
import { createDb } from "../db/client";
import { syncCases } from "../server/reconciliation/case-state";
import { beginImport, finishImport } from "../server/reconciliation/imports/record";
import { insertSettlementRows } from "../server/reconciliation/imports/rows";
import { e2eDatabaseUrl } from "./helpers";

// Reconciliation data for the e2e specs (reconciliation.spec.ts, pages.spec.ts), on the e2e server's own throwaway
// database: one Stripe charge row the PSP reported at 105.00 USD (an import of its own), and the amount_mismatch case
// the matcher would open for it against our 100.00 USD charge, merged in by the matcher's own syncCases (under the
// matcher's lock, scoped to this fingerprint so no other case is touched). Delta +500: an approved adjustment
// debits psp_clearing:stripe 5.00 USD and credits recon_adjustments.

export const RECON_FIXTURE_GROSS = 10_500n;
export const RECON_FIXTURE_OURS = 10_000n;
export const RECON_FIXTURE_DELTA = RECON_FIXTURE_GROSS - RECON_FIXTURE_OURS;
/** The sandbox's card fee on 105.00 (290 bps rounded half up, plus 30). */
const FEE = 335n;

export interface ReconFixture {
  caseId: string;
  reference: string;
  settlementRowId: string;
}

/** Seeds one open amount_mismatch case (+500 USD on a new pi_… reference) and returns its id. */
export async function seedAmountMismatchCase(tag = "e2e"): Promise<ReconFixture> {
  const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const reference = `pi_${tag}_${suffix}`;
  const occurredAt = new Date(Date.now() - 60 * 60_000);
  const { db, close } = createDb(e2eDatabaseUrl(), { max: 1 });
  try {
    const imp = await beginImport(db, { psp: "stripe", source: "stripe_api", importKey: `e2e:${reference}`, label: `e2e fixture ${reference}` });
    await insertSettlementRows(db, imp.id, [
      { psp: "stripe", pspRowId: `txn_${tag}_${suffix}`, category: "charge", reference, sourceId: `ch_${tag}_${suffix}`, currency: "USD", gross: RECON_FIXTURE_GROSS, fee: FEE, net: RECON_FIXTURE_GROSS - FEE, occurredAt, availableOn: null, payoutId: null },
    ]);
    await finishImport(db, imp.id, { rowsSeen: 1, rowsAdded: 1 });
    const [row] = await db.execute<{ id: string }>(sql`select id::text as id from settlement_rows where import_id = ${imp.id}`);
    const fingerprint = `amount_mismatch|stripe|${reference}`;
    const pspSide = { reference, category: "charge", currency: "USD", amount: RECON_FIXTURE_GROSS.toString(), fee: FEE.toString(), count: 1, rowIds: [row!.id], occurredAt: occurredAt.toISOString() };
    const ledgerSide = { reference, category: "charge", currency: "USD", amount: RECON_FIXTURE_OURS.toString(), fee: "320", status: "succeeded", occurredAt: occurredAt.toISOString(), ledgerTransactionIds: [] };
    const findings = sql`
      select ${fingerprint}::text as fingerprint, 'amount_mismatch'::recon_case_type as type, 'stripe'::text as psp, ${reference}::text as reference,
        'USD'::text as currency, null::text as merchant_id, ${RECON_FIXTURE_DELTA.toString()}::bigint as amount_at_risk,
        ${JSON.stringify([{ currency: "USD", amount: RECON_FIXTURE_DELTA.toString() }])}::jsonb as delta,
        ${JSON.stringify(pspSide)}::jsonb as psp_side, ${JSON.stringify(ledgerSide)}::jsonb as ledger_side,
        ${`Reported gross ${RECON_FIXTURE_GROSS}, ours ${RECON_FIXTURE_OURS}.`}::text as detail`;
    const result = await db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext('paybridge:recon'))`);
      return syncCases(tx, { findings, types: ["amount_mismatch"], scope: sql`c.fingerprint = ${fingerprint}`, asOf: new Date(), label: `e2e:${tag}` });
    });
    if (result.opened.length !== 1) throw new Error(`expected one case opened for ${fingerprint}: ${JSON.stringify(result)}`);
    return { caseId: result.opened[0]!, reference, settlementRowId: row!.id };
  } finally {
    await close();
  }
}
