// A dispute's deadline as the dashboard says it: the time left ("5 days 3 h left"), overdue, or answered. Pure
// (no React), so the list, the detail page and the notice agree, and the unit test pins the wording.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** "5 days 3 h", "1 day", "3 h 20 min", "12 min", "less than a minute": the two largest units, rounded down. */
export function formatDuration(ms: number): string {
  const abs = Math.max(0, Math.floor(ms));
  if (abs < MINUTE) return "less than a minute";
  const days = Math.floor(abs / DAY);
  const hours = Math.floor((abs % DAY) / HOUR);
  const minutes = Math.floor((abs % HOUR) / MINUTE);
  if (days > 0) return hours > 0 ? `${plural(days, "day", "days")} ${hours} h` : plural(days, "day", "days");
  if (hours > 0) return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`;
  return `${minutes} min`;
}

export type DeadlineState =
  | { kind: "open"; label: string; urgent: boolean }
  | { kind: "overdue"; label: string }
  | { kind: "answered"; label: string }
  | { kind: "closed"; label: string }
  | { kind: "none"; label: string };

const RESPONDABLE = new Set(["needs_response", "warning_needs_response"]);
const FINAL = new Set(["won", "lost", "warning_closed"]);

export function deadlineState(
  d: { status: string; evidence_due_by: string | null; evidence_submitted_at: string | null; accepted_at: string | null },
  now: Date = new Date(),
): DeadlineState {
  if (d.accepted_at) return { kind: "answered", label: "Loss accepted" };
  if (d.evidence_submitted_at) return { kind: "answered", label: FINAL.has(d.status) ? "Evidence submitted, closed" : "Evidence submitted" };
  if (FINAL.has(d.status)) return { kind: "closed", label: "Closed" };
  if (!RESPONDABLE.has(d.status)) return { kind: "answered", label: "Under review" };
  if (!d.evidence_due_by) return { kind: "none", label: "No deadline given" };
  const left = new Date(d.evidence_due_by).getTime() - now.getTime();
  if (left <= 0) return { kind: "overdue", label: `Overdue by ${formatDuration(-left)}` };
  return { kind: "open", label: `${formatDuration(left)} left`, urgent: left <= 3 * DAY };
}

export const DISPUTE_STATUS_LABELS: Record<string, string> = {
  warning_needs_response: "Inquiry: needs response",
  warning_under_review: "Inquiry: under review",
  warning_closed: "Inquiry closed",
  needs_response: "Needs response",
  under_review: "Under review",
  won: "Won",
  lost: "Lost",
};

export const DISPUTE_STATUS_TONES: Record<string, "neutral" | "success" | "warning" | "danger" | "info"> = {
  warning_needs_response: "warning",
  warning_under_review: "info",
  warning_closed: "neutral",
  needs_response: "danger",
  under_review: "info",
  won: "success",
  lost: "danger",
};

/** Stripe's reason codes, as a merchant reads them. */
export function disputeReasonLabel(reason: string): string {
  const s = reason.replaceAll("_", " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}
