"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc/react";
import { ShownOnce } from "@/components/ui/shown-once";

export function ApiKeysPanel({ canEdit }: { canEdit: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const keys = useQuery(trpc.apiKeys.list.queryOptions());
  const [name, setName] = useState("");
  const [kind, setKind] = useState<"secret" | "publishable">("secret");
  const [revealed, setRevealed] = useState<{ key: string; name: string } | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.apiKeys.list.queryKey() });
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
  return (
    <div className="flex flex-col gap-6">
      {revealed ? (
        <ShownOnce message={`Copy your key “${revealed.name}” now. It will not be shown again.`} value={revealed.key} testId="new-api-key" onDone={() => setRevealed(null)} />
      ) : null}
      {canEdit ? (
        <form
          className="flex flex-wrap items-end gap-3"
          onSubmit={(e) => {
            e.preventDefault();
            create.mutate({ kind, name });
          }}
        >
          <label className="flex flex-col gap-1 text-sm font-medium">
            Key name
            <input className="rounded-md border border-slate-300 px-3 py-2 font-normal" value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <label className="flex flex-col gap-1 text-sm font-medium">
            Type
            <select className="rounded-md border border-slate-300 px-3 py-2 font-normal" value={kind} onChange={(e) => setKind(e.target.value as "secret" | "publishable")}>
              <option value="secret">Secret (server)</option>
              <option value="publishable">Publishable (browser)</option>
            </select>
          </label>
          <button type="submit" disabled={create.isPending} className="rounded-md bg-brand-600 px-4 py-2 font-medium text-white hover:bg-brand-700 disabled:opacity-60">
            Create key
          </button>
          {create.error ? <p role="alert" className="w-full text-sm text-red-700">{create.error.data?.zodError?.fieldErrors.name?.[0] ?? create.error.message}</p> : null}
        </form>
      ) : (
        <p className="text-sm text-slate-500">Only merchant admins can create or revoke keys.</p>
      )}
      <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white">
        <table className="w-full text-left text-sm">
          <thead className="text-slate-500">
            <tr>
              <th className="px-4 py-2 font-medium">Name</th>
              <th className="px-4 py-2 font-medium">Key</th>
              <th className="px-4 py-2 font-medium">Last used</th>
              <th className="px-4 py-2 font-medium">Status</th>
              <th className="px-4 py-2" />
            </tr>
          </thead>
          <tbody>
            {keys.data?.map((k) => (
              <tr key={k.id} className="border-t border-slate-100">
                <td className="px-4 py-2">{k.name}</td>
                <td className="px-4 py-2 font-mono text-xs">{k.publicValue ?? k.displayHint}</td>
                <td className="px-4 py-2 text-slate-500">{k.lastUsedAt ? new Date(k.lastUsedAt).toLocaleString() : "never"}</td>
                <td className="px-4 py-2">{k.revokedAt ? "revoked" : "active"}</td>
                <td className="px-4 py-2 text-right">
                  {canEdit && !k.revokedAt ? (
                    <button
                      className="text-red-700 underline"
                      onClick={() => {
                        if (window.confirm(`Revoke “${k.name}”? Requests using it will fail at once.`)) revoke.mutate({ keyId: k.id });
                      }}
                    >
                      Revoke
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
