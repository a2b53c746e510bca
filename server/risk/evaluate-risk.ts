import { and, count, eq, gte, isNull, or, sql } from "drizzle-orm";
import type { Tx } from "@/db/client";
import { checkouts, riskDecisions, riskRules } from "@/db/schema";
import { lookupHash } from "@/server/crypto/field";
import { parseMoney } from "@/server/money";
import { ZAmountLimitParams, ZBlocklistParams, ZCountryParams, ZVelocityParams } from "./rules";

// Evaluates a checkout against the merchant's rules and the platform-wide (ops) rules. Outcome: block if
// any blocking rule matched, else review if any reviewing rule matched, else allow. Every decision is
// recorded with its reasons, in the caller's transaction. A rule whose stored params no longer validate
// counts as a match for review (fail closed), with the reason saying so.

export type RiskOutcome = "allow" | "review" | "block";
export interface RiskSubject {
  merchantId: string;
  checkoutId: string;
  currency: string;
  totalAmount: bigint;
  email?: string;
  ip?: string;
  country?: string;
}
export interface RiskReason {
  ruleId: string;
  kind: string;
  action: string;
  reason: string;
}

export type Rule = typeof riskRules.$inferSelect;
const VELOCITY_LOCK_NAMESPACE = 727_601;

async function matchRule(tx: Tx, rule: Rule, s: RiskSubject): Promise<string | null> {
  switch (rule.kind) {
    case "amount_limit": {
      const p = ZAmountLimitParams.parse(rule.params);
      if (p.currency !== s.currency) return null;
      const max = parseMoney(p.max_amount, p.currency).amount;
      return s.totalAmount > max ? `amount exceeds ${p.max_amount} ${p.currency}` : null;
    }
    case "velocity": {
      const p = ZVelocityParams.parse(rule.params);
      const value = p.dimension === "email" ? s.email && lookupHash(s.email) : s.ip;
      if (!value) return null;
      // Concurrent checkouts by the same buyer count one after the other, not each only itself.
      await tx.execute(sql`select pg_advisory_xact_lock(${VELOCITY_LOCK_NAMESPACE}, hashtext(${`${s.merchantId}:${p.dimension}:${value}`}))`);
      const since = new Date(Date.now() - p.window_s * 1000);
      const column = p.dimension === "email" ? checkouts.buyerEmailHash : checkouts.buyerIp;
      const [row] = await tx
        .select({ n: count() })
        .from(checkouts)
        .where(and(eq(checkouts.merchantId, s.merchantId), eq(column, value), gte(checkouts.createdAt, since)));
      // The checkout being evaluated is already inserted, so it counts itself.
      return (row?.n ?? 0) > p.max_count ? `more than ${p.max_count} checkouts by ${p.dimension} in ${p.window_s}s` : null;
    }
    case "blocklist": {
      const p = ZBlocklistParams.parse(rule.params);
      const value = { email: s.email, ip: s.ip, country: s.country }[p.dimension];
      if (!value) return null;
      const hit = p.values.some((v) => v.trim().toLowerCase() === value.trim().toLowerCase());
      return hit ? `${p.dimension} is on a blocklist` : null;
    }
    case "country": {
      const p = ZCountryParams.parse(rule.params);
      // An allow-list fails closed: a buyer who does not say where they are is not in it.
      if (!s.country) return "allowed" in p ? "buyer country unknown; only allowed countries may pay" : null;
      if ("allowed" in p) return p.allowed.includes(s.country) ? null : `country ${s.country} is not allowed`;
      return p.blocked.includes(s.country) ? `country ${s.country} is blocked` : null;
    }
  }
}

/** The enabled rules that apply to a merchant (its own and the platform's), in a fixed order. */
export function loadRiskRules(tx: Tx, merchantId: string): Promise<Rule[]> {
  return tx
    .select()
    .from(riskRules)
    .where(and(eq(riskRules.enabled, true), or(eq(riskRules.merchantId, merchantId), isNull(riskRules.merchantId))))
    .orderBy(riskRules.id); // a fixed order, so rules' advisory locks are always taken in the same order
}

/**
 * Evaluates the rules for a subject and records the decision, in the caller's transaction. `rules` are the
 * rows loadRiskRules read in the same transaction (a caller may read them alongside its own queries).
 */
export async function evaluateRisk(tx: Tx, subject: RiskSubject, rules?: Rule[]): Promise<{ outcome: RiskOutcome; reasons: RiskReason[]; decisionId: string }> {
  rules ??= await loadRiskRules(tx, subject.merchantId);
  const reasons: RiskReason[] = [];
  for (const rule of rules) {
    let reason: string | null;
    let action: string = rule.action;
    try {
      reason = await matchRule(tx, rule, subject);
    } catch {
      reason = "rule parameters are invalid; held for review";
      action = "review";
    }
    if (reason) reasons.push({ ruleId: rule.id, kind: rule.kind, action, reason });
  }
  const outcome: RiskOutcome = reasons.some((r) => r.action === "block") ? "block" : reasons.length > 0 ? "review" : "allow";
  const [decision] = await tx
    .insert(riskDecisions)
    .values({ checkoutId: subject.checkoutId, merchantId: subject.merchantId, outcome, reasons })
    .returning({ id: riskDecisions.id });
  return { outcome, reasons, decisionId: decision!.id };
}
