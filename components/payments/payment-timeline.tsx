import { ArrowRightLeft, ArrowUpRight, BookText, CreditCard, Gavel, Globe, Send, ShieldCheck, Smartphone, TriangleAlert, Undo2, Webhook, type LucideIcon } from "lucide-react";
import type { ReactNode } from "react";
import { Badge, type BadgeTone } from "@/components/ui/badge";
import { Money } from "@/components/ui/money";
import { Time } from "@/components/ui/time";
import type { TimelineEntry } from "@/server/payments/payment-detail";

// A payment's full timeline, oldest first: one <li data-testid="timeline-entry" data-kind="…"> per entry, with its
// time (in the page's zone), what happened and the references to look it up elsewhere (request id, idempotency
// key, PSP reference, event id, ledger transaction and hash, delivery).

type Kind = TimelineEntry["kind"];

const ICONS: Record<Kind, LucideIcon> = {
  api_request: Globe,
  risk: ShieldCheck,
  transition: ArrowRightLeft,
  psp_attempt: CreditCard,
  psp_call: ArrowUpRight,
  psp_webhook: Webhook,
  ledger: BookText,
  webhook_out: Send,
  double_charge: TriangleAlert,
  refund: Undo2,
  dispute: Gavel,
};

export const TIMELINE_KIND_LABELS: Record<Kind, string> = {
  api_request: "API request",
  risk: "Risk decision",
  transition: "Status change",
  psp_attempt: "Payment attempt",
  psp_call: "Call to the PSP",
  psp_webhook: "Webhook from the PSP",
  ledger: "Ledger transaction",
  webhook_out: "Webhook sent",
  double_charge: "Double charge",
  refund: "Refund",
  dispute: "Dispute",
};

/** The PSP as a company (the rail the buyer used is in the attempt's title). */
const PSP_NAMES: Record<string, string> = { stripe: "Stripe", mpesa: "M-Pesa" };
const pspLabel = (psp: string) => PSP_NAMES[psp] ?? psp;

const ENTITY_LABELS = { checkout: "Checkout", payment_order: "Payment order", payment_attempt: "Payment" } as const;

function toneOf(status: string | number | null): BadgeTone {
  if (typeof status === "number") return status >= 200 && status < 300 ? "success" : status >= 400 ? "danger" : "neutral";
  switch (status) {
    case "allow":
    case "ok":
    case "processed":
    case "delivered":
    case "succeeded":
    case "SUCCESS":
    case "completed":
    case "refunded":
    case "won":
      return "success";
    case "review":
    case "pending":
    case "received":
    case "EXECUTING":
    case "processing":
    case "awaiting_refund":
    case "requires_action":
    case "needs_response":
    case "under_review":
    case "warning_needs_response":
    case "warning_under_review":
      return "warning";
    case "block":
    case "blocked":
    case "failed":
    case "FAILED":
    case "rejected":
    case "psp_error":
    case "timeout":
    case "network_error":
    case "canceled":
    case "lost":
      return "danger";
    default:
      return "neutral";
  }
}

/** A label and a value to copy (ids, keys, hashes): monospace, wrapping anywhere on a phone. */
function Ref({ label, value }: { label: string; value: ReactNode }) {
  if (value === null || value === undefined || value === "") return null;
  return (
    <div className="contents">
      <dt className="text-slate-600">{label}</dt>
      <dd className="min-w-0 font-mono break-all text-slate-800">{value}</dd>
    </div>
  );
}

function Refs({ children }: { children: ReactNode }) {
  return <dl className="mt-1 grid grid-cols-[max-content_minmax(0,1fr)] gap-x-3 gap-y-0.5 text-xs">{children}</dl>;
}

function entryHead(e: TimelineEntry): { title: ReactNode; status?: string | number | null } {
  switch (e.kind) {
    case "api_request":
      return { title: `${e.method} ${e.path}`, status: e.status };
    case "risk":
      return { title: `Risk decision: ${e.outcome}`, status: e.outcome };
    case "transition":
      return { title: `${ENTITY_LABELS[e.entity]}${e.entity === "checkout" ? "" : ` ${e.entityLabel}`}: ${e.from ?? "new"} → ${e.to}`, status: e.to };
    case "psp_attempt":
      return { title: `Payment attempt #${e.attemptNo}: ${e.method === "mpesa" ? "M-Pesa" : "card"} via ${pspLabel(e.psp)}`, status: e.status };
    case "psp_call":
      return { title: `Call to ${pspLabel(e.psp)}: ${e.operation}`, status: e.outcome };
    case "psp_webhook":
      return { title: `Webhook from ${pspLabel(e.psp)}: ${e.eventType}`, status: e.status };
    case "ledger":
      return { title: `Ledger transaction: ${e.description}` };
    case "webhook_out":
      return { title: `Webhook sent: ${e.eventType}`, status: e.deliveries.length === 0 ? "no endpoint" : e.deliveries.every((d) => d.status === "delivered") ? "delivered" : (e.deliveries.find((d) => d.status !== "delivered")?.status ?? null) };
    case "double_charge":
      return { title: `Double charge by ${pspLabel(e.psp)}`, status: e.status };
    case "refund":
      return { title: e.from === null ? `Refund of ${e.paymentOrderId} created` : `Refund of ${e.paymentOrderId}: ${e.from} → ${e.to}`, status: e.to };
    case "dispute":
      return { title: e.from === null ? "Dispute opened by the buyer's bank" : `Dispute: ${e.from} → ${e.to}`, status: e.to };
  }
}

