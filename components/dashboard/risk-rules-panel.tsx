"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useTRPC } from "@/components/trpc/react";
import type { TRiskRuleInput } from "@/server/risk/rules";

type Kind = TRiskRuleInput["kind"];
const input = "rounded-md border border-slate-300 px-3 py-2 font-normal";
const list = (s: string) => s.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);

const KIND_LABELS: Record<string, string> = { amount_limit: "amount limit", velocity: "velocity", blocklist: "blocklist", country: "country" };

/** params is null for a platform rule: merchants learn that it exists, not its values. */
function describeRule(kind: string, params: Record<string, unknown> | null): string {
  if (!params) return `a platform ${KIND_LABELS[kind] ?? kind} rule matches`;
  switch (kind) {
    case "amount_limit":
      return `amount over ${String(params.max_amount)} ${String(params.currency)}`;
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

export function RiskRulesPanel({ canEdit }: { canEdit: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const rules = useQuery(trpc.risk.rules.queryOptions());
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.risk.rules.queryKey() });
  const create = useMutation(trpc.risk.createRule.mutationOptions({ onSuccess: refresh }));
  const toggle = useMutation(trpc.risk.setRuleEnabled.mutationOptions({ onSuccess: refresh }));
  const [kind, setKind] = useState<Kind>("amount_limit");
  const [action, setAction] = useState<"review" | "block">("review");
  const [f, setF] = useState({ currency: "KES", max_amount: "", dimension: "email", values: "", window_min: "60", max_count: "5", countries: "" });

  function submit(e: FormEvent) {
    e.preventDefault();
    const rule: TRiskRuleInput =
      kind === "amount_limit"
        ? { kind, action, params: { currency: f.currency as "KES", max_amount: f.max_amount } }
        : kind === "velocity"
          ? { kind, action, params: { dimension: f.dimension as "email" | "ip", window_s: Number(f.window_min) * 60, max_count: Number(f.max_count) } }
          : kind === "blocklist"
            ? { kind, action, params: { dimension: f.dimension as "email", values: list(f.values) } }
            : { kind, action, params: { blocked: list(f.countries).map((c) => c.toUpperCase()) } };
    create.mutate(rule);
  }
  const fieldErrors = create.error?.data?.zodError?.fieldErrors;
  return (
    <div className="flex flex-col gap-6">
      {canEdit ? (
        <form onSubmit={submit} className="flex flex-wrap items-end gap-3 rounded-lg border border-slate-200 bg-white p-4">
          <label className="flex flex-col gap-1 text-sm font-medium">
            Rule
            <select className={input} value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
              <option value="amount_limit">Amount limit</option>
              <option value="velocity">Velocity</option>
              <option value="blocklist">Blocklist</option>
              <option value="country">Countries</option>
            </select>
          </label>
          {kind === "amount_limit" ? (
            <>
              <label className="flex flex-col gap-1 text-sm font-medium">
                Currency
                <input className={input} value={f.currency} onChange={(e) => setF({ ...f, currency: e.target.value.toUpperCase() })} />
              </label>
              <label className="flex flex-col gap-1 text-sm font-medium">
                Maximum amount
                <input className={input} inputMode="decimal" placeholder="100000.00" value={f.max_amount} onChange={(e) => setF({ ...f, max_amount: e.target.value })} />
              </label>
            </>
          ) : null}
          {kind === "velocity" || kind === "blocklist" ? (
            <label className="flex flex-col gap-1 text-sm font-medium">
              Match on
              <select className={input} value={f.dimension} onChange={(e) => setF({ ...f, dimension: e.target.value })}>
                <option value="email">Buyer email</option>
                <option value="ip">Buyer IP</option>
                {kind === "blocklist" ? <option value="country">Country</option> : null}
              </select>
            </label>
          ) : null}
          {kind === "velocity" ? (
            <>
              <label className="flex flex-col gap-1 text-sm font-medium">
                Window (minutes)
                <input className={input} inputMode="numeric" value={f.window_min} onChange={(e) => setF({ ...f, window_min: e.target.value })} />
              </label>
              <label className="flex flex-col gap-1 text-sm font-medium">
                Max checkouts
                <input className={input} inputMode="numeric" value={f.max_count} onChange={(e) => setF({ ...f, max_count: e.target.value })} />
              </label>
            </>
          ) : null}
          {kind === "blocklist" ? (
            <label className="flex flex-col gap-1 text-sm font-medium">
              Values (comma or space separated)
              <input className={input} value={f.values} onChange={(e) => setF({ ...f, values: e.target.value })} />
            </label>
          ) : null}
          {kind === "country" ? (
            <label className="flex flex-col gap-1 text-sm font-medium">
              Blocked countries (ISO codes)
              <input className={input} placeholder="XX, YY" value={f.countries} onChange={(e) => setF({ ...f, countries: e.target.value })} />
            </label>
          ) : null}
          <label className="flex flex-col gap-1 text-sm font-medium">
            Then
            <select className={input} value={action} onChange={(e) => setAction(e.target.value as "review" | "block")}>
              <option value="review">Hold for review</option>
              <option value="block">Block</option>
            </select>
          </label>
          <button type="submit" disabled={create.isPending} className="rounded-md bg-brand-600 px-4 py-2 font-medium text-white hover:bg-brand-700 disabled:opacity-60">
            Add rule
          </button>
          {create.error ? (
            <p role="alert" className="w-full text-sm text-red-700">
              {fieldErrors ? Object.entries(fieldErrors).map(([k, v]) => `${k}: ${v?.join(", ")}`).join("; ") || create.error.message : create.error.message}
            </p>
          ) : null}
        </form>
      ) : (
        <p className="text-sm text-slate-500">Only merchant admins can change risk rules.</p>
      )}
      <ul className="flex flex-col divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white">
        {rules.data?.map((r) => (
          <li key={r.id} className="flex items-center justify-between gap-3 px-4 py-3 text-sm">
            <span>
              <span className="font-medium">{r.action === "block" ? "Block" : "Review"}</span> when {describeRule(r.kind, r.params)}
              {r.merchantId === null ? <span className="ml-2 text-xs text-slate-500">(platform rule)</span> : null}
              {!r.enabled ? <span className="ml-2 text-xs text-slate-500">(disabled)</span> : null}
            </span>
            {canEdit && r.merchantId !== null ? (
              <button className="text-brand-700 underline" onClick={() => toggle.mutate({ ruleId: r.id, enabled: !r.enabled })}>
                {r.enabled ? "Disable" : "Enable"}
              </button>
            ) : null}
          </li>
        ))}
        {rules.data?.length === 0 ? <li className="px-4 py-6 text-center text-sm text-slate-500">No rules: every checkout is allowed.</li> : null}
      </ul>
    </div>
  );
}
