import type { Metadata } from "next";
import Form from "next/form";
import Link from "next/link";
import { DeadLettersTable, errorText, RunsTable, RunStepsTables } from "@/components/ops/runs-tables";
import { Badge } from "@/components/ui/badge";
import { buttonClasses } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Field, Input, Select } from "@/components/ui/field";
import { ENGINE_RUN_STATUSES, type EngineRunStatus } from "@/db/schema";
import { inngestConfigFromEnv, usesLocalEngine } from "@/inngest/client";
import { RUNS_SEARCH_MAX } from "@/server/ops/runs-router";
import { forPage } from "@/server/trpc/page-guard";
import { serverCaller } from "@/server/trpc/rsc";
import { replayDeadLetterAction } from "./actions";

// Ops view of the local Inngest engine: runs (filter by status, search by run id or by payment: payment order id,
// checkout id, attempt id, PSP reference), one run's steps and attempts with their errors, and the dead letters
// with a replay button; both lists keyset paged through the URL. Each run links to its payment's page. A debugging
// aid: failures are handled in the app's own exceptions queue (/ops/exceptions), which works whichever Inngest runs
// the functions. Replay writes a run only the local engine executes, so it is offered only with the local engine.

export const metadata: Metadata = { title: "Runs & dead letters" };

type Params = { status?: string; q?: string; cursor?: string; dir?: string; dl?: string; dldir?: string; run?: string };
type SearchParams = Promise<Params>;

const str = (v: unknown, max: number) => (typeof v === "string" && v.trim() ? v.trim().slice(0, max) : undefined);
const dir = (v: unknown) => (v === "prev" ? ("prev" as const) : ("next" as const));

function href(params: Params, change: Partial<Params>): string {
  const next = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...params, ...change })) if (v) next.set(k, v);
  const qs = next.toString();
  return qs ? `/ops/runs?${qs}` : "/ops/runs";
}

export default async function OpsRunsPage({ searchParams }: { searchParams: SearchParams }) {
  const raw = await searchParams;
  const status = ENGINE_RUN_STATUSES.includes(raw.status as EngineRunStatus) ? (raw.status as EngineRunStatus) : undefined;
  const search = str(raw.q, RUNS_SEARCH_MAX);
  const params: Params = { status, q: search, cursor: str(raw.cursor, 64), dir: raw.dir === "prev" ? "prev" : undefined, dl: str(raw.dl, 64), dldir: raw.dldir === "prev" ? "prev" : undefined };
  const runId = str(raw.run, 64);
  const localEngine = usesLocalEngine(inngestConfigFromEnv());
  const caller = await serverCaller();
  const [runs, deadLetters, detail] = await forPage(() =>
    Promise.all([
      caller.engineRuns.list({ status, search, cursor: params.cursor, direction: dir(params.dir) }),
      caller.engineRuns.deadLetters({ includeReplayed: false, search, cursor: params.dl, direction: dir(params.dldir) }),
      runId ? caller.engineRuns.get({ runId }) : Promise.resolve(null),
    ]),
  );
  const keep = { ...params, run: runId };
  return (
    <div className="flex flex-col gap-6">
      <p className="rounded-lg border border-sky-200 bg-sky-50 px-4 py-3 text-sm text-sky-900" data-testid="runs-banner">
        {localEngine ? "These are the local engine's runs: a debugging aid. " : "These are the local engine's runs; this app sends its functions to Inngest, whose dashboard has the real runs. "}
        Failed payments, refunds, payouts and webhooks are handled in the{" "}
        <Link className="font-medium underline" href="/ops/exceptions">
          exceptions queue
        </Link>
        , where they can be retried or resolved.
      </p>
      <Form action="/ops/runs" aria-label="Search runs" className="flex flex-wrap items-end gap-3">
        <Field label="Search" htmlFor="runs-q" className="min-w-64 flex-1">
          <Input id="runs-q" type="search" name="q" defaultValue={search ?? ""} maxLength={RUNS_SEARCH_MAX} aria-describedby="runs-q-hint" placeholder="Run id, payment order id, checkout id, attempt id, PSP reference" />
        </Field>
        <Field label="Status" htmlFor="runs-status">
          <Select id="runs-status" name="status" defaultValue={status ?? ""}>
            <option value="">All statuses</option>
            {ENGINE_RUN_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </Select>
        </Field>
        <button type="submit" className={buttonClasses({ variant: "primary" })}>
          Search
        </button>
        {search || status ? (
          <Link href="/ops/runs" className={buttonClasses({ variant: "ghost" })}>
            Clear
          </Link>
        ) : null}
      </Form>
      <p id="runs-q-hint" className="-mt-4 text-xs text-slate-600">
        Search by a run id (its replays too), or by a payment: a payment order id (ours or the merchant&apos;s), checkout id, attempt id or PSP reference finds the runs about that checkout.
      </p>
      {detail ? <RunDetail detail={detail} /> : null}
      <Card title={`Dead letters${deadLetters.items.length ? "" : " (none)"}`} description={search ? `Matching “${search}”` : undefined}>
        {localEngine ? null : (
          <p className="mb-3 text-sm text-slate-600" data-testid="replay-unavailable">
            Replay is off: functions run on Inngest, not on the local engine, so re-run a failed run from Inngest&apos;s dashboard, or retry its exception in the exceptions queue.
          </p>
        )}
        <DeadLettersTable
          rows={deadLetters.items}
          replayAction={localEngine ? replayDeadLetterAction : null}
          paging={{
            prevHref: deadLetters.prevCursor ? href(keep, { dl: deadLetters.prevCursor, dldir: "prev" }) : null,
            nextHref: deadLetters.nextCursor ? href(keep, { dl: deadLetters.nextCursor, dldir: undefined }) : null,
          }}
        />
      </Card>
      <Card title="Runs" description={search ? `Matching “${search}”` : status ? `Status ${status}` : "Newest first"}>
        <RunsTable
          rows={runs.items}
          searched={Boolean(search || status)}
          paging={{
            prevHref: runs.prevCursor ? href(keep, { cursor: runs.prevCursor, dir: "prev" }) : null,
            nextHref: runs.nextCursor ? href(keep, { cursor: runs.nextCursor, dir: undefined }) : null,
          }}
        />
      </Card>
    </div>
  );
}

type Detail = NonNullable<Awaited<ReturnType<Awaited<ReturnType<typeof serverCaller>>["engineRuns"]["get"]>>>;

function RunDetail({ detail }: { detail: Detail }) {
  const { run, steps, attempts } = detail;
  return (
    <Card
      title={
        <>
          Run <span className="font-mono text-sm">{run.id}</span> · {run.functionId} · <Badge>{run.status}</Badge>
        </>
      }
    >
      <RunStepsTables steps={steps} attempts={attempts} />
      {run.error ? <p className="mt-3 text-sm text-red-700">{errorText(run.error)}</p> : null}
      <pre className="mt-3 overflow-x-auto rounded bg-slate-50 p-3 text-xs">{JSON.stringify(run.event, null, 2)}</pre>
    </Card>
  );
}
