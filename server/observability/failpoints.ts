// Failpoints for crash tests: named points in a flow (e.g. `payout.after_psp_call`: the PSP answered, nothing
// recorded yet) where a test process kills itself with SIGKILL, as a power cut would. Off unless
// PAYBRIDGE_FAILPOINTS names the point; off in production and with PSP_MODE=live (real money), whatever NODE_ENV
// says; server/startup/guard.ts also refuses the variable in production.
import { env } from "@/server/env.js";

export const FAILPOINTS = ["payout.before_psp_call", "payout.after_psp_call", "payout.after_record"] as const;
export type Failpoint = (typeof FAILPOINTS)[number];

const armed = new Set((env.PAYBRIDGE_FAILPOINTS ?? "").split(",").map((s) => s.trim()).filter(Boolean));

/** Kills this process at `name` when the variable arms it (never in production, never against live PSPs). */
export function failpoint(name: Failpoint): void {
  if (armed.size === 0 || env.NODE_ENV === "production" || env.PSP_MODE === "live" || !armed.has(name)) return;
  process.stderr.write(`failpoint ${name}: SIGKILL\n`);
  process.kill(process.pid, "SIGKILL");
}
