import type { Metadata } from "next";
import Link from "next/link";
import { ENGINE_RUN_STATUSES, type EngineRunStatus } from "@/db/schema";
import { inngestConfigFromEnv, usesLocalEngine } from "@/inngest/client";
import { forPage } from "@/server/trpc/page-guard";
import { serverCaller } from "@/server/trpc/rsc";
import { replayDeadLetterAction } from "./actions";

// Plain ops view of the local Inngest engine: runs (filter by status), one run's steps and attempts with
// their errors, and the dead letters with a replay button. A debugging aid: failures are handled in the app's
// own exceptions queue (/ops/exceptions), which works whichever Inngest runs the functions. Replay writes a run
// only the local engine executes, so it is offered only when the app talks to the local engine.

export const metadata: Metadata = { title: "Runs & dead letters" };

const cell = "px-3 py-2 align-top";
const mono = "font-mono text-xs";

function fmt(d: Date | null | undefined): string {
  return d ? d.toISOString().replace("T", " ").slice(0, 19) : "—";
}
function errorText(e: unknown): string {
  if (!e || typeof e !== "object") return "";
  const r = e as { name?: string; message?: string };
  return [r.name, r.message].filter(Boolean).join(": ");
}

type SearchParams = Promise<{ status?: string; run?: string }>;

export default async function OpsRunsPage({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  const status = ENGINE_RUN_STATUSES.includes(params.status as EngineRunStatus) ? (params.status as EngineRunStatus) : undefined;
  const localEngine = usesLocalEngine(inngestConfigFromEnv());
  const caller = await serverCaller();
  const [runs, deadLetters, detail] = await forPage(() =>
    Promise.all([
      caller.engineRuns.list({ status, limit: 50 }),
      caller.engineRuns.deadLetters({ includeReplayed: false, limit: 50 }),
      params.run ? caller.engineRuns.get({ runId: params.run }) : Promise.resolve(null),
    ]),
  );
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
      {detail ? <RunDetail detail={detail} /> : null}
      <section className="rounded-lg border border-slate-200 bg-white">
        <h2 className="border-b border-slate-200 px-4 py-3 font-semibold">Dead letters ({deadLetters.length})</h2>
        {localEngine ? null : (
          <p className="border-b border-slate-200 px-4 py-2 text-sm text-slate-600" data-testid="replay-unavailable">
            Replay is off: functions run on Inngest, not on the local engine, so re-run a failed run from Inngest&apos;s dashboard, or retry its exception in the exceptions queue.
          </p>
        )}
        <table className="w-full text-left text-sm">
          <thead className="text-slate-500">
            <tr><th className={cell}>Run</th><th className={cell}>Function</th><th className={cell}>Error</th><th className={cell}>Failed at</th><th className={cell} /></tr>
          </thead>
          <tbody>
            {deadLetters.map((d) => (
              <tr key={d.runId} className="border-t border-slate-100">
                <td className={`${cell} ${mono}`}><Link className="underline" href={`/ops/runs?run=${d.runId}`}>{d.runId}</Link></td>
                <td className={cell}>{d.functionId}</td>
                <td className={`${cell} text-red-700`}>{errorText(d.error)}</td>
                <td className={cell}>{fmt(d.failedAt)}</td>
                <td className={cell}>
                  {localEngine ? (
                    <form action={replayDeadLetterAction}>
                      <input type="hidden" name="runId" value={d.runId} />
                      <button type="submit" className="rounded border border-slate-300 px-2 py-1 text-xs hover:bg-slate-50">Replay</button>
                    </form>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="rounded-lg border border-slate-200 bg-white">
        <div className="flex items-center gap-3 border-b border-slate-200 px-4 py-3">
          <h2 className="font-semibold">Runs</h2>
          <nav className="flex gap-2 text-xs">
            <Link href="/ops/runs" className={status ? "underline" : "font-semibold"}>all</Link>
            {ENGINE_RUN_STATUSES.map((s) => (
              <Link key={s} href={`/ops/runs?status=${s}`} className={status === s ? "font-semibold" : "underline"}>{s}</Link>
            ))}
          </nav>
        </div>
        <table className="w-full text-left text-sm">
          <thead className="text-slate-500">
            <tr><th className={cell}>Run</th><th className={cell}>Function</th><th className={cell}>Event</th><th className={cell}>Status</th><th className={cell}>Attempts</th><th className={cell}>Started</th><th className={cell}>Error</th></tr>
          </thead>
          <tbody>
            {runs.map((r) => (
              <tr key={r.id} className="border-t border-slate-100">
                <td className={`${cell} ${mono}`}><Link className="underline" href={`/ops/runs?run=${r.id}`}>{r.id}</Link></td>
                <td className={cell}>{r.functionId}</td>
                <td className={cell}>{r.eventName}</td>
                <td className={cell} data-status={r.status}>{r.status}{r.replayOf ? " (replay)" : ""}</td>
                <td className={cell}>{r.attempts}</td>
                <td className={cell}>{fmt(r.createdAt)}</td>
                <td className={`${cell} text-red-700`}>{errorText(r.error)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}

type Detail = NonNullable<Awaited<ReturnType<Awaited<ReturnType<typeof serverCaller>>["engineRuns"]["get"]>>>;

function RunDetail({ detail }: { detail: Detail }) {
  const { run, steps, attempts } = detail;
  return (
    <section className="rounded-lg border border-slate-200 bg-white">
      <h2 className="border-b border-slate-200 px-4 py-3 font-semibold">
        Run <span className={mono}>{run.id}</span> · {run.functionId} · {run.status}
      </h2>
      <div className="grid gap-4 p-4 md:grid-cols-2">
        <div>
          <h3 className="mb-2 text-sm font-semibold">Steps</h3>
          <table className="w-full text-left text-sm">
            <thead className="text-slate-500"><tr><th className={cell}>Step</th><th className={cell}>Op</th><th className={cell}>Status</th><th className={cell}>Result / error</th></tr></thead>
            <tbody>
              {steps.map((s) => (
                <tr key={s.stepId} className="border-t border-slate-100">
                  <td className={cell}>{s.name ?? <span className={mono}>{s.stepId.slice(0, 12)}</span>}</td>
                  <td className={cell}>{s.op}</td>
                  <td className={cell}>{s.status}</td>
                  <td className={`${cell} ${mono} break-all`}>{s.result ? JSON.stringify(s.result).slice(0, 300) : ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div>
          <h3 className="mb-2 text-sm font-semibold">Attempts</h3>
          <table className="w-full text-left text-sm">
            <thead className="text-slate-500"><tr><th className={cell}>#</th><th className={cell}>Outcome</th><th className={cell}>HTTP</th><th className={cell}>ms</th><th className={cell}>Error</th></tr></thead>
            <tbody>
              {attempts.map((a) => (
                <tr key={a.id} className="border-t border-slate-100">
                  <td className={cell}>{a.attempt}</td>
                  <td className={cell}>{a.outcome}</td>
                  <td className={cell}>{a.statusCode ?? "—"}</td>
                  <td className={cell}>{a.durationMs}</td>
                  <td className={`${cell} text-red-700`}>{errorText(a.error)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
      {run.error ? <p className="border-t border-slate-200 px-4 py-3 text-sm text-red-700">{errorText(run.error)}</p> : null}
      <pre className="overflow-x-auto border-t border-slate-200 px-4 py-3 text-xs">{JSON.stringify(run.event, null, 2)}</pre>
    </section>
  );
}
