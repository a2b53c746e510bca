"use client";

import Link from "next/link";
import { Badge } from "@/components/ui/badge";
import { DataTable, type ColumnDef } from "@/components/ui/data-table";
import { Money } from "@/components/ui/money";
import { StatusBadge } from "@/components/ui/status-badge";
import { Time } from "@/components/ui/time";

// The ops merchants list (/ops) and the tables of one merchant's drill-down (/ops/merchants/<id>). Amounts arrive
// as minor-unit strings; times are shown in the ops console's zone (UTC).

const merchantHref = (id: string) => `/ops/merchants/${encodeURIComponent(id)}`;
const paymentHref = (checkoutId: string) => `/ops/payments/${encodeURIComponent(checkoutId)}`;
const mono = "font-mono text-xs break-all";

export interface MerchantListRow {
  id: string;
  name: string;
  country: string;
  defaultCurrency: string;
  platformFeeBps: number;
  sellerCount: number;
  memberCount: number;
  createdAt: Date;
}

const merchantColumns: ColumnDef<MerchantListRow, unknown>[] = [
  {
    id: "name",
    header: "Name",
    cell: ({ row }) => (
      <Link className="font-medium underline" href={merchantHref(row.original.id)}>
        {row.original.name}
      </Link>
    ),
  },
  { id: "id", header: "Id", meta: { priority: "low" }, cell: ({ row }) => <span className={mono}>{row.original.id}</span> },
  { id: "country", header: "Country", cell: ({ row }) => row.original.country },
  { id: "fee", header: "Fee", meta: { align: "right", priority: "low" }, cell: ({ row }) => `${(row.original.platformFeeBps / 100).toFixed(2)}%` },
  { id: "sellers", header: "Sellers", meta: { align: "right" }, cell: ({ row }) => row.original.sellerCount },
  { id: "members", header: "Members", meta: { align: "right", priority: "low" }, cell: ({ row }) => row.original.memberCount },
  { id: "since", header: "Since", meta: { priority: "low" }, cell: ({ row }) => <Time value={row.original.createdAt} dateOnly /> },
];

export function MerchantsTable({ rows }: { rows: MerchantListRow[] }) {
  return (
    <DataTable<MerchantListRow>
      caption="Merchants"
      columns={merchantColumns}
      data={rows}
      getRowId={(r) => r.id}
      rowTestId="merchant-row"
      rowHref={(r) => merchantHref(r.id)}
      empty={{ title: "No merchants yet." }}
    />
  );
}

export interface MemberRow {
  userId: string;
  email: string;
  name: string | null;
  role: string;
  since: Date;
}
const memberColumns: ColumnDef<MemberRow, unknown>[] = [
  { id: "email", header: "Email", cell: ({ row }) => <span className="break-all">{row.original.email}</span> },
  { id: "name", header: "Name", meta: { priority: "low" }, cell: ({ row }) => row.original.name ?? "—" },
  { id: "role", header: "Role", cell: ({ row }) => <Badge tone={row.original.role === "merchant_admin" ? "info" : "neutral"}>{row.original.role === "merchant_admin" ? "Admin" : "Viewer"}</Badge> },
  { id: "since", header: "Member since", meta: { priority: "low" }, cell: ({ row }) => <Time value={row.original.since} /> },
];

export interface BalanceRow {
  currency: string;
  pending: string;
  available: string;
  onHold: string;
}
const balanceColumns: ColumnDef<BalanceRow, unknown>[] = [
  { id: "currency", header: "Currency", cell: ({ row }) => row.original.currency },
  { id: "pending", header: "Pending", meta: { align: "right" }, cell: ({ row }) => <Money amount={row.original.pending} currency={row.original.currency} /> },
  { id: "available", header: "Available", meta: { align: "right" }, cell: ({ row }) => <Money amount={row.original.available} currency={row.original.currency} /> },
  { id: "onHold", header: "On hold", meta: { align: "right" }, cell: ({ row }) => <Money amount={row.original.onHold} currency={row.original.currency} /> },
];

export interface PaymentRow {
  id: string;
  paymentOrderId: string;
  checkoutId: string;
  sellerName: string;
  amount: string;
  currency: string;
  status: string;
  psp: string | null;
  createdAt: Date;
}
const paymentColumns: ColumnDef<PaymentRow, unknown>[] = [
  {
    id: "order",
    header: "Payment order",
    cell: ({ row }) => (
      <Link className={`${mono} underline`} href={paymentHref(row.original.checkoutId)}>
        {row.original.paymentOrderId}
      </Link>
    ),
  },
  { id: "seller", header: "Seller", meta: { priority: "low" }, cell: ({ row }) => row.original.sellerName },
  { id: "amount", header: "Amount", meta: { align: "right" }, cell: ({ row }) => <Money amount={row.original.amount} currency={row.original.currency} /> },
  { id: "status", header: "Status", cell: ({ row }) => <StatusBadge status={row.original.status} /> },
  { id: "psp", header: "PSP", meta: { priority: "low" }, cell: ({ row }) => row.original.psp ?? "—" },
  { id: "created", header: "Created", meta: { priority: "low" }, cell: ({ row }) => <Time value={row.original.createdAt} /> },
];

