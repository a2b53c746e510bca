import { and, desc, eq, isNull, or } from "drizzle-orm";
import type { Db, DbOrTx } from "@/db/client";
import { riskRules } from "@/db/schema";
import { recordAudit } from "@/server/audit/record-audit";
import { AppError } from "@/server/errors";
import type { TRiskRuleInput } from "./rules";

/** merchantId null = a platform-wide rule (ops only). */
export async function createRiskRule(db: Db, opts: { merchantId: string | null; actorUserId: string; input: TRiskRuleInput }) {
  return db.transaction(async (tx) => {
    const [rule] = await tx
      .insert(riskRules)
      .values({ merchantId: opts.merchantId, kind: opts.input.kind, action: opts.input.action, params: opts.input.params, createdByUserId: opts.actorUserId })
      .returning();
    await recordAudit(tx, {
      actor: opts.actorUserId,
      merchantId: opts.merchantId,
      action: "risk_rule.created",
      target: { type: "risk_rule", id: rule!.id },
      data: { kind: rule!.kind, action: rule!.action, params: rule!.params },
    });
    return rule!;
  });
}

export async function setRiskRuleEnabled(db: Db, opts: { merchantId: string | null; actorUserId: string; ruleId: string; enabled: boolean }) {
  return db.transaction(async (tx) => {
    const scope = opts.merchantId ? eq(riskRules.merchantId, opts.merchantId) : isNull(riskRules.merchantId);
    const [rule] = await tx.update(riskRules).set({ enabled: opts.enabled }).where(and(eq(riskRules.id, opts.ruleId), scope)).returning();
    if (!rule) throw new AppError("not_found", "Risk rule not found");
    await recordAudit(tx, {
      actor: opts.actorUserId,
      merchantId: opts.merchantId,
      action: opts.enabled ? "risk_rule.enabled" : "risk_rule.disabled",
      target: { type: "risk_rule", id: rule.id },
    });
    return rule;
  });
}

/** The merchant's own rules plus the platform-wide ones that also apply to it, in full (ops and evaluation). */
export async function listRiskRules(db: DbOrTx, merchantId: string | null) {
  const scope = merchantId ? or(eq(riskRules.merchantId, merchantId), isNull(riskRules.merchantId)) : isNull(riskRules.merchantId);
  return db.select().from(riskRules).where(scope).orderBy(desc(riskRules.createdAt));
}

type RiskRuleRow = typeof riskRules.$inferSelect;
/** A rule as a merchant sees it: params null for a platform rule. */
export type TMerchantRiskRule = Pick<RiskRuleRow, "id" | "merchantId" | "kind" | "action" | "enabled" | "createdAt" | "updatedAt"> & { params: RiskRuleRow["params"] | null };

/**
 * What a merchant's users see: their own rules in full; of a platform rule only that it exists (kind, action,
 * enabled), never its params — blocked emails and IPs are other merchants' buyers, and thresholds would show
 * how to stay under them. Ops read platform rules in full through listRiskRules.
 */
export async function listMerchantRiskRules(db: DbOrTx, merchantId: string): Promise<TMerchantRiskRule[]> {
  const rules = await listRiskRules(db, merchantId);
  return rules.map((r) => ({
    id: r.id,
    merchantId: r.merchantId,
    kind: r.kind,
    action: r.action,
    enabled: r.enabled,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    params: r.merchantId === merchantId ? r.params : null,
  }));
}
