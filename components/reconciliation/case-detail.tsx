"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import type { ReactNode } from "react";
import { useTRPC } from "@/components/trpc/react";
import { Badge } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { DataTable, type ColumnDef } from "@/components/ui/data-table";
import { Money } from "@/components/ui/money";
import { pspLabel } from "@/components/ui/psp-label";
import { Time } from "@/components/ui/time";
import { AdjustmentLines } from "./adjustment-lines";
import { CaseActions } from "./case-actions";
import { CaseStatusBadge } from "./case-status-badge";
import { ADJUSTMENT_STATUS_LABELS, CASE_STATUS_LABELS, CASE_TYPE_HELP, CASE_TYPE_LABELS } from "./labels";
import type { CaseDetail, CaseLedgerTransaction, CaseSettlementRow } from "./types";

// One reconciliation case (reconciliation.get): what it is, both sides side by side (the PSP's settlement rows; the
// movement we expected with its ledger transactions and their entries), the adjusting entry it implies, the
// actions, the adjustments proposed so far and the case's timeline. Refetched every 30 s while unresolved (another
// ops user may approve meanwhile) and at once after every action.

const REFETCH_MS = 30_000;
type Side = CaseDetail["pspSide"];

function Item({ label, children, testId, wide }: { label: string; children: ReactNode; testId?: string; wide?: boolean }) {
  return (
    <div className={wide ? "col-span-full min-w-0" : "min-w-0"}>
      <dt className="text-slate-600">{label}</dt>
      <dd className="wrap-anywhere" data-testid={testId}>
        {children}
      </dd>
    </div>
  );
}

const KNOWN_KEYS = new Set(["reference", "category", "currency", "amount", "fee", "count", "rowIds", "status", "occurredAt", "ledgerTransactionIds"]);
const isMinor = (v: unknown): v is string => typeof v === "string" && /^-?\d+$/.test(v);

/** What one side says, as the matcher last saw it (ReconSide: amounts are minor-unit strings). */
function SideFacts({ side, currency, testId }: { side: Side; currency: string; testId: string }) {
  const cur = typeof side.currency === "string" && /^[A-Z]{3}$/.test(side.currency) ? side.currency : currency;
  const extra = Object.entries(side).filter(([k, v]) => !KNOWN_KEYS.has(k) && v !== null && v !== undefined);
  const empty = Object.keys(side).length === 0;
  if (empty) return <p className="text-sm text-slate-600" data-testid={testId}>Nothing on this side.</p>;
  return (
    <dl className="grid grid-cols-2 gap-x-4 gap-y-2 text-sm" data-testid={testId}>
      {side.reference ? <Item label="Reference"><span className="font-mono text-xs">{side.reference}</span></Item> : null}
      {side.category ? <Item label="Category">{side.category}</Item> : null}
      {side.status ? <Item label="Status">{side.status}</Item> : null}
      {isMinor(side.amount) ? <Item label="Amount" testId={`${testId}-amount`}><Money amount={side.amount} currency={cur} /></Item> : null}
      {isMinor(side.fee) ? <Item label="Fee"><Money amount={side.fee} currency={cur} /></Item> : null}
      {side.currency ? <Item label="Currency">{side.currency}</Item> : null}
      {typeof side.count === "number" ? <Item label="Count">{side.count}</Item> : null}
      {side.occurredAt ? <Item label="Occurred"><Time value={side.occurredAt} /></Item> : null}
      {extra.map(([k, v]) => (
        <Item key={k} label={k}>
          <span className="font-mono text-xs">{typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : JSON.stringify(v)}</span>
        </Item>
      ))}
    </dl>
  );
}

const rowColumns: ColumnDef<CaseSettlementRow, unknown>[] = [
  {
    id: "row",
    header: "PSP row",
    cell: ({ row: { original: r } }) => (
      <span className="flex min-w-32 flex-col">
        <span className="font-mono text-xs break-all">
          {r.pspRowId}
          {r.occurrence > 1 ? ` (×${r.occurrence})` : ""}
        </span>
        <span className="text-xs text-slate-600">
          {r.category} · <Time value={r.occurredAt} />
        </span>
      </span>
    ),
  },
  { id: "gross", header: "Gross", meta: { align: "right" }, cell: ({ row: { original: r } }) => <Money amount={r.gross} currency={r.currency} /> },
  { id: "fee", header: "Fee", meta: { align: "right" }, cell: ({ row: { original: r } }) => <Money amount={r.fee} currency={r.currency} /> },
  { id: "net", header: "Net", meta: { align: "right" }, cell: ({ row: { original: r } }) => <Money amount={r.net} currency={r.currency} /> },
];

function SettlementRows({ rows }: { rows: CaseSettlementRow[] }) {
  return (
    <DataTable<CaseSettlementRow>
      caption="Settlement rows the PSP reported"
      columns={rowColumns}
      data={rows}
      getRowId={(r) => r.id}
      rowTestId="settlement-row"
      empty={{ title: "No settlement rows", description: "The PSP has reported nothing for this reference." }}
    />
  );
}

