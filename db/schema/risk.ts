import { sql } from "drizzle-orm";
import { boolean, check, index, jsonb, pgEnum, pgTable, text } from "drizzle-orm/pg-core";
import { newId } from "../ids";
import { users } from "./auth";
import { createdAt, updatedAt } from "./columns";
import { merchants } from "./merchants";
import { checkouts } from "./payments";

export const riskRuleKind = pgEnum("risk_rule_kind", ["amount_limit", "velocity", "blocklist", "country"]);
export const riskOutcome = pgEnum("risk_outcome", ["allow", "review", "block"]);

/** A rule applies to one merchant, or (merchant_id null) platform-wide, set by ops. */
export const riskRules = pgTable(
  "risk_rules",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("rsk")),
    merchantId: text("merchant_id").references(() => merchants.id),
    kind: riskRuleKind("kind").notNull(),
    /** Outcome when the rule matches. */
    action: riskOutcome("action").notNull(),
    /** Kind-specific parameters, validated by server/risk/rules.ts on write and on read. */
    params: jsonb("params").$type<Record<string, unknown>>().notNull(),
    enabled: boolean("enabled").notNull().default(true),
    createdByUserId: text("created_by_user_id").references(() => users.id),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("risk_rules_merchant_idx").on(t.merchantId), check("risk_rules_action_not_allow", sql`${t.action} <> 'allow'`)],
);

export const riskDecisions = pgTable(
  "risk_decisions",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("rdc")),
    checkoutId: text("checkout_id")
      .notNull()
      .references(() => checkouts.id),
    merchantId: text("merchant_id")
      .notNull()
      .references(() => merchants.id),
    outcome: riskOutcome("outcome").notNull(),
    /** [{ruleId, kind, action, reason}] for every rule that matched. */
    reasons: jsonb("reasons").$type<{ ruleId: string; kind: string; action: string; reason: string }[]>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("risk_decisions_checkout_idx").on(t.checkoutId), index("risk_decisions_merchant_idx").on(t.merchantId, t.outcome)],
);
