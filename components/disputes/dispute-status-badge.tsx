import { Badge } from "@/components/ui/badge";
import { DISPUTE_STATUS_LABELS, DISPUTE_STATUS_TONES } from "./deadline";

/** A dispute's status; the raw value stays in data-status (tests). */
export function DisputeStatusBadge({ status }: { status: string }) {
  return (
    <Badge tone={DISPUTE_STATUS_TONES[status] ?? "neutral"} data-status={status} data-testid="dispute-status">
      {DISPUTE_STATUS_LABELS[status] ?? status}
    </Badge>
  );
}
