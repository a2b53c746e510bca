import type { ReconCaseStatus, ReconResolution } from "@/db/schema";
import { Badge } from "@/components/ui/badge";
import { CASE_STATUS_LABELS, CASE_STATUS_TONES, RESOLUTION_LABELS } from "./labels";

/** A case's status, with how it was resolved: "Resolved · adjustment". The raw values stay in data-*. */
export function CaseStatusBadge({ status, resolution }: { status: ReconCaseStatus; resolution: ReconResolution | null }) {
  return (
    <Badge tone={CASE_STATUS_TONES[status]} data-status={status} data-resolution={resolution ?? undefined} data-testid="case-status">
      {CASE_STATUS_LABELS[status]}
      {status === "resolved" && resolution ? ` · ${RESOLUTION_LABELS[resolution]}` : ""}
    </Badge>
  );
}
