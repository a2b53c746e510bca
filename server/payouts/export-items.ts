// A payout's composition as CSV (GET /api/dashboard/payouts/{payoutId}/items): one line per item in display order,
// the amounts summing exactly to the payout's amount. Merchant scoped (another merchant's payout: not_found). The
// same CSV hygiene as the payments export (server/payments/export-payment-orders.ts): text cells that a spreadsheet
// would run as a formula are defused; amounts are our own decimal strings, written as numbers (a "-12.50" is a
// negative amount, not a formula, so it is checked against the decimal grammar and written as it is).
import type { DbOrTx } from "@/db/client";
import { AppError } from "@/server/errors";
import { merchantTimeZone } from "@/server/merchants/time-zone";
import { admitExport, csvCell, csvLine, localIsoFormatter } from "@/server/payments/export-payment-orders";
import { loadMerchantPayout } from "./list-payouts";
import { loadPayoutItemViews } from "./payout-detail";

export const PAYOUT_ITEMS_CSV_COLUMNS = ["payout_id", "position", "kind", "description", "amount", "currency", "payment_order_id", "source_type", "source_id", "occurred_at", "occurred_local"] as const;
export const PAYOUT_EXPORTS_PER_MERCHANT_PER_MIN = 60;

const DECIMAL = /^-?[0-9]+(\.[0-9]+)?$/;

/** A decimal amount we formatted ourselves, written as a number; anything else is an error, never a cell. */
function amountCell(v: string): string {
  if (!DECIMAL.test(v)) throw new AppError("internal", `Not a decimal amount: ${JSON.stringify(v.slice(0, 40))}`);
  return v;
}

/** Refuses (rate_limited, with the seconds to wait) a merchant that started too many exports this minute. */
export async function admitPayoutExport(db: DbOrTx, merchantId: string): Promise<void> {
  await admitExport(db, merchantId, { bucket: "payouts-export", perMinute: PAYOUT_EXPORTS_PER_MERCHANT_PER_MIN });
}

export async function exportPayoutItems(db: DbOrTx, merchantId: string, payoutId: string): Promise<{ filename: string; text: string }> {
  const row = await loadMerchantPayout(db, merchantId, payoutId);
  const [items, timeZone] = await Promise.all([loadPayoutItemViews(db, row.payout.id), merchantTimeZone(db, merchantId)]);
  const local = localIsoFormatter(timeZone);
  let text = csvLine(PAYOUT_ITEMS_CSV_COLUMNS);
  items.forEach((it, i) => {
    const occurred = new Date(it.occurred_at);
    const cells = [row.payout.id, String(i + 1), it.kind, it.description].map(csvCell);
    cells.push(amountCell(it.amount));
    cells.push(...[it.currency, it.payment_order_id, it.source_type, it.source_id, it.occurred_at, local(occurred)].map(csvCell));
    text += `${cells.join(",")}\r\n`;
  });
  return { filename: `payout-${row.payout.id}-items.csv`, text };
}