function EntryBody({ e }: { e: TimelineEntry }) {
  switch (e.kind) {
    case "api_request":
      return (
        <Refs>
          <Ref label="Idempotency key" value={e.idempotencyKey} />
          <Ref label="Request id" value={e.requestId} />
          <Ref label="Latency" value={e.latencyMs === null ? null : `${e.latencyMs} ms`} />
          <Ref label="Error" value={e.errorCode} />
          {e.source === "idempotency_key" ? <Ref label="From" value="idempotency record (no request log row)" /> : null}
        </Refs>
      );
    case "risk":
      return e.reasons.length ? (
        <ul className="mt-1 list-disc pl-5 text-xs text-slate-700">
          {e.reasons.map((r, i) => (
            <li key={i}>{r}</li>
          ))}
        </ul>
      ) : (
        <p className="mt-1 text-xs text-slate-600">No rule matched.</p>
      );
    case "transition":
      return (
        <Refs>
          <Ref label="Reason" value={e.reason} />
        </Refs>
      );
    case "psp_attempt":
      return (
        <Refs>
          <Ref label="PSP reference" value={e.pspReference} />
          <Ref label="Idempotency key" value={e.idempotencyKey} />
          <Ref label="Receipt" value={e.receipt} />
          <Ref label="Failure" value={e.failure ? `${e.failure.code}${e.failure.message ? `: ${e.failure.message}` : ""}` : null} />
        </Refs>
      );
    case "psp_call":
      return (
        <Refs>
          <Ref label="PSP object" value={e.pspObjectId} />
          <Ref label="HTTP status" value={e.responseStatus} />
          <Ref label="Error" value={e.errorCode} />
          <Ref label="Idempotency key" value={e.idempotencyKey} />
          <Ref label="PSP request id" value={e.pspRequestId} />
          <Ref label="Latency" value={`${e.latencyMs} ms`} />
        </Refs>
      );
    case "psp_webhook":
      return (
        <Refs>
          <Ref label="Event id" value={e.eventId} />
          <Ref label="About" value={e.objectId} />
          <Ref label="Processed" value={e.processedAt ? <Time value={e.processedAt} /> : null} />
        </Refs>
      );
    case "ledger":
      return <LedgerBody e={e} />;
    case "webhook_out":
      return <WebhookOutBody e={e} />;
    case "double_charge":
      return (
        <Refs>
          <Ref label="Amount" value={<Money amount={e.amount} currency={e.currency} />} />
          <Ref label="PSP reference" value={e.pspReference} />
          <Ref label="Receipt" value={e.receipt} />
          <Ref label="Id" value={e.doubleChargeId} />
        </Refs>
      );
    case "refund":
      return (
        <Refs>
          <Ref label="Amount" value={<Money amount={e.amount} currency={e.currency} />} />
          <Ref label="Refund" value={e.refundId} />
          <Ref label="PSP refund" value={e.pspRefundId} />
          <Ref label="Reason" value={e.reason} />
          <Ref label="Failure" value={e.failureReason} />
        </Refs>
      );
    case "dispute":
      return (
        <Refs>
          <Ref label="Amount" value={<Money amount={e.amount} currency={e.currency} />} />
          <Ref label="Dispute" value={e.disputeId} />
          <Ref label="PSP dispute" value={e.pspDisputeId} />
          <Ref label="Reason" value={e.reason} />
        </Refs>
      );
  }
}

