import type { PayoutDestinationView } from "@/server/payouts/types";

/** Where a payout goes, in words: the connected account id, or the phone's last three digits (never the full number). */
export function destinationText(d: PayoutDestinationView | null | undefined): string {
  if (!d) return "No destination";
  return d.type === "stripe_account" ? `Stripe connected account ${d.account}` : `M-Pesa phone ending ${d.phone_last3}`;
}
