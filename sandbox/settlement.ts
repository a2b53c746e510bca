// Settlement data for reconciliation tests: the balance-transactions view and a Stripe itemized payout
// reconciliation CSV, both optionally distorted by injected discrepancies, each listed in a manifest.
import type { B2cRecord, StkRecord } from "./daraja/api";
import type { PersistentMap } from "./persistence";
import { eatTimestamp } from "./daraja/api";
import { formatMinor } from "./minor-units";
import { stripeId, type StripeObject, type StripeStore } from "./stripe/store";

export type DiscrepancyInput =
  | { kind: "missing_row"; balanceTransaction?: string }
  | { kind: "amount_off"; balanceTransaction?: string; delta: number }
  | { kind: "fee_off"; balanceTransaction?: string; delta: number }
  | { kind: "duplicate_row"; balanceTransaction?: string }
  | { kind: "extra_row"; amount: number; currency: string }
  /** The row reports another currency (e.g. "eur") than the transaction's. */
  | { kind: "currency_off"; balanceTransaction?: string; currency: string }
  /** For a refund's balance transaction: the PSP also reports a refund_failure giving the refund's amount back. */
  | { kind: "refund_failed"; balanceTransaction?: string };

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
    const wanted = input.kind === "refund_failed" ? "refund" : "charge";
    const target = input.balanceTransaction ?? this.store.all("balance_transaction").find((t) => t.type === wanted)?.id;
    if (!target) throw new Error(`no balance transaction to distort; make a ${wanted} first`);
    if (input.kind === "refund_failed") return this.refundFailed(target);
    const detail = "delta" in input ? { delta: input.delta } : input.kind === "currency_off" ? { currency: String(input.currency).toLowerCase() } : {};
    return this.record({ kind: input.kind, balanceTransaction: target, detail });
  }

  /** An extra refund_failure row for the refund (source = the refund id, amount = minus the refund's). */
  private refundFailed(target: string): ManifestEntry {
    const refundTxn = this.store.get(target, "balance_transaction");
    if (!refundTxn || refundTxn.type !== "refund") throw new Error(`${target} is not a refund's balance transaction`);
    const now = this.store.nowS();
    const amount = -(refundTxn.amount as number);
    const txn: StripeObject = { id: stripeId("txn"), object: "balance_transaction", amount, currency: refundTxn.currency, fee: 0, fee_details: [], net: amount, type: "refund_failure", reporting_category: "refund_failure", source: refundTxn.source, status: "available", created: now, available_on: now, description: null };
    this.extras.push(txn);
    return this.record({ kind: "refund_failed", balanceTransaction: target, detail: { failureBalanceTransaction: txn.id, refund: refundTxn.source, amount } });
  }

  /** A missing row arrives late: the transaction's missing_row entries are dropped (it is reported from now on). */
  release(balanceTransaction: string): { released: number } {
    const before = this.manifest.length;
    const kept = this.manifest.filter((m) => !(m.kind === "missing_row" && m.balanceTransaction === balanceTransaction));
    this.manifest.splice(0, this.manifest.length, ...kept);
    this.save();
    return { released: before - kept.length };
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
        if (h.kind === "currency_off") copy = { ...copy, currency: String(h.detail.currency) };
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

/** Safaricom's org statement columns (the receipt column is "Receipt No."), plus the STK CheckoutRequestID we link. */
export const MPESA_STATEMENT_COLUMNS = ["Receipt No.", "Completion Time", "Details", "Transaction Status", "Paid In", "Withdrawn", "Balance", "Other Party Info", "Linked Transaction ID"];

const eatWhen = (t: string) => `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)} ${t.slice(8, 10)}:${t.slice(10, 12)}:${t.slice(12, 14)}`;
const shillings = (n: number) => formatMinor(n * 100, "kes");

interface StatementLine {
  receipt: string;
  when: string;
  details: string;
  status: "Completed" | "Reversed";
  /** Whole shillings: > 0 paid in, < 0 withdrawn. */
  amount: number;
  party: string;
  linked: string;
}

/**
 * An M-Pesa org statement (EAT times, shillings, oldest first, running Balance): each completed STK payment paid
 * in; a reversed one (fully or in part) also as a Reversed line of the same receipt withdrawing what was reversed;
 * each completed B2C payment withdrawn.
 */
export function mpesaStatementCsv(stk: Iterable<StkRecord>, b2c: Iterable<B2cRecord> = []): string {
  const lines: StatementLine[] = [];
  for (const r of stk) {
    if (r.status !== "done" || r.resultCode !== 0 || !r.receipt) continue;
    const when = eatWhen(String(r.transactionDate ?? eatTimestamp(Date.now())));
    const base = { receipt: r.receipt, when, party: `${r.phone} - Sandbox Customer`, linked: r.checkoutRequestId };
    lines.push({ ...base, details: `Pay Bill Online from ${r.phone}`, status: "Completed", amount: r.amount });
    const reversed = r.reversedAmount ?? (r.reversed ? r.amount : 0);
    if (reversed > 0) lines.push({ ...base, details: `Reversal of ${r.receipt}`, status: "Reversed", amount: -reversed });
  }
  for (const r of b2c) {
    if (r.status !== "completed" || !r.transactionId) continue;
    const when = eatWhen(eatTimestamp(r.completedAtMs ?? Date.now()));
    lines.push({ receipt: r.transactionId, when, details: `Business Payment to ${r.partyB}`, status: "Completed", amount: -r.amount, party: `${r.partyB} - Sandbox Customer`, linked: r.originatorConversationId });
  }
  lines.sort((a, b) => (a.when < b.when ? -1 : a.when > b.when ? 1 : 0));
  let balance = 0;
  const rows = lines.map((l) => {
    balance += l.amount;
    return [l.receipt, l.when, l.details, l.status, l.amount > 0 ? shillings(l.amount) : "", l.amount < 0 ? shillings(-l.amount) : "", shillings(balance), l.party, l.linked];
  });
  return [MPESA_STATEMENT_COLUMNS, ...rows].map((r) => r.map(csvCell).join(",")).join("\n") + "\n";
}
