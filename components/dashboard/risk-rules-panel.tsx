"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useTRPC } from "@/components/trpc/react";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { EmptyState } from "@/components/ui/empty-state";
import { Field, Input, Select } from "@/components/ui/field";
import { formatMoney } from "@/components/ui/format";
import { CURRENCY_CODES } from "@/server/money/currencies";
import { parseMoney } from "@/server/money/money";
import { amountPlaceholder, INITIAL_RULE_FORM, RULE_TEXT_MAX, validateRule, type RuleAction, type RuleFormErrors, type RuleFormField, type RuleKind } from "./risk-rule-form";

/** A stored limit ("100000.00", "KES") as money ("KES 100,000.00"); as stored if it does not parse. */
function limitText(amount: unknown, currency: unknown): string {
  try {
    const m = parseMoney(amount, currency);
    return formatMoney(m.amount, m.currency);
  } catch {
    return `${String(amount)} ${String(currency)}`;
  }
}

const KIND_LABELS: Record<string, string> = { amount_limit: "amount limit", velocity: "velocity", blocklist: "blocklist", country: "country" };

/** params is null for a platform rule: merchants learn that it exists, not its values. */
function describeRule(kind: string, params: Record<string, unknown> | null): string {
  if (!params) return `a platform ${KIND_LABELS[kind] ?? kind} rule matches`;
  switch (kind) {
    case "amount_limit":
      return `amount over ${limitText(params.max_amount, params.currency)}`;
    case "velocity":
      return `more than ${String(params.max_count)} checkouts per ${String(params.dimension)} in ${Number(params.window_s) / 60} min`;
    case "blocklist":
      return `${String(params.dimension)} in [${(params.values as string[]).join(", ")}]`;
    case "country":
      return "allowed" in params ? `country not in [${(params.allowed as string[]).join(", ")}]` : `country in [${(params.blocked as string[]).join(", ")}]`;
    default:
      return kind;
  }
}

const ID = "risk-rule";

export function RiskRulesPanel({ canEdit }: { canEdit: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const rules = useQuery(trpc.risk.rules.queryOptions());
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.risk.rules.queryKey() });
  const toggle = useMutation(trpc.risk.setRuleEnabled.mutationOptions({ onSuccess: refresh }));
  return (
    <div className="flex flex-col gap-6">
      {canEdit ? <RiskRuleForm onCreated={refresh} /> : <p className="text-sm text-slate-600">Only merchant admins can change risk rules.</p>}
      <Card title="Rules" headingLevel={3}>
        {rules.error ? (
          <p role="alert" className="text-sm text-red-700">
            {rules.error.message}
          </p>
        ) : rules.data?.length === 0 ? (
          <EmptyState title="No rules" description="Every checkout is allowed." />
        ) : (
          <ul className="-my-2 flex flex-col divide-y divide-slate-100" aria-busy={rules.isPending || undefined}>
            {rules.data?.map((r) => (
              <li key={r.id} className="flex flex-wrap items-center justify-between gap-3 py-2 text-sm" data-testid="risk-rule">
                <span>
                  <span className="font-medium">{r.action === "block" ? "Block" : "Review"}</span> when {describeRule(r.kind, r.params)}
                  {r.merchantId === null ? <span className="ml-2 text-xs text-slate-600">(platform rule)</span> : null}
                  {!r.enabled ? <span className="ml-2 text-xs text-slate-600">(disabled)</span> : null}
                </span>
                {canEdit && r.merchantId !== null ? (
                  <Button size="sm" variant="secondary" disabled={toggle.isPending} onClick={() => toggle.mutate({ ruleId: r.id, enabled: !r.enabled })}>
                    {r.enabled ? "Disable" : "Enable"}
                  </Button>
                ) : null}
              </li>
            ))}
          </ul>
        )}
        {toggle.error ? (
          <p role="alert" className="mt-2 text-sm text-red-700">
            {toggle.error.message}
          </p>
        ) : null}
      </Card>
    </div>
  );
}

