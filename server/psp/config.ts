// Where the connectors point: the local sandbox (PSP_MODE=sandbox, the default) or the real PSPs (live).
import { env } from "@/server/env.js";

export const STRIPE_LIVE_BASE = "https://api.stripe.com";
export const DARAJA_LIVE_BASE = "https://api.safaricom.co.ke";

export function sandboxUrl(): string {
  return env.SANDBOX_URL ?? `http://127.0.0.1:${env.SANDBOX_PORT}`;
}

export function stripeApiBase(): string {
  if (env.STRIPE_API_BASE) return env.STRIPE_API_BASE;
  return env.PSP_MODE === "live" ? STRIPE_LIVE_BASE : sandboxUrl();
}

export function darajaApiBase(): string {
  if (env.DARAJA_API_BASE) return env.DARAJA_API_BASE;
  return env.PSP_MODE === "live" ? DARAJA_LIVE_BASE : sandboxUrl();
}

/** Live mode with the sandbox's dev defaults would send real traffic with fake keys: the variables to fix. */
export function liveConfigProblems(e: Pick<typeof env, "PSP_MODE" | "STRIPE_SECRET_KEY" | "STRIPE_WEBHOOK_SECRET" | "DARAJA_CONSUMER_KEY" | "MPESA_CALLBACK_SECRET"> = env): string[] {
  if (e.PSP_MODE !== "live") return [];
  const problems: string[] = [];
  if (e.STRIPE_SECRET_KEY.includes("sandbox")) problems.push("STRIPE_SECRET_KEY");
  if (e.STRIPE_WEBHOOK_SECRET.includes("sandbox")) problems.push("STRIPE_WEBHOOK_SECRET");
  if (e.DARAJA_CONSUMER_KEY.startsWith("sandbox")) problems.push("DARAJA_CONSUMER_KEY");
  if (e.MPESA_CALLBACK_SECRET.includes("dev-secret")) problems.push("MPESA_CALLBACK_SECRET");
  return problems;
}

/** Live mode with the sandbox's dev defaults would send real traffic with fake keys: refuse early. */
export function assertLiveConfig(): void {
  const problems = liveConfigProblems();
  if (problems.length) throw new Error(`PSP_MODE=live needs real values for: ${problems.join(", ")}`);
}
