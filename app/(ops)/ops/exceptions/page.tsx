import type { Metadata } from "next";
import Form from "next/form";
import Link from "next/link";
import { ExceptionsConsole } from "@/components/ops/exceptions-queue";
import {
  DEFAULT_STATUS_FILTER,
  EXCEPTION_SEARCH_MAX,
  isKind,
  isStatusFilter,
  KIND_LABELS,
  STATUS_FILTER_LABELS,
} from "@/components/ops/exception-labels";
import { buttonClasses } from "@/components/ui/button";
import { Field, Input, Select } from "@/components/ui/field";
import { inngestConfigFromEnv, usesLocalEngine } from "@/inngest/client";

// Ops: the app's own exceptions (ops_exceptions): payment, refund, payout, webhook and job runs that ended
// without their business outcome, whichever Inngest ran them. Filters live in the URL (?status=&kind=&q=, and
// ?id= for one exception's detail); the client component pages through ops.exceptions.list and acts on rows.

export const metadata: Metadata = { title: "Exceptions" };

type SearchParams = Promise<{ status?: string; kind?: string; q?: string; id?: string }>;

export default async function OpsExceptionsPage({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  const status = isStatusFilter(params.status) ? params.status : DEFAULT_STATUS_FILTER;
  const kind = isKind(params.kind) ? params.kind : undefined;
  const search = typeof params.q === "string" && params.q.trim() ? params.q.trim().slice(0, EXCEPTION_SEARCH_MAX) : undefined;
  const selectedId = typeof params.id === "string" && params.id ? params.id.slice(0, 64) : undefined;
  // Run pages exist only for the local engine's runs; on Inngest the run is in Inngest's dashboard.
  const localEngine = usesLocalEngine(inngestConfigFromEnv());
  return (
    <section className="flex flex-col gap-4">
      <div className="flex flex-col gap-1">
        <h2 className="text-base font-semibold">Exceptions</h2>
        <p className="text-sm text-slate-600">
          Payments, refunds, payouts and webhooks that ended without their outcome (failed, cancelled, retries exhausted, outcome unknown, stuck past their deadline), recorded
          by the app whichever Inngest ran them. Retry re-emits the domain event through the outbox; resolve or ignore one with a note once it is handled.
        </p>
      </div>
      <Form action="/ops/exceptions" className="flex flex-wrap items-end gap-3" aria-label="Filter exceptions">
        <Field label="Status" htmlFor="exceptions-status">
          <Select id="exceptions-status" name="status" defaultValue={status}>
            {Object.entries(STATUS_FILTER_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Kind" htmlFor="exceptions-kind">
          <Select id="exceptions-kind" name="kind" defaultValue={kind ?? ""}>
            <option value="">All kinds</option>
            {Object.entries(KIND_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Search" htmlFor="exceptions-q" className="min-w-48 flex-1">
          <Input id="exceptions-q" type="search" name="q" defaultValue={search ?? ""} maxLength={EXCEPTION_SEARCH_MAX} placeholder="Subject id, code, message, run id" />
        </Field>
        <button type="submit" className={buttonClasses({ variant: "primary" })}>
          Filter
        </button>
        {status !== DEFAULT_STATUS_FILTER || kind || search ? (
          <Link href="/ops/exceptions" className={buttonClasses({ variant: "ghost" })}>
            Clear
          </Link>
        ) : null}
      </Form>
      <ExceptionsConsole filters={{ status, kind, search }} selectedId={selectedId} localEngine={localEngine} />
    </section>
  );
}