export interface ExceptionRow {
  id: string;
  kind: string;
  reason: string;
  status: string;
  subjectType: string;
  subjectId: string;
  message: string;
  lastSeenAt: Date;
}
const exceptionColumns: ColumnDef<ExceptionRow, unknown>[] = [
  {
    id: "exception",
    header: "Exception",
    cell: ({ row }) => (
      <Link className={`${mono} underline`} href={`/ops/exceptions?status=all&id=${encodeURIComponent(row.original.id)}`}>
        {row.original.id}
      </Link>
    ),
  },
  { id: "kind", header: "Kind", cell: ({ row }) => `${row.original.kind} · ${row.original.reason}` },
  { id: "subject", header: "Subject", meta: { priority: "low" }, cell: ({ row }) => <span className={mono}>{`${row.original.subjectType}: ${row.original.subjectId}`}</span> },
  { id: "message", header: "Message", meta: { priority: "low" }, cell: ({ row }) => <span className="break-all">{row.original.message}</span> },
  { id: "seen", header: "Last seen", cell: ({ row }) => <Time value={row.original.lastSeenAt} /> },
];

export interface DoubleChargeRow {
  id: string;
  checkoutId: string;
  psp: string;
  pspReference: string;
  amount: string;
  currency: string;
  createdAt: Date;
}
const doubleChargeColumns: ColumnDef<DoubleChargeRow, unknown>[] = [
  {
    id: "checkout",
    header: "Checkout",
    cell: ({ row }) => (
      <Link className={`${mono} underline`} href={paymentHref(row.original.checkoutId)}>
        {row.original.checkoutId}
      </Link>
    ),
  },
  { id: "psp", header: "PSP reference", meta: { priority: "low" }, cell: ({ row }) => <span className={mono}>{`${row.original.psp} ${row.original.pspReference}`}</span> },
  { id: "amount", header: "Amount", meta: { align: "right" }, cell: ({ row }) => <Money amount={row.original.amount} currency={row.original.currency} /> },
  { id: "since", header: "Since", cell: ({ row }) => <Time value={row.original.createdAt} /> },
];

export interface AuditEntryRow {
  id: string;
  createdAt: Date;
  action: string;
  actorEmail: string | null;
  targetType: string;
  targetId: string;
  data: Record<string, unknown>;
}
const auditColumns: ColumnDef<AuditEntryRow, unknown>[] = [
  { id: "at", header: "Time", cell: ({ row }) => <Time value={row.original.createdAt} className="whitespace-nowrap" /> },
  { id: "action", header: "Action", cell: ({ row }) => <span className="font-mono text-xs">{row.original.action}</span> },
  { id: "actor", header: "Actor", cell: ({ row }) => <span className="break-all">{row.original.actorEmail ?? "System"}</span> },
  { id: "target", header: "Target", meta: { priority: "low" }, cell: ({ row }) => <span className={mono}>{`${row.original.targetType}: ${row.original.targetId}`}</span> },
  {
    id: "data",
    header: "Data",
    meta: { priority: "low" },
    cell: ({ row }) => <pre className="max-w-md font-mono text-xs break-all whitespace-pre-wrap">{Object.keys(row.original.data).length ? JSON.stringify(row.original.data, null, 2) : "—"}</pre>,
  },
];

export function MerchantDetailTables(props: {
  merchantId: string;
  members: MemberRow[];
  balances: BalanceRow[];
  payments: PaymentRow[];
  exceptions: ExceptionRow[];
  doubleCharges: DoubleChargeRow[];
  audit: AuditEntryRow[];
}) {
  return (
    <>
      <DataTable<BalanceRow> caption="Balances per currency" captionVisible columns={balanceColumns} data={props.balances} getRowId={(r) => r.currency} empty={{ title: "No balances yet.", description: "Nothing has been posted to this merchant's sellers." }} />
      <DataTable<MemberRow> caption="Team members" captionVisible columns={memberColumns} data={props.members} getRowId={(r) => r.userId} rowTestId="member-row" empty={{ title: "No members." }} />
      <DataTable<PaymentRow>
        caption="Recent payments"
        captionVisible
        columns={paymentColumns}
        data={props.payments}
        getRowId={(r) => r.id}
        rowTestId="merchant-payment-row"
        rowHref={(r) => paymentHref(r.checkoutId)}
        empty={{ title: "No payments yet." }}
      />
      <DataTable<ExceptionRow> caption="Open exceptions" captionVisible columns={exceptionColumns} data={props.exceptions} getRowId={(r) => r.id} empty={{ title: "No open exceptions." }} />
      <DataTable<DoubleChargeRow> caption="Double charges awaiting a refund" captionVisible columns={doubleChargeColumns} data={props.doubleCharges} getRowId={(r) => r.id} empty={{ title: "No double charges await a refund." }} />
      <DataTable<AuditEntryRow>
        caption="Recent audit entries"
        captionVisible
        columns={auditColumns}
        data={props.audit}
        getRowId={(r) => r.id}
        rowTestId="audit-row"
        empty={{ title: "Nothing audited for this merchant yet." }}
      />
      <p className="text-sm">
        <Link className="underline" href={`/ops/audit?merchant=${encodeURIComponent(props.merchantId)}`}>
          The full audit log of this merchant
        </Link>
      </p>
    </>
  );
}
