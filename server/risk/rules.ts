import { z } from "zod";
import { MoneyError, parseMoney, zAmountString, zCurrencyCode } from "@/server/money";

// Risk rule parameters per kind. Validated when a rule is written and again when it is read, so a bad row
// can never silently allow a payment (evaluation fails closed instead: see evaluate-risk.ts).

export const RISK_VELOCITY_WINDOW_MAX_S = 30 * 24 * 3600;
export const RISK_BLOCKLIST_MAX_VALUES = 10_000;

export const ZAmountLimitParams = z.object({ currency: zCurrencyCode, max_amount: zAmountString }).superRefine((p, ctx) => {
  try {
    parseMoney(p.max_amount, p.currency);
  } catch (e) {
    if (!(e instanceof MoneyError)) throw e;
    ctx.addIssue({ code: "custom", path: ["max_amount"], message: e.message });
  }
});
export const ZVelocityParams = z.object({
  dimension: z.enum(["email", "ip"]),
  window_s: z.number().int().min(1).max(RISK_VELOCITY_WINDOW_MAX_S),
  max_count: z.number().int().min(1),
});
// Card fingerprints and phones are only known once the buyer pays, after this check runs: blocklists on
// them are refused until they are evaluated at payment time, rather than accepted and silently ignored.
export const ZBlocklistParams = z.object({
  dimension: z.enum(["email", "ip", "country"]),
  values: z.array(z.string().min(1)).min(1).max(RISK_BLOCKLIST_MAX_VALUES),
});
export const ZCountryParams = z.union([
  z.object({ allowed: z.array(z.string().regex(/^[A-Z]{2}$/)).min(1) }),
  z.object({ blocked: z.array(z.string().regex(/^[A-Z]{2}$/)).min(1) }),
]);

export const ZRiskRuleInput = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("amount_limit"), action: z.enum(["review", "block"]), params: ZAmountLimitParams }),
  z.object({ kind: z.literal("velocity"), action: z.enum(["review", "block"]), params: ZVelocityParams }),
  z.object({ kind: z.literal("blocklist"), action: z.enum(["review", "block"]), params: ZBlocklistParams }),
  z.object({ kind: z.literal("country"), action: z.enum(["review", "block"]), params: ZCountryParams }),
]);
export type TRiskRuleInput = z.infer<typeof ZRiskRuleInput>;
