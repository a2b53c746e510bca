"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useId, useRef, useState, type FormEvent } from "react";
import { useTRPC } from "@/components/trpc/react";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Field, Input, Select } from "@/components/ui/field";

// The list page's two ways to make reconciliation happen now: "Run now" (reconciliation.runNow: the matcher and the
// invariants, as the cron does) and an upload of a Stripe itemized payout reconciliation report or an M-Pesa
// statement (POST /api/ops/reconciliation/import?source=…, multipart, one part `file`: imported, then matched). Each
// shows the server's answer, or its refusal verbatim; the page's report then reloads (router.refresh()).

export const IMPORT_PATH = "/api/ops/reconciliation/import";
const UPLOAD_SOURCES = [
  { source: "stripe_report_csv", label: "Stripe payout reconciliation report (CSV)" },
  { source: "mpesa_statement_csv", label: "M-Pesa statement (CSV)" },
] as const;

type Flash = { kind: "ok" | "error"; text: string } | null;

function FlashLine({ flash, testId }: { flash: Flash; testId: string }) {
  return (
    <div role="status" aria-live="polite" className="empty:hidden">
      {flash ? (
        <p role={flash.kind === "error" ? "alert" : undefined} className={`rounded-md border px-3 py-2 text-sm ${flash.kind === "ok" ? "border-green-200 bg-green-50 text-green-900" : "border-red-200 bg-red-50 text-red-800"}`} data-testid={testId}>
          {flash.text}
        </p>
      ) : null}
    </div>
  );
}

export function RunNowButton() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const router = useRouter();
  const [flash, setFlash] = useState<Flash>(null);
  const run = useMutation(
    trpc.reconciliation.runNow.mutationOptions({
      onSuccess: async (r) => {
        const failing = r.invariants.filter((c) => !c.ok);
        setFlash({
          kind: "ok",
          text: `Matched ${r.matchedRows.toLocaleString("en-US")} of ${r.rows.toLocaleString("en-US")} rows; ${r.opened} case(s) opened, ${r.reopened} re-opened, ${r.resolved} resolved, ${r.open} open. Invariants: ${failing.length === 0 ? "all hold" : `${failing.length} breached (${failing.map((c) => c.name).join(", ")})`}.`,
        });
        await qc.invalidateQueries(trpc.reconciliation.pathFilter());
        router.refresh();
      },
      onError: (e) => setFlash({ kind: "error", text: e.message }),
    }),
  );
  return (
    <div className="flex flex-col gap-2">
      <div className="flex flex-wrap items-center gap-3">
        <Button variant="primary" disabled={run.isPending} onClick={() => (run.isPending ? undefined : run.mutate({}))} data-testid="recon-run-now">
          {run.isPending ? "Running…" : "Run now"}
        </Button>
        <p className="text-sm text-slate-600">Matches every imported row against what we hold and checks the ledger invariants, as the scheduled run does.</p>
      </div>
      <FlashLine flash={flash} testId="recon-run-result" />
    </div>
  );
}

interface ImportCounts {
  importId?: string;
  rowsSeen?: number;
  rowsAdded?: number;
  alreadyImported?: boolean;
}
/** The route's answer (server/reconciliation/upload.ts UploadResult), or its error. */
interface ImportAnswer {
  import?: ImportCounts;
  match?: { rows: number; matchedRows: number; opened: number; reopened: number; resolved: number; open: number };
  error?: { message?: string };
}

function importText(fileName: string, answer: ImportAnswer | null): string {
  const imp = answer?.import;
  const m = answer?.match;
  const head = imp?.alreadyImported ? `${fileName} was imported before: nothing added.` : `Imported ${fileName}: ${imp?.rowsAdded ?? 0} new row(s) of ${imp?.rowsSeen ?? 0}.`;
  return m ? `${head} Matched ${m.matchedRows} of ${m.rows} rows; ${m.opened} case(s) opened, ${m.resolved} resolved, ${m.open} open.` : head;
}

export function ImportForm() {
  const ids = useId();
  const router = useRouter();
  const qc = useQueryClient();
  const trpc = useTRPC();
  const fileRef = useRef<HTMLInputElement>(null);
  const [source, setSource] = useState<(typeof UPLOAD_SOURCES)[number]["source"]>("stripe_report_csv");
  const [pending, setPending] = useState(false);
  const [flash, setFlash] = useState<Flash>(null);
  const fileId = `${ids}-file`;
  const sourceId = `${ids}-source`;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (pending) return;
    const file = fileRef.current?.files?.[0];
    if (!file) {
      setFlash({ kind: "error", text: "Choose a CSV file first." });
      return;
    }
    setPending(true);
    setFlash(null);
    try {
      const body = new FormData();
      body.append("file", file);
      const res = await fetch(`${IMPORT_PATH}?source=${encodeURIComponent(source)}`, { method: "POST", body });
      const json = (await res.json().catch(() => null)) as ImportAnswer | null;
      if (!res.ok) {
        setFlash({ kind: "error", text: json?.error?.message ?? `The import failed (HTTP ${res.status}).` });
        return;
      }
      setFlash({ kind: "ok", text: importText(file.name, json) });
      if (fileRef.current) fileRef.current.value = "";
      await qc.invalidateQueries(trpc.reconciliation.pathFilter());
      router.refresh();
    } catch (err) {
      setFlash({ kind: "error", text: err instanceof Error ? err.message : "The upload failed." });
    } finally {
      setPending(false);
    }
  };

  return (
    <form onSubmit={submit} className="flex flex-col gap-3" aria-label="Import settlement data" data-testid="recon-import-form">
      <div className="flex flex-wrap items-end gap-3">
        <Field label="Source" htmlFor={sourceId}>
          <Select id={sourceId} value={source} onChange={(e) => setSource(e.target.value as typeof source)} disabled={pending}>
            {UPLOAD_SOURCES.map((s) => (
              <option key={s.source} value={s.source}>
                {s.label}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="File" htmlFor={fileId} className="min-w-0 flex-1">
          <Input id={fileId} ref={fileRef} type="file" accept=".csv,text/csv" disabled={pending} className="min-w-0" />
        </Field>
        <Button type="submit" disabled={pending}>
          {pending ? "Importing…" : "Import"}
        </Button>
      </div>
      <FlashLine flash={flash} testId="recon-import-result" />
    </form>
  );
}

/** Run now and the upload form, in one panel. */
export function ReconActionsPanel() {
  return (
    <Card title="Bring data in" description="Stripe balance transactions arrive through the API on a schedule; a report or statement you downloaded can be uploaded here. Re-importing the same file adds nothing.">
      <div className="flex flex-col gap-5">
        <RunNowButton />
        <ImportForm />
      </div>
    </Card>
  );
}
