"use client";

import { DataTable, type ColumnDef } from "@/components/ui/data-table";
import { Money } from "@/components/ui/money";
import { LEDGER_ACCOUNT_LABELS } from "./labels";
import type { CaseAdjustment } from "./types";

// The lines of an adjusting entry (implied by the case, or proposed): account, debit, credit.

type Line = CaseAdjustment["lines"][number];

const columns: ColumnDef<Line, unknown>[] = [
  {
    id: "account",
    header: "Account",
    cell: ({ row: { original: l } }) => (
      <span>
        {LEDGER_ACCOUNT_LABELS[l.account] ?? l.account}{" "}
        <span className="font-mono text-xs text-slate-600">
          {l.account}
          {l.psp ? `:${l.psp}` : ""}
        </span>
      </span>
    ),
  },
  { id: "debit", header: "Debit", meta: { align: "right" }, cell: ({ row: { original: l } }) => (l.side === "debit" ? <Money amount={l.amount} currency={l.currency} /> : null) },
  { id: "credit", header: "Credit", meta: { align: "right" }, cell: ({ row: { original: l } }) => (l.side === "credit" ? <Money amount={l.amount} currency={l.currency} /> : null) },
];

export function AdjustmentLines({ lines, caption }: { lines: Line[]; caption: string }) {
  return (
    <DataTable<Line>
      caption={caption}
      columns={columns}
      data={lines}
      getRowId={(l) => `${l.account}:${l.psp ?? ""}:${l.side}:${l.currency}`}
      rowTestId="adjustment-line"
      rowProps={(l) => ({ "data-account": l.account, "data-side": l.side, "data-amount": l.amount })}
      empty={{ title: "No lines" }}
    />
  );
}
