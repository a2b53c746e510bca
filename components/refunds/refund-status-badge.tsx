import { Badge, type BadgeTone } from "@/components/ui/badge";

// A refund's status (Stripe's five). The raw value stays in data-status for tests.

const TONE: Record<string, BadgeTone> = { pending: "warning", requires_action: "warning", succeeded: "success", failed: "danger", canceled: "neutral" };
export const REFUND_STATUS_LABELS: Record<string, string> = { pending: "Pending", requires_action: "Action required", succeeded: "Succeeded", failed: "Failed", canceled: "Canceled" };

export function RefundStatusBadge({ status }: { status: string }) {
  return (
    <Badge tone={TONE[status] ?? "neutral"} data-status={status}>
      {REFUND_STATUS_LABELS[status] ?? status}
    </Badge>
  );
}

/** Stripe's failure_reason codes in words (the code itself is shown beside). */
const FAILURE_TEXT: Record<string, string> = {
  expired_or_canceled_card: "the buyer's card has expired or was canceled",
  lost_or_stolen_card: "the buyer's card was reported lost or stolen",
  declined: "the buyer's bank declined it",
  merchant_request: "canceled on request",
  insufficient_funds: "not enough funds",
  unknown: "the PSP gave no reason",
};

export function refundFailureText(code: string | null, message?: string | null): string | null {
  if (!code && !message) return null;
  const words = code ? FAILURE_TEXT[code] : undefined;
  return message ?? (words ? `${words} (${code})` : code);
}
