// The maker-checker threshold (merchants.payout_approval_threshold, minor units of the merchant's default currency).
// Tightening it (a lower amount, or setting one) takes effect at once; loosening it (a higher amount, or clearing it)
// waits 24 h (payout_approval_threshold_next / _next_at), so one admin cannot switch approvals off, pay themselves
// through, and switch them back. The pending change is applied lazily: whoever reads the threshold after its time
// gets the new value.
import type { merchants } from "@/db/schema";

export const THRESHOLD_LOOSENING_DELAY_MS = 24 * 60 * 60 * 1000;

type ThresholdColumns = Pick<typeof merchants.$inferSelect, "payoutApprovalThreshold" | "payoutApprovalThresholdNext" | "payoutApprovalThresholdNextAt">;

export interface ThresholdState {
  /** In effect now (null: no approval needed). */
  current: bigint | null;
  /** A loosening not yet in effect. */
  pending: { amount: bigint | null; effectiveAt: Date } | null;
}

export function thresholdState(m: ThresholdColumns, now: Date = new Date()): ThresholdState {
  const at = m.payoutApprovalThresholdNextAt;
  if (!at) return { current: m.payoutApprovalThreshold, pending: null };
  if (at.getTime() <= now.getTime()) return { current: m.payoutApprovalThresholdNext, pending: null };
  return { current: m.payoutApprovalThreshold, pending: { amount: m.payoutApprovalThresholdNext, effectiveAt: at } };
}

/** Whether `next` asks for approval of at least every payout `current` asks it for. */
export function isTightening(current: bigint | null, next: bigint | null): boolean {
  if (next === null) return current === null;
  return current === null || next <= current;
}

/** The columns to write for a request to make the threshold `next` (null: clear it). */
export function thresholdChange(m: ThresholdColumns, next: bigint | null, now: Date = new Date()): Pick<ThresholdColumns, "payoutApprovalThreshold" | "payoutApprovalThresholdNext" | "payoutApprovalThresholdNextAt"> {
  const { current } = thresholdState(m, now);
  if (isTightening(current, next)) return { payoutApprovalThreshold: next, payoutApprovalThresholdNext: null, payoutApprovalThresholdNextAt: null };
  return { payoutApprovalThreshold: current, payoutApprovalThresholdNext: next, payoutApprovalThresholdNextAt: new Date(now.getTime() + THRESHOLD_LOOSENING_DELAY_MS) };
}