function LedgerTransactionBlock({ tx }: { tx: CaseLedgerTransaction }) {
  type Entry = CaseLedgerTransaction["entries"][number];
  const cols: ColumnDef<Entry, unknown>[] = [
    { id: "account", header: "Account", cell: ({ row: { original: e } }) => <span className="font-mono text-xs break-all">{e.accountKey}</span> },
    { id: "debit", header: "Debit", meta: { align: "right" }, cell: ({ row: { original: e } }) => (e.side === "debit" ? <Money amount={e.amount} currency={e.currency} /> : null) },
    { id: "credit", header: "Credit", meta: { align: "right" }, cell: ({ row: { original: e } }) => (e.side === "credit" ? <Money amount={e.amount} currency={e.currency} /> : null) },
  ];
  return (
    <div className="flex flex-col gap-1" data-testid="ledger-transaction" data-source={tx.source} data-transaction-id={tx.id}>
      <p className="text-sm">
        <span className="font-mono text-xs break-all">{tx.id}</span> · <span className="font-medium">{tx.source}</span> <span className="font-mono text-xs break-all text-slate-600">{tx.sourceId}</span>
      </p>
      <p className="text-xs text-slate-600">
        {tx.description} · posted <Time value={tx.postedAt} />
      </p>
      <DataTable<Entry> caption={`Entries of ${tx.id}`} columns={cols} data={tx.entries} getRowId={(e) => `${e.accountKey}:${e.side}:${e.currency}:${e.amount}`} rowTestId="ledger-entry" empty={{ title: "No entries" }} />
    </div>
  );
}

function Timeline({ detail }: { detail: CaseDetail }) {
  return (
    <ol className="flex flex-col gap-3" data-testid="case-timeline">
      {detail.transitions.map((t) => {
        const data = t.data && typeof t.data === "object" && Object.keys(t.data).length > 0 ? JSON.stringify(t.data) : null;
        return (
          <li key={t.id} data-testid="case-transition" data-to={t.toStatus} className="flex flex-col gap-0.5 border-l-2 border-slate-200 pl-3 text-sm sm:flex-row sm:items-baseline sm:gap-3">
            <Time value={t.at} className="shrink-0 text-xs text-slate-600" />
            <span className="min-w-0">
              {t.fromStatus ? `${CASE_STATUS_LABELS[t.fromStatus as keyof typeof CASE_STATUS_LABELS] ?? t.fromStatus} → ` : "Opened as "}
              <span className="font-medium">{CASE_STATUS_LABELS[t.toStatus as keyof typeof CASE_STATUS_LABELS] ?? t.toStatus}</span>
              <span className="text-slate-600">
                {" "}
                · {t.reason.replaceAll("_", " ")}
                {t.actorName || t.actorUserId ? ` · by ${t.actorName ?? t.actorUserId}` : " · by the matcher"}
              </span>
              {data ? <span className="block font-mono text-xs break-all text-slate-600">{data}</span> : null}
            </span>
          </li>
        );
      })}
    </ol>
  );
}

function AdjustmentHistory({ detail }: { detail: CaseDetail }) {
  if (detail.adjustments.length === 0) return <p className="text-sm text-slate-600">None proposed yet.</p>;
  return (
    <ul className="flex flex-col gap-3">
      {detail.adjustments.map((a) => (
        <li key={a.id} className="flex flex-col gap-0.5 text-sm" data-testid="adjustment" data-status={a.status}>
          <span>
            <Badge tone={a.status === "approved" ? "success" : a.status === "pending" ? "warning" : "neutral"}>{ADJUSTMENT_STATUS_LABELS[a.status] ?? a.status}</Badge> <span className="font-mono text-xs break-all">{a.id}</span>
          </span>
          <span className="text-slate-700">
            Proposed by {a.proposedByName ?? a.proposedByUserId} on <Time value={a.proposedAt} />: &ldquo;{a.note}&rdquo;
          </span>
          {a.decidedAt ? (
            <span className="text-slate-700">
              {a.status === "approved" ? "Approved" : a.status === "rejected" ? "Rejected" : "Closed"}
              {a.decidedByName || a.decidedByUserId ? ` by ${a.decidedByName ?? a.decidedByUserId}` : ""} on <Time value={a.decidedAt} />
              {a.decisionNote ? <>: &ldquo;{a.decisionNote}&rdquo;</> : null}
            </span>
          ) : null}
          {a.ledgerTransactionId ? (
            <span className="text-slate-700">
              Posted as <span className="font-mono text-xs" data-testid="adjustment-ledger-transaction">{a.ledgerTransactionId}</span>
            </span>
          ) : null}
        </li>
      ))}
    </ul>
  );
}

