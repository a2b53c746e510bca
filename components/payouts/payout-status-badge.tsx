import { Badge, type BadgeTone } from "@/components/ui/badge";
import { PAYOUT_OPEN_STATUSES } from "@/server/payouts/router.schema";

// A payout's status (Stripe's five plus our two). The raw value stays in data-status for tests.

const TONE: Record<string, BadgeTone> = {
  pending_approval: "info",
  pending: "warning",
  unknown: "warning",
  in_transit: "warning",
  paid: "success",
  failed: "danger",
  canceled: "neutral",
};

export const PAYOUT_STATUS_LABELS: Record<string, string> = {
  pending_approval: "Awaiting approval",
  pending: "Pending",
  unknown: "Checking with the PSP",
  in_transit: "In transit",
  paid: "Paid",
  failed: "Failed",
  canceled: "Canceled",
};

/** One sentence per status: what it means for the seller's money. */
export const PAYOUT_STATUS_HELP: Record<string, string> = {
  pending_approval: "Waiting for a second admin to approve it. The amount is held from the seller's available balance.",
  pending: "Approved and about to be sent to the PSP. The amount is held from the seller's available balance.",
  unknown: "A call to the PSP ended without a clear answer. PayBridge asks the PSP before sending anything again; this settles within 15 minutes.",
  in_transit: "The PSP accepted it and is paying it to the destination.",
  paid: "The PSP paid it to the destination.",
  failed: "The PSP could not pay it. The amount is back in the seller's available balance.",
  canceled: "Canceled before it was paid. The amount is back in the seller's available balance.",
};

export const PAYOUT_ORIGIN_LABELS: Record<string, string> = { scheduled: "Scheduled", manual: "Manual (dashboard)", api: "API" };

/** Payouts whose money is still reserved and whose state the PSP may still change. */
export const PAYOUT_OPEN: ReadonlySet<string> = new Set(PAYOUT_OPEN_STATUSES);

export function PayoutStatusBadge({ status }: { status: string }) {
  return (
    <Badge tone={TONE[status] ?? "neutral"} data-status={status} data-testid="payout-status">
      {PAYOUT_STATUS_LABELS[status] ?? status}
    </Badge>
  );
}

/** Stripe's payout failure codes (and Daraja's) in words; the code itself is shown beside. */
const FAILURE_TEXT: Record<string, string> = {
  account_closed: "the bank account has been closed",
  no_account: "the bank account does not exist",
  insufficient_funds: "the account did not have enough funds",
  account_frozen: "the bank account is frozen",
  invalid_account_number: "the account number is not valid",
  bank_account_restricted: "the bank account is restricted",
  could_not_process: "the bank could not process it",
  declined: "the bank declined it",
};

export function payoutFailureText(code: string | null, message: string | null): string | null {
  if (!code && !message) return null;
  const words = code ? FAILURE_TEXT[code] : undefined;
  if (message && code) return `${message} (${code})`;
  return message ?? (words ? `${words[0]!.toUpperCase()}${words.slice(1)} (${code})` : code);
}