function LedgerBody({ e }: { e: Extract<TimelineEntry, { kind: "ledger" }> }) {
  return (
    <>
      <Refs>
        <Ref label="Transaction" value={e.transactionId} />
        <Ref label="Hash" value={<span data-testid="ledger-hash">{e.hash}</span>} />
        <Ref label="Previous hash" value={e.prevHash} />
        <Ref label="Chain" value={`${e.ledger} #${e.chainSeq.toString()}`} />
        <Ref label="Source" value={`${e.source} ${e.sourceId}`} />
      </Refs>
      {e.hashVerified ? null : (
        <p role="alert" className="mt-1 text-xs font-medium text-red-700">
          This transaction no longer matches its hash: report it to ops (npm run ledger:verify).
        </p>
      )}
      <details className="mt-1 text-xs">
        <summary className="cursor-pointer text-slate-700">Entries ({e.entries.length})</summary>
        <ul className="mt-1 flex flex-col gap-0.5">
          {e.entries.map((l) => (
            <li key={l.line} className="flex flex-wrap justify-between gap-x-3">
              <span className="font-mono break-all">
                {l.amount > 0n ? "Debit" : "Credit"} {l.accountKey}
              </span>
              <Money amount={l.amount < 0n ? -l.amount : l.amount} currency={l.currency} />
            </li>
          ))}
        </ul>
      </details>
    </>
  );
}

function WebhookOutBody({ e }: { e: Extract<TimelineEntry, { kind: "webhook_out" }> }) {
  return (
    <>
      <Refs>
        <Ref label="Event id" value={e.eventId} />
        <Ref label="About" value={`${e.objectId} (sequence ${e.sequence.toString()})`} />
        <Ref label="Recorded" value={<Time value={e.recordedAt} />} />
      </Refs>
      {e.deliveries.length === 0 ? <p className="mt-1 text-xs text-slate-600">No webhook endpoint was enabled: nothing was sent.</p> : null}
      {e.deliveries.map((d) => (
        <details key={d.deliveryId} className="mt-1 text-xs" data-testid="webhook-delivery">
          <summary className="cursor-pointer text-slate-700">
            <span className="break-all">{d.endpointUrl}</span>: {d.status}, {d.attempts} {d.attempts === 1 ? "try" : "tries"}
            {d.lastStatusCode ? `, last HTTP ${d.lastStatusCode}` : ""}
          </summary>
          <Refs>
            <Ref label="Delivery" value={d.deliveryId} />
            <Ref label="Delivered" value={d.deliveredAt ? <Time value={d.deliveredAt} /> : null} />
            <Ref label="Last error" value={d.lastError} />
          </Refs>
          {d.tries.length ? (
            <ol className="mt-1 flex flex-col gap-0.5 pl-3">
              {d.tries.map((x) => (
                <li key={x.attemptNo} data-testid="webhook-delivery-try">
                  Try {x.attemptNo}: <Time value={x.at} /> · {x.statusCode ? `HTTP ${x.statusCode}` : (x.error ?? "no answer")} · {x.durationMs} ms
                </li>
              ))}
            </ol>
          ) : null}
        </details>
      ))}
    </>
  );
}

export function PaymentTimeline({ entries, truncated }: { entries: TimelineEntry[]; truncated: boolean }) {
  if (entries.length === 0) return <p className="text-sm text-slate-600">Nothing has happened to this checkout yet.</p>;
  return (
    <>
      {truncated ? <p className="mb-3 text-xs text-slate-600">Some sources have more entries than shown here; the oldest of each are listed.</p> : null}
      <ol className="flex flex-col" data-testid="payment-timeline">
        {entries.map((e, i) => {
          const Icon = e.kind === "psp_attempt" && e.method === "mpesa" ? Smartphone : ICONS[e.kind];
          const head = entryHead(e);
          const status = head.status;
          return (
            <li key={e.id} data-testid="timeline-entry" data-kind={e.kind} className="relative flex gap-3 pb-4">
              {i < entries.length - 1 ? <span aria-hidden="true" className="absolute top-7 bottom-0 left-3.5 w-px bg-slate-200" /> : null}
              <span aria-hidden="true" className="z-10 flex h-7 w-7 shrink-0 items-center justify-center rounded-full border border-slate-200 bg-white text-slate-600">
                <Icon className="h-3.5 w-3.5" />
              </span>
              <div className="min-w-0 flex-1">
                <div className="flex flex-wrap items-baseline gap-x-2 gap-y-1">
                  <span className="sr-only">{TIMELINE_KIND_LABELS[e.kind]}:</span>
                  <span className="text-sm font-medium break-words text-slate-900">{head.title}</span>
                  {status !== undefined && status !== null ? <Badge tone={toneOf(status)}>{String(status)}</Badge> : null}
                </div>
                <Time value={e.at} className="text-xs text-slate-600" />
                <EntryBody e={e} />
              </div>
            </li>
          );
        })}
      </ol>
    </>
  );
}
