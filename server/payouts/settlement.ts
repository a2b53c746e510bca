// STUB (lead) — owner: slice P3 (Stripe connector + settlement). Moves successful payment orders' seller funds
// pending -> available when the PSP says the funds are available (Stripe: the charge's balance transaction
// status / available_on, on the PSP's clock; M-Pesa: MPESA_SETTLEMENT_DELAY_S after the payment), or after the
// per-PSP fallback (STRIPE_SETTLEMENT_FALLBACK_S). One order_settlements row + posting per order, idempotent.
import type { Db } from "@/db/client";
import { AppError } from "@/server/errors";
import type { ConnectorFor } from "@/server/psp";

export async function settleDueOrders(_db: Db, _connectorFor: ConnectorFor, _opts: { now?: Date; limit?: number; orderIds?: readonly string[] } = {}): Promise<{ settled: number; waiting: number }> {
  throw new AppError("internal", "STUB (lead): settleDueOrders");
}
