"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc/react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { DataTable, type ColumnDef } from "@/components/ui/data-table";
import { Field, Input } from "@/components/ui/field";
import { ShownOnce } from "@/components/ui/shown-once";
import { Time } from "@/components/ui/time";

// Developers → Webhook endpoints: add (secret shown once), list, send a test event, disable. What was sent and
// how each endpoint answered is the Events panel (events-panel.tsx).

interface EndpointRow {
  id: string;
  url: string;
  enabled: boolean;
  createdAt: Date | string;
  disabledAt: Date | string | null;
}

export function WebhookEndpointsPanel({ canEdit }: { canEdit: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const endpoints = useQuery(trpc.webhooks.listEndpoints.queryOptions());
  const [url, setUrl] = useState("");
  const [revealed, setRevealed] = useState<{ secret: string; url: string } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  // Cancel first: an invalidation while the first load is still in flight would otherwise be answered by that
  // load (older than the change).
  const refresh = async () => {
    const queryKey = trpc.webhooks.listEndpoints.queryKey();
    await qc.cancelQueries({ queryKey });
    await qc.invalidateQueries({ queryKey });
  };
  const create = useMutation(
    trpc.webhooks.createEndpoint.mutationOptions({
      onSuccess: async (e) => {
        setRevealed({ secret: e.secret, url: e.url });
        setUrl("");
        await refresh();
      },
    }),
  );
  const disable = useMutation(trpc.webhooks.disableEndpoint.mutationOptions({ onSuccess: refresh }));
  const sendTest = useMutation(
    trpc.webhooks.sendTestEvent.mutationOptions({
      onSuccess: async (r) => {
        setNotice(`Test event ${r.eventId} queued. Its delivery appears under Events.`);
        await qc.cancelQueries({ queryKey: trpc.webhooks.listEvents.pathKey() });
        await qc.invalidateQueries({ queryKey: trpc.webhooks.listEvents.pathKey() });
      },
    }),
  );

  const columns: ColumnDef<EndpointRow, unknown>[] = [
    { id: "url", header: "URL", cell: ({ row }) => <span className="font-mono text-xs break-all">{row.original.url}</span> },
    { id: "created", header: "Created", cell: ({ row }) => <Time value={row.original.createdAt} />, meta: { priority: "low" } },
    { id: "status", header: "Status", cell: ({ row }) => (row.original.enabled ? <Badge tone="success">enabled</Badge> : <Badge tone="neutral">disabled</Badge>) },
    {
      id: "actions",
      header: () => null,
      meta: { srLabel: "Actions", align: "right" },
      cell: ({ row }) =>
        canEdit && row.original.enabled ? (
          <div className="flex flex-wrap justify-end gap-2">
            <Button size="sm" aria-label={`Send test event to ${row.original.url}`} disabled={sendTest.isPending} onClick={() => sendTest.mutate({ endpointId: row.original.id })}>
              Send test event
            </Button>
            <Button
              size="sm"
              variant="danger"
              aria-label={`Disable ${row.original.url}`}
              onClick={() => {
                if (window.confirm(`Disable ${row.original.url}? It will receive no more events.`)) disable.mutate({ endpointId: row.original.id });
              }}
            >
              Disable
            </Button>
          </div>
        ) : null,
    },
  ];

  return (
    <div className="flex flex-col gap-6">
      {revealed ? <ShownOnce message={`Copy the signing secret for ${revealed.url} now. It will not be shown again.`} value={revealed.secret} testId="new-webhook-secret" onDone={() => setRevealed(null)} /> : null}
      {canEdit ? (
        <form
          className="flex flex-wrap items-end gap-3"
          onSubmit={(e) => {
            e.preventDefault();
            create.mutate({ url });
          }}
        >
          <Field label="Endpoint URL" htmlFor="webhook-url" className="w-96 max-w-full" error={create.error ? (create.error.data?.zodError?.fieldErrors.url?.[0] ?? create.error.message) : null}>
            <Input
              id="webhook-url"
              inputMode="url"
              maxLength={2048}
              placeholder="https://shop.example/webhooks/paybridge"
              value={url}
              onChange={(e) => setUrl(e.target.value)}
              aria-describedby={create.error ? "webhook-url-error" : undefined}
            />
          </Field>
          <Button type="submit" variant="primary" disabled={create.isPending}>
            Add endpoint
          </Button>
        </form>
      ) : (
        <p className="text-sm text-slate-600">Only merchant admins can add, test or disable endpoints.</p>
      )}
      {notice ? (
        <p role="status" className="text-sm text-green-800" data-testid="test-event-notice">
          {notice}
        </p>
      ) : null}
      {sendTest.error || disable.error ? (
        <p role="alert" className="text-sm text-red-700">
          {(sendTest.error ?? disable.error)!.message}
        </p>
      ) : null}
      <DataTable
        caption="Webhook endpoints"
        columns={columns}
        data={endpoints.data}
        getRowId={(e) => e.id}
        loading={endpoints.isPending}
        error={endpoints.error}
        rowTestId="webhook-endpoint-row"
        empty={{ title: "No webhook endpoints yet", description: canEdit ? "Add your server's URL above to receive events." : "An admin can add one." }}
      />
    </div>
  );
}