function RiskRuleForm({ onCreated }: { onCreated: () => void }) {
  const trpc = useTRPC();
  const [kind, setKind] = useState<RuleKind>("amount_limit");
  const [action, setAction] = useState<RuleAction>("review");
  const [f, setF] = useState(INITIAL_RULE_FORM);
  const [errors, setErrors] = useState<RuleFormErrors>({});
  const create = useMutation(
    trpc.risk.createRule.mutationOptions({
      onSuccess: () => {
        setF(INITIAL_RULE_FORM);
        onCreated();
      },
    }),
  );

  function submit(e: FormEvent) {
    e.preventDefault();
    create.reset();
    const v = validateRule(kind, action, f);
    setErrors(v.errors ?? {});
    if (v.rule) create.mutate(v.rule);
  }

  /** Props tying a control to its label and its one error message. */
  const control = (field: RuleFormField) => ({
    id: `${ID}-${field}`,
    "aria-invalid": errors[field] ? true : undefined,
    "aria-describedby": errors[field] ? `${ID}-${field}-error` : undefined,
  });
  const set = (field: keyof typeof f) => (e: { target: { value: string } }) => {
    setF({ ...f, [field]: e.target.value });
    if (errors[field]) setErrors({ ...errors, [field]: undefined });
  };
  // A refusal the browser-side check did not foresee (a race, a server-only rule): the server's one message.
  const formError = errors.form ?? (create.error ? create.error.message : undefined);

  return (
    <Card title="Add a rule" headingLevel={3}>
      <form onSubmit={submit} noValidate className="flex flex-wrap items-start gap-3">
        <Field label="Rule" htmlFor={`${ID}-kind`}>
          <Select id={`${ID}-kind`} value={kind} onChange={(e) => { setKind(e.target.value as RuleKind); setErrors({}); }}>
            <option value="amount_limit">Amount limit</option>
            <option value="velocity">Velocity</option>
            <option value="blocklist">Blocklist</option>
            <option value="country">Countries</option>
          </Select>
        </Field>
        {kind === "amount_limit" ? (
          <>
            <Field label="Currency" htmlFor={`${ID}-currency`} error={errors.currency}>
              <Select {...control("currency")} value={f.currency} onChange={set("currency")}>
                {CURRENCY_CODES.map((c) => (
                  <option key={c} value={c}>
                    {c}
                  </option>
                ))}
              </Select>
            </Field>
            <Field label="Maximum amount" htmlFor={`${ID}-max_amount`} error={errors.max_amount} className="min-w-48 flex-1">
              <Input {...control("max_amount")} inputMode="decimal" maxLength={40} placeholder={amountPlaceholder(f.currency)} value={f.max_amount} onChange={set("max_amount")} />
            </Field>
          </>
        ) : null}
        {kind === "velocity" || kind === "blocklist" ? (
          <Field label="Match on" htmlFor={`${ID}-dimension`} error={errors.dimension}>
            <Select {...control("dimension")} value={f.dimension} onChange={set("dimension")}>
              <option value="email">Buyer email</option>
              <option value="ip">Buyer IP</option>
              {kind === "blocklist" ? <option value="country">Country</option> : null}
            </Select>
          </Field>
        ) : null}
        {kind === "velocity" ? (
          <>
            <Field label="Window (minutes)" htmlFor={`${ID}-window_min`} error={errors.window_min}>
              <Input {...control("window_min")} inputMode="numeric" maxLength={9} value={f.window_min} onChange={set("window_min")} />
            </Field>
            <Field label="Max checkouts" htmlFor={`${ID}-max_count`} error={errors.max_count}>
              <Input {...control("max_count")} inputMode="numeric" maxLength={9} value={f.max_count} onChange={set("max_count")} />
            </Field>
          </>
        ) : null}
        {kind === "blocklist" ? (
          <Field label="Values (comma or space separated)" htmlFor={`${ID}-values`} error={errors.values} className="min-w-64 flex-1">
            <Input {...control("values")} maxLength={RULE_TEXT_MAX} value={f.values} onChange={set("values")} />
          </Field>
        ) : null}
        {kind === "country" ? (
          <Field label="Blocked countries (ISO codes)" htmlFor={`${ID}-countries`} error={errors.countries} className="min-w-64 flex-1">
            <Input {...control("countries")} maxLength={RULE_TEXT_MAX} placeholder="XX, YY" value={f.countries} onChange={set("countries")} />
          </Field>
        ) : null}
        <Field label="Then" htmlFor={`${ID}-action`}>
          <Select id={`${ID}-action`} value={action} onChange={(e) => setAction(e.target.value as RuleAction)}>
            <option value="review">Hold for review</option>
            <option value="block">Block</option>
          </Select>
        </Field>
        <div className="flex flex-col gap-1">
          {/* Aligns the button with the controls, below their labels. */}
          <span aria-hidden className="text-sm">&nbsp;</span>
          <Button type="submit" variant="primary" disabled={create.isPending}>
            Add rule
          </Button>
        </div>
        {formError ? (
          <p role="alert" className="w-full text-sm text-red-700" data-testid="risk-rule-form-error">
            {formError}
          </p>
        ) : null}
        {create.isSuccess ? (
          <p role="status" className="w-full text-sm text-green-800">
            Rule added.
          </p>
        ) : null}
      </form>
    </Card>
  );
}
