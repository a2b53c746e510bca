// Settlement data for reconciliation tests: the balance-transactions view and a Stripe itemized payout
// reconciliation CSV, both optionally distorted by injected discrepancies, each listed in a manifest.
import type { StkRecord } from "./daraja/api";
import type { PersistentMap } from "./persistence";
import { eatTimestamp } from "./daraja/api";
import { formatMinor } from "./minor-units";
import { stripeId, type StripeObject, type StripeStore } from "./stripe/store";

export type DiscrepancyInput =
  | { kind: "missing_row"; balanceTransaction?: string }
  | { kind: "amount_off"; balanceTransaction?: string; delta: number }
  | { kind: "fee_off"; balanceTransaction?: string; delta: number }
  | { kind: "duplicate_row"; balanceTransaction?: string }
  | { kind: "extra_row"; amount: number; currency: string };

export interface ManifestEntry {
  kind: DiscrepancyInput["kind"];
  balanceTransaction: string;
  detail: Record<string, unknown>;
}

interface DiscrepancyState {
  manifest: ManifestEntry[];
  extras: StripeObject[];
}

export class Discrepancies {
  readonly manifest: ManifestEntry[] = [];
  private readonly extras: StripeObject[] = [];

  /** `saved`: where the injected discrepancies persist (one entry, "state"), restored here. */
  constructor(
    private readonly store: StripeStore,
    private readonly saved?: PersistentMap<DiscrepancyState>,
  ) {
    const state = saved?.peek("state");
    if (state) {
      this.manifest.push(...state.manifest);
      this.extras.push(...state.extras);
    }
  }

  private save(): void {
    this.saved?.set("state", { manifest: this.manifest, extras: this.extras });
  }

  /** Picks the newest charge when no balance transaction is named. */
  inject(input: DiscrepancyInput): ManifestEntry {
    if (input.kind === "extra_row") {
      const now = this.store.nowS();
      const txn: StripeObject = { id: stripeId("txn"), object: "balance_transaction", amount: input.amount, currency: input.currency, fee: 0, fee_details: [], net: input.amount, type: "charge", reporting_category: "charge", source: stripeId("ch"), status: "available", created: now, available_on: now, description: null };
      this.extras.push(txn);
      return this.record({ kind: "extra_row", balanceTransaction: txn.id, detail: { amount: input.amount, currency: input.currency } });
    }
    const target = input.balanceTransaction ?? this.store.all("balance_transaction").find((t) => t.type === "charge")?.id;
    if (!target) throw new Error("no balance transaction to distort; make a charge first");
    const detail = "delta" in input ? { delta: input.delta } : {};
    return this.record({ kind: input.kind, balanceTransaction: target, detail });
  }

  private record(entry: ManifestEntry): ManifestEntry {
    this.manifest.push(entry);
    this.save();
    return entry;
  }

  clear(): void {
    this.manifest.length = 0;
    this.extras.length = 0;
    this.save();
  }

  /** What the PSP "reports": real transactions with the injected distortions (newest first). */
  apply(txns: StripeObject[]): StripeObject[] {
    const out: StripeObject[] = [...this.extras].reverse();
    for (const t of txns) {
      const hits = this.manifest.filter((m) => m.balanceTransaction === t.id);
      if (hits.some((h) => h.kind === "missing_row")) continue;
      let copy: StripeObject = { ...t };
      for (const h of hits) {
        const delta = Number(h.detail.delta ?? 0);
        if (h.kind === "amount_off") copy = { ...copy, amount: (copy.amount as number) + delta, net: (copy.net as number) + delta };
        if (h.kind === "fee_off") copy = { ...copy, fee: (copy.fee as number) + delta, net: (copy.net as number) - delta };
      }
      out.push(copy);
      if (hits.some((h) => h.kind === "duplicate_row")) out.push({ ...copy });
    }
    return out;
  }
}

const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? "" : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const utc = (s: number) => new Date(s * 1000).toISOString().replace("T", " ").slice(0, 19);

export const STRIPE_REPORT_COLUMNS = ["balance_transaction_id", "created_utc", "available_on_utc", "currency", "gross", "fee", "net", "reporting_category", "source_id", "automatic_payout_id", "payment_intent_id"];

/** payout_reconciliation.itemized.5-shaped CSV over the reported balance transactions. */
export function stripeSettlementCsv(store: StripeStore, txns: StripeObject[]): string {
  const rows = [...txns].reverse().map((t) => {
    const source = store.objects.get(t.source as string);
    const pi = source?.object === "charge" || source?.object === "refund" || source?.object === "dispute" ? source.payment_intent : "";
    const cur = t.currency as string;
    return [t.id, utc(t.created), utc(t.available_on as number), cur, formatMinor(t.amount as number, cur), formatMinor(t.fee as number, cur), formatMinor(t.net as number, cur), t.reporting_category, t.source, t._payout ?? "", pi ?? ""];
  });
  return [STRIPE_REPORT_COLUMNS, ...rows].map((r) => r.map(csvCell).join(",")).join("\n") + "\n";
}

export const MPESA_STATEMENT_COLUMNS = ["Receipt No.", "Completion Time", "Details", "Transaction Status", "Paid In", "Withdrawn", "Other Party Info", "Linked Transaction ID"];

/** An M-Pesa org statement (EAT times, whole shillings) of completed STK payments. */
export function mpesaStatementCsv(stk: Iterable<StkRecord>): string {
  const rows = [...stk]
    .filter((r) => r.status === "done" && r.resultCode === 0)
    .map((r) => {
      const t = String(r.transactionDate ?? eatTimestamp(Date.now()));
      const when = `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)} ${t.slice(8, 10)}:${t.slice(10, 12)}:${t.slice(12, 14)}`;
      return [r.receipt, when, `Pay Bill Online from ${r.phone}`, r.reversed ? "Reversed" : "Completed", `${r.amount}.00`, "", `${r.phone} - Sandbox Customer`, r.checkoutRequestId];
    });
  return [MPESA_STATEMENT_COLUMNS, ...rows].map((r) => r.map(csvCell).join(",")).join("\n") + "\n";
}
