"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/react";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { DataTable, type ColumnDef } from "@/components/ui/data-table";
import { Time } from "@/components/ui/time";

// Field-encryption key rotation progress (server/keys): rows per encrypted column still under an old key.
// An old key may leave FIELD_ENCRYPTION_KEYS only once this says 0 remain (docs/security.md).

type ColumnRow = { table: string; total: number; remaining: number };

const columns: ColumnDef<ColumnRow, unknown>[] = [
  { id: "table", header: "Encrypted column", cell: ({ row }) => <span className="font-mono text-xs">{row.original.table}</span> },
  { id: "remaining", header: "Under an old key", meta: { align: "right" }, cell: ({ row }) => row.original.remaining },
  { id: "total", header: "Values", meta: { align: "right" }, cell: ({ row }) => row.original.total },
];

export function KeyRotationStatus() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  // Polled only while rows remain under an old key: each read counts every encrypted column. A new key needs a
  // restart (a fresh page), and a requested run invalidates the query.
  const status = useQuery(trpc.ops.keyRotation.queryOptions(undefined, { refetchInterval: (q) => ((q.state.data?.remaining ?? 0) > 0 ? 5000 : false) }));
  const request = useMutation(trpc.ops.requestReencryption.mutationOptions({ onSuccess: () => qc.invalidateQueries({ queryKey: trpc.ops.keyRotation.queryKey() }) }));
  const s = status.data;
  return (
    <Card
      title="Field-encryption keys"
      data-testid="key-rotation"
      actions={
        <Button size="sm" disabled={request.isPending} onClick={() => request.mutate()}>
          {request.isSuccess ? "Re-encryption requested" : "Re-encrypt now"}
        </Button>
      }
    >
      <div className="flex flex-col gap-3 text-sm">
        {s ? (
          <p>
            Active key version <span className="font-mono">{s.activeVersion}</span> · ring {s.ringVersions.join(", ")} ·{" "}
            <span className={s.remaining === 0 ? "text-green-700" : "text-amber-700"}>
              {s.remaining === 0 ? "every value is under the active key" : `${s.remaining} of ${s.total} values under an old key`}
            </span>
            {s.unreadable > 0 ? <span className="text-red-700"> · {s.unreadable} under a key missing from the ring</span> : null}
            {s.lastReencryptedAt ? (
              <span className="text-slate-600">
                {" "}
                · last re-encrypted <Time value={s.lastReencryptedAt} />
              </span>
            ) : null}
          </p>
        ) : null}
        <DataTable<ColumnRow>
          caption="Encrypted columns"
          columns={columns}
          data={s?.tables}
          getRowId={(r) => r.table}
          loading={status.isLoading}
          error={status.error ? { message: status.error.message } : null}
          empty={{ title: "No encrypted columns." }}
        />
        {request.error ? (
          <p role="alert" className="text-sm text-red-700">
            {request.error.message}
          </p>
        ) : null}
      </div>
    </Card>
  );
}
