import { z } from "zod";
import { currencyExponent, formatMoney, MAX_AMOUNT, isCurrencyCode, money, MoneyError, zCurrencyCode, type CurrencyCode } from "@/server/money";
import { quote } from "@/server/money/errors";
import { readMoney } from "@/server/money/money";

// Risk rule parameters per kind. Validated when a rule is written and again when it is read, so a bad row
// can never silently allow a payment (evaluation fails closed instead: see evaluate-risk.ts).

export const RISK_VELOCITY_WINDOW_MAX_S = 30 * 24 * 3600;
export const RISK_BLOCKLIST_MAX_VALUES = 10_000;

export const RISK_AMOUNT_TEXT_MAX = 40;

/** A well-formed limit in the currency's own decimals, e.g. "100000.00" (KES), "100000" (JPY): for messages and placeholders. */
export function exampleMaxAmount(currency: CurrencyCode): string {
  return formatMoney(money(100_000n * 10n ** BigInt(currencyExponent(currency)), currency));
}

/**
 * Why `value` is not a usable maximum amount in `currency`, as one sentence for the form field, or null. Checked
 * once, at the object (it needs the currency), so a bad amount yields one issue, not one per layer; the examples
 * are amounts a limit can take (never a negative one).
 */
export function maxAmountProblem(value: string, currency: CurrencyCode, opts: { positive: boolean }): string | null {
  const example = exampleMaxAmount(currency);
  if (value.trim() === "") return `Enter a maximum amount, for example "${example}"`;
  const m = readMoney(value, currency);
  if (m instanceof MoneyError) {
    if (m.code === "too_many_decimals") return `${m.message}; for example "${example}"`;
    if (m.code === "out_of_range") return `Maximum amount is too large: at most ${formatMoney(money(MAX_AMOUNT, currency))} ${currency}`;
    return `Maximum amount ${quote(value)} is not an amount: write digits with an optional "." (no sign, spaces or thousands separators), for example "${example}"`;
  }
  if (opts.positive && m.amount <= 0n) return `Maximum amount must be greater than zero, for example "${example}"`;
  return null;
}

function amountLimitParams(opts: { positive: boolean }) {
  return z
    .object({
      currency: zCurrencyCode,
      max_amount: z
        .string({ error: "max_amount must be a decimal string such as \"100000.00\"" })
        .max(RISK_AMOUNT_TEXT_MAX, `Maximum amount must be at most ${RISK_AMOUNT_TEXT_MAX} characters`),
    })
    .superRefine((p, ctx) => {
      if (!isCurrencyCode(p.currency) || typeof p.max_amount !== "string" || p.max_amount.length > RISK_AMOUNT_TEXT_MAX) return; // already reported
      const problem = maxAmountProblem(p.max_amount, p.currency, opts);
      if (problem) ctx.addIssue({ code: "custom", path: ["max_amount"], message: problem });
    });
}

/**
 * Stored params, as evaluation reads them. Lenient on the sign so a row written before limits had to be positive
 * keeps matching as it did (every payment exceeds a limit of zero or less) instead of failing closed to review.
 */
export const ZAmountLimitParams = amountLimitParams({ positive: false });
/** What a new rule may say: a limit above zero. */
export const ZAmountLimitParamsInput = amountLimitParams({ positive: true });
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
  z.object({ kind: z.literal("amount_limit"), action: z.enum(["review", "block"]), params: ZAmountLimitParamsInput }),
  z.object({ kind: z.literal("velocity"), action: z.enum(["review", "block"]), params: ZVelocityParams }),
  z.object({ kind: z.literal("blocklist"), action: z.enum(["review", "block"]), params: ZBlocklistParams }),
  z.object({ kind: z.literal("country"), action: z.enum(["review", "block"]), params: ZCountryParams }),
]);
export type TRiskRuleInput = z.infer<typeof ZRiskRuleInput>;
