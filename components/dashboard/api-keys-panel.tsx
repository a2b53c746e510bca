"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc/react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { DataTable, type ColumnDef } from "@/components/ui/data-table";
import { Field, Input, Select } from "@/components/ui/field";
import { ShownOnce } from "@/components/ui/shown-once";
import { Time } from "@/components/ui/time";

// Developers → API keys, test and live apart. One deployment runs in one mode (PSP_MODE): it issues and accepts
// only that mode's keys (sk_test_/pk_test_ on the sandbox, sk_live_/pk_live_ on live), so the other mode's keys
// are created on the other deployment. Keys of the other mode found here (a database that once ran in it) are
// listed in their own table, marked as refused by this server.

type Mode = "test" | "live";
interface KeyRow {
  id: string;
  kind: "secret" | "publishable";
  name: string;
  displayHint: string;
  publicValue: string | null;
  createdAt: Date | string;
  lastUsedAt: Date | string | null;
  revokedAt: Date | string | null;
  mode: Mode;
}

const MODE_LABEL: Record<Mode, string> = { test: "Test mode", live: "Live mode" };

export function ApiKeysPanel({ canEdit, serverMode }: { canEdit: boolean; serverMode: Mode }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const keys = useQuery(trpc.apiKeys.list.queryOptions());
  const [name, setName] = useState("");
  const [kind, setKind] = useState<"secret" | "publishable">("secret");
  const [revealed, setRevealed] = useState<{ key: string; name: string } | null>(null);
  // Cancel first: an invalidation while the first load is still in flight would otherwise be answered by that
  // load (older than the change).
  const refresh = async () => {
    const queryKey = trpc.apiKeys.list.queryKey();
    await qc.cancelQueries({ queryKey });
    await qc.invalidateQueries({ queryKey });
  };
  const create = useMutation(
    trpc.apiKeys.create.mutationOptions({
      onSuccess: async (k) => {
        setRevealed({ key: k.key, name: k.name });
        setName("");
        await refresh();
      },
    }),
  );
  const revoke = useMutation(trpc.apiKeys.revoke.mutationOptions({ onSuccess: refresh }));
  const otherMode: Mode = serverMode === "test" ? "live" : "test";
  const prefix = serverMode === "test" ? "sk_test_/pk_test_" : "sk_live_/pk_live_";
  const otherPrefix = otherMode === "test" ? "sk_test_/pk_test_" : "sk_live_/pk_live_";

  const columns: ColumnDef<KeyRow, unknown>[] = [
    { id: "name", header: "Name", cell: ({ row }) => row.original.name },
    { id: "kind", header: "Type", cell: ({ row }) => (row.original.kind === "secret" ? "Secret" : "Publishable"), meta: { priority: "low" } },
    { id: "key", header: "Key", cell: ({ row }) => <code className="font-mono text-xs break-all">{row.original.publicValue ?? row.original.displayHint}</code> },
    { id: "lastUsed", header: "Last used", cell: ({ row }) => (row.original.lastUsedAt ? <Time value={row.original.lastUsedAt} /> : "never"), meta: { priority: "low" } },
    {
      id: "status",
      header: "Status",
      cell: ({ row }) => (row.original.revokedAt ? <Badge tone="neutral">revoked</Badge> : row.original.mode !== serverMode ? <Badge tone="warning">refused here</Badge> : <Badge tone="success">active</Badge>),
    },
    {
      id: "actions",
      header: () => null,
      meta: { srLabel: "Actions", align: "right" },
      cell: ({ row }) =>
        canEdit && !row.original.revokedAt ? (
          <Button
            size="sm"
            variant="danger"
            aria-label={`Revoke ${row.original.name}`}
            onClick={() => {
              if (window.confirm(`Revoke “${row.original.name}”? Requests using it will fail at once.`)) revoke.mutate({ keyId: row.original.id });
            }}
          >
            Revoke
          </Button>
        ) : null,
    },
  ];
  const byMode = (mode: Mode) => keys.data?.filter((k) => k.mode === mode);

  return (
    <div className="flex flex-col gap-6">
      <p className="text-sm text-slate-600">
        This deployment runs in <strong>{serverMode} mode</strong>: it issues and accepts only <code className="font-mono">{prefix}</code> keys. {MODE_LABEL[otherMode]} keys (
        <code className="font-mono">{otherPrefix}</code>) are created on the {otherMode}-mode deployment, and this one refuses them.
      </p>
      {revealed ? <ShownOnce message={`Copy your key “${revealed.name}” now. It will not be shown again.`} value={revealed.key} testId="new-api-key" onDone={() => setRevealed(null)} /> : null}
      {canEdit ? (
        <form
          className="flex flex-wrap items-end gap-3"
          onSubmit={(e) => {
            e.preventDefault();
            create.mutate({ kind, name });
          }}
        >
          <Field label="Key name" htmlFor="api-key-name" error={create.error ? (create.error.data?.zodError?.fieldErrors.name?.[0] ?? create.error.message) : null}>
            <Input id="api-key-name" value={name} maxLength={80} onChange={(e) => setName(e.target.value)} aria-describedby={create.error ? "api-key-name-error" : undefined} />
          </Field>
          <Field label="Type" htmlFor="api-key-kind">
            <Select id="api-key-kind" value={kind} onChange={(e) => setKind(e.target.value as "secret" | "publishable")}>
              <option value="secret">Secret (server)</option>
              <option value="publishable">Publishable (browser)</option>
            </Select>
          </Field>
          <Button type="submit" variant="primary" disabled={create.isPending}>
            Create key
          </Button>
          <p className="w-full text-xs text-slate-600">New keys are {serverMode}-mode keys.</p>
        </form>
      ) : (
        <p className="text-sm text-slate-600">Only merchant admins can create or revoke keys.</p>
      )}
      {revoke.error ? (
        <p role="alert" className="text-sm text-red-700">
          {revoke.error.message}
        </p>
      ) : null}
      {([serverMode, otherMode] as const).map((mode) => (
        <div key={mode} data-testid={`api-keys-${mode}`}>
          <DataTable
            caption={`${MODE_LABEL[mode]} keys`}
            captionVisible
            columns={columns}
            data={byMode(mode)}
            getRowId={(k) => k.id}
            loading={keys.isPending}
            error={keys.error}
            rowTestId="api-key-row"
            empty={
              mode === serverMode
                ? { title: `No ${mode}-mode keys yet`, description: canEdit ? "Create one above." : "An admin can create one." }
                : { title: `No ${mode}-mode keys here`, description: `${MODE_LABEL[mode]} keys are created on the ${mode}-mode deployment of PayBridge, not on this one.` }
            }
          />
        </div>
      ))}
    </div>
  );
}
