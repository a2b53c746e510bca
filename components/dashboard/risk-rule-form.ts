import { exampleMaxAmount, ZRiskRuleInput, type TRiskRuleInput } from "@/server/risk/rules";
import { isCurrencyCode } from "@/server/money/currencies";

// The risk-rule form's logic, apart from React: the rule its fields describe, and which field each problem belongs
// to. Validated with the server's own schema before sending, so each problem shows once, beside its field.

export type RuleKind = TRiskRuleInput["kind"];
export type RuleAction = TRiskRuleInput["action"];

export interface RuleFormState {
  currency: string;
  max_amount: string;
  dimension: string;
  values: string;
  window_min: string;
  max_count: string;
  countries: string;
}

export type RuleFormField = keyof RuleFormState | "form";
export type RuleFormErrors = Partial<Record<RuleFormField, string>>;

export const RULE_TEXT_MAX = 20_000;

export const INITIAL_RULE_FORM: RuleFormState = { currency: "KES", max_amount: "", dimension: "email", values: "", window_min: "60", max_count: "5", countries: "" };

const list = (s: string) =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);

/** A whole number from a numeric field, or NaN (so the schema reports it) for anything else. */
const whole = (s: string) => (/^\d{1,9}$/.test(s.trim()) ? Number(s.trim()) : Number.NaN);

/** The rule the form describes (not yet validated). */
export function buildRule(kind: RuleKind, action: RuleAction, f: RuleFormState): unknown {
  switch (kind) {
    case "amount_limit":
      return { kind, action, params: { currency: f.currency.trim(), max_amount: f.max_amount.trim() } };
    case "velocity":
      return { kind, action, params: { dimension: f.dimension, window_s: whole(f.window_min) * 60, max_count: whole(f.max_count) } };
    case "blocklist":
      return { kind, action, params: { dimension: f.dimension, values: list(f.values) } };
    case "country":
      return { kind, action, params: { blocked: list(f.countries).map((c) => c.toUpperCase()) } };
  }
}

/** Messages the form writes itself where the schema's would speak of seconds or of its own names. */
const OWN_MESSAGES: Partial<Record<RuleFormField, string>> = {
  window_min: "Enter a whole number of minutes from 1 to 43200 (30 days)",
  max_count: "Enter a whole number of checkouts, 1 or more",
  values: "Enter at least one value (at most 10,000)",
  countries: "Enter two-letter ISO country codes, such as KE or NG, separated by commas",
};

const FIELD_OF_PARAM: Record<string, RuleFormField> = {
  currency: "currency",
  max_amount: "max_amount",
  dimension: "dimension",
  window_s: "window_min",
  max_count: "max_count",
  values: "values",
  blocked: "countries",
  allowed: "countries",
};

/** The validated rule, or one message per field (the first problem found for it). */
export function validateRule(kind: RuleKind, action: RuleAction, f: RuleFormState): { rule: TRiskRuleInput; errors: null } | { rule: null; errors: RuleFormErrors } {
  const parsed = ZRiskRuleInput.safeParse(buildRule(kind, action, f));
  if (parsed.success) return { rule: parsed.data, errors: null };
  const errors: RuleFormErrors = {};
  for (const issue of parsed.error.issues) {
    const param = issue.path[0] === "params" ? String(issue.path[1] ?? "") : "";
    const field = FIELD_OF_PARAM[param] ?? "form";
    errors[field] ??= OWN_MESSAGES[field] ?? issue.message;
  }
  return { rule: null, errors };
}

/** The amount field's placeholder: a limit in the chosen currency's decimals. */
export function amountPlaceholder(currency: string): string {
  return isCurrencyCode(currency) ? exampleMaxAmount(currency) : "100000.00";
}
