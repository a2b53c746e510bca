import { Badge, type BadgeTone } from "./badge";

const TONE: Record<string, BadgeTone> = { SUCCESS: "success", FAILED: "danger", EXECUTING: "warning", NOT_STARTED: "neutral" };
const LABEL: Record<string, string> = { SUCCESS: "Succeeded", FAILED: "Failed", EXECUTING: "Processing", NOT_STARTED: "Not started" };

/** A payment order's status. The raw status stays in data-status (tests, CSV) and as text for screen readers' context. */
export function StatusBadge({ status }: { status: string }) {
  return (
    <Badge tone={TONE[status] ?? "neutral"} data-status={status}>
      {LABEL[status] ?? status}
    </Badge>
  );
}