export function CaseDetailView({ initial, viewerId }: { initial: CaseDetail; viewerId: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const query = useQuery({
    ...trpc.reconciliation.get.queryOptions({ caseId: initial.id }),
    initialData: initial,
    refetchInterval: (q) => (q.state.data?.status === "resolved" ? false : REFETCH_MS),
  });
  const d = query.data;
  const onDone = () => {
    void query.refetch();
    router.refresh(); // the nav badge and the overview's counts (server layout)
  };
  const adjustmentTx = d.ledgerTransactions.filter((t) => d.adjustments.some((a) => a.ledgerTransactionId === t.id));
  const heldTx = d.ledgerTransactions.filter((t) => !adjustmentTx.includes(t));
  return (
    <div className="flex flex-col gap-4" data-testid="case-detail" data-status={d.status} data-resolution={d.resolution ?? undefined}>
      <div>
        <Link href="/ops/reconciliation" className="text-sm text-slate-700 underline underline-offset-2 hover:text-brand-700">
          ← All cases
        </Link>
      </div>
      <Card title={<span className="break-all">{CASE_TYPE_LABELS[d.type]} · {d.reference}</span>} description={CASE_TYPE_HELP[d.type]} actions={<CaseStatusBadge status={d.status} resolution={d.resolution} />}>
        <div className="flex flex-col gap-3">
          <p className="text-3xl font-semibold tracking-tight text-slate-900" data-testid="case-amount-at-risk">
            <Money amount={d.amountAtRisk} currency={d.currency} /> <span className="text-sm font-normal text-slate-600">at risk</span>
          </p>
          {d.detail ? <p className="text-sm text-slate-800" data-testid="case-detail-text">{d.detail}</p> : null}
          <dl className="grid grid-cols-1 gap-x-6 gap-y-3 text-sm sm:grid-cols-2 lg:grid-cols-4">
            <Item label="PSP">{pspLabel(d.psp)}</Item>
            <Item label="Reference"><span className="font-mono text-xs">{d.reference}</span></Item>
            <Item label="Merchant">
              {d.merchantId ? (
                <Link className="underline" href={`/ops/merchants/${encodeURIComponent(d.merchantId)}`}>
                  {d.merchantName ?? d.merchantId}
                </Link>
              ) : (
                "—"
              )}
            </Item>
            <Item label="Delta to PSP clearing" testId="case-delta">
              {d.delta.length === 0 ? "—" : d.delta.map((x) => (
                <span key={x.currency} className="block">
                  {x.amount.startsWith("-") ? "−" : "+"}
                  <Money amount={x.amount.replace(/^-/, "")} currency={x.currency} />
                </span>
              ))}
            </Item>
            <Item label="First seen"><Time value={d.firstSeenAt} /></Item>
            <Item label="Last seen"><Time value={d.lastSeenAt} /></Item>
            <Item label="Facts version">{d.factsVersion}</Item>
            {d.resolvedAt ? (
              <Item label="Resolved" testId="case-resolved">
                <Time value={d.resolvedAt} />
                {d.resolvedByName ? ` by ${d.resolvedByName}` : d.resolution === "auto" ? " by the matcher" : ""}
              </Item>
            ) : null}
            {d.acceptedUntil ? <Item label="Re-raised on"><Time value={d.acceptedUntil} /></Item> : null}
            {d.note ? <Item label="Note" testId="case-note" wide>{d.note}</Item> : null}
          </dl>
        </div>
      </Card>

      <div className="grid gap-4 lg:grid-cols-2">
        <Card className="min-w-0" title="What the PSP reported" description="Its settlement rows for this reference, as imported." data-testid="psp-side">
          <div className="flex flex-col gap-3">
            <SideFacts side={d.pspSide} currency={d.currency} testId="psp-facts" />
            <SettlementRows rows={d.settlementRows} />
          </div>
        </Card>
        <Card className="min-w-0" title="What we hold" description="The movement we expected (attempt, refund, payout) and its ledger transactions." data-testid="ledger-side">
          <div className="flex flex-col gap-3">
            <SideFacts side={d.ledgerSide} currency={d.currency} testId="ledger-facts" />
            {heldTx.length === 0 ? <p className="text-sm text-slate-600">No ledger transaction for this reference.</p> : heldTx.map((t) => <LedgerTransactionBlock key={t.id} tx={t} />)}
          </div>
        </Card>
      </div>

      {d.status !== "resolved" ? (
        <Card title="Implied adjusting entry" description="What an approved adjustment posts so the ledger agrees with the PSP." data-testid="implied-adjustment">
          {d.impliedAdjustment.lines ? (
            <AdjustmentLines lines={d.impliedAdjustment.lines} caption="Implied adjusting entry" />
          ) : (
            <p className="text-sm text-slate-700">{d.impliedAdjustment.refusal}</p>
          )}
        </Card>
      ) : null}

      <Card title="Resolve" data-testid="case-actions">
        <CaseActions detail={d} viewerId={viewerId} onDone={onDone} />
      </Card>

      <Card title="Adjustments" description="Proposed adjusting entries, newest first, and the ledger transaction each approval posted." data-testid="case-adjustments">
        <div className="flex flex-col gap-3">
          <AdjustmentHistory detail={d} />
          {adjustmentTx.map((t) => (
            <LedgerTransactionBlock key={t.id} tx={t} />
          ))}
        </div>
      </Card>

      <Card title="Timeline" description="Every status change, oldest first.">
        <Timeline detail={d} />
      </Card>
    </div>
  );
}
