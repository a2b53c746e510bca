"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/react";

// Field-encryption key rotation progress (server/keys): rows per encrypted column still under an old key.
// An old key may leave FIELD_ENCRYPTION_KEYS only once this says 0 remain (docs/security.md).
export function KeyRotationStatus() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  // Polled only while rows remain under an old key: each read counts every encrypted column. A new key needs a
  // restart (a fresh page), and a requested run invalidates the query.
  const status = useQuery(trpc.ops.keyRotation.queryOptions(undefined, { refetchInterval: (q) => ((q.state.data?.remaining ?? 0) > 0 ? 5000 : false) }));
  const request = useMutation(trpc.ops.requestReencryption.mutationOptions({ onSuccess: () => qc.invalidateQueries({ queryKey: trpc.ops.keyRotation.queryKey() }) }));
  const s = status.data;
  return (
    <section className="rounded-lg border border-slate-200 bg-white" data-testid="key-rotation">
      <div className="flex flex-wrap items-center justify-between gap-2 border-b border-slate-200 px-4 py-3">
        <h2 className="font-semibold">Field-encryption keys</h2>
        <button className="rounded-md border border-slate-300 px-3 py-1 text-sm" disabled={request.isPending} onClick={() => request.mutate()}>
          {request.isSuccess ? "Re-encryption requested" : "Re-encrypt now"}
        </button>
      </div>
      {s ? (
        <div className="flex flex-col gap-2 px-4 py-3 text-sm">
          <p>
            Active key version <span className="font-mono">{s.activeVersion}</span> · ring {s.ringVersions.join(", ")} ·{" "}
            <span className={s.remaining === 0 ? "text-green-700" : "text-amber-700"}>
              {s.remaining === 0 ? "every value is under the active key" : `${s.remaining} of ${s.total} values under an old key`}
            </span>
            {s.unreadable > 0 ? <span className="text-red-700"> · {s.unreadable} under a key missing from the ring</span> : null}
            {s.lastReencryptedAt ? <span className="text-slate-500"> · last re-encrypted {new Date(s.lastReencryptedAt).toLocaleString()}</span> : null}
          </p>
          <ul className="text-slate-600">
            {s.tables.map((t) => (
              <li key={t.table}>
                <span className="font-mono text-xs">{t.table}</span>: {t.remaining} of {t.total} remaining
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {request.error ? <p role="alert" className="px-4 pb-3 text-sm text-red-700">{request.error.message}</p> : null}
    </section>
  );
}
