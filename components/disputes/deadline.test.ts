import { describe, expect, it } from "vitest";
import { deadlineState, formatDuration } from "./deadline";

const H = 3_600_000;
const now = new Date("2026-03-01T12:00:00Z");
const open = (dueInMs: number, extra: Partial<Parameters<typeof deadlineState>[0]> = {}) =>
  deadlineState({ status: "needs_response", evidence_due_by: new Date(now.getTime() + dueInMs).toISOString(), evidence_submitted_at: null, accepted_at: null, ...extra }, now);

describe("dispute deadlines", () => {
  it("says the time left in its two largest units, rounded down", () => {
    expect(formatDuration(5 * 24 * H + 3 * H + 59 * 60_000)).toBe("5 days 3 h");
    expect(formatDuration(24 * H)).toBe("1 day");
    expect(formatDuration(3 * H + 20 * 60_000)).toBe("3 h 20 min");
    expect(formatDuration(2 * H)).toBe("2 h");
    expect(formatDuration(12 * 60_000 + 5_000)).toBe("12 min");
    expect(formatDuration(30_000)).toBe("less than a minute");
  });

  it("marks open, urgent, overdue, answered and closed disputes", () => {
    expect(open(7 * 24 * H)).toEqual({ kind: "open", label: "7 days left", urgent: false });
    expect(open(71 * H)).toEqual({ kind: "open", label: "2 days 23 h left", urgent: true });
    expect(open(-2 * H)).toEqual({ kind: "overdue", label: "Overdue by 2 h" });
    expect(open(0)).toMatchObject({ kind: "overdue" });
    expect(open(5 * H, { evidence_submitted_at: now.toISOString(), status: "under_review" })).toEqual({ kind: "answered", label: "Evidence submitted" });
    expect(open(5 * H, { accepted_at: now.toISOString(), status: "lost" })).toEqual({ kind: "answered", label: "Loss accepted" });
    expect(open(-5 * H, { status: "won", evidence_submitted_at: now.toISOString() })).toEqual({ kind: "answered", label: "Evidence submitted, closed" });
    expect(open(-5 * H, { status: "lost" })).toEqual({ kind: "closed", label: "Closed" });
    expect(open(5 * H, { status: "warning_needs_response" })).toMatchObject({ kind: "open", label: "5 h left" });
  });
});
