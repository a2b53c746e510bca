"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc/react";
import { ShownOnce } from "@/components/ui/shown-once";

// Developers → Webhook endpoints: add (secret shown once), list, disable; recent deliveries with Resend.

export function WebhookEndpointsPanel({ canEdit }: { canEdit: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const endpoints = useQuery(trpc.webhooks.listEndpoints.queryOptions());
  const [url, setUrl] = useState("");
  const [revealed, setRevealed] = useState<{ secret: string; url: string } | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.webhooks.listEndpoints.queryKey() });
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
  return (
    <div className="flex flex-col gap-6">
      {revealed ? (
        <ShownOnce
          message={`Copy the signing secret for ${revealed.url} now. It will not be shown again.`}
          value={revealed.secret}
          testId="new-webhook-secret"
          onDone={() => setRevealed(null)}
        />
      ) : null}
      {canEdit ? (
        <form
          className="flex flex-wrap items-end gap-3"
          onSubmit={(e) => {
            e.preventDefault();
            create.mutate({ url });
          }}
        >
          <label className="flex flex-col gap-1 text-sm font-medium">
            Endpoint URL
            <input className="w-96 max-w-full rounded-md border border-slate-300 px-3 py-2 font-normal" placeholder="https://shop.example/webhooks/paybridge" value={url} onChange={(e) => setUrl(e.target.value)} />
          </label>
          <button type="submit" disabled={create.isPending} className="rounded-md bg-brand-600 px-4 py-2 font-medium text-white hover:bg-brand-700 disabled:opacity-60">
            Add endpoint
          </button>
          {create.error ? <p role="alert" className="w-full text-sm text-red-700">{create.error.data?.zodError?.fieldErrors.url?.[0] ?? create.error.message}</p> : null}
        </form>
      ) : (
        <p className="text-sm text-slate-500">Only merchant admins can add or disable endpoints.</p>
      )}
      <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white">
        <table className="w-full text-left text-sm">
          <thead className="text-slate-500">
            <tr>
              <th className="px-4 py-2 font-medium">URL</th>
              <th className="px-4 py-2 font-medium">Created</th>
              <th className="px-4 py-2 font-medium">Status</th>
              <th className="px-4 py-2" />
            </tr>
          </thead>
          <tbody>
            {endpoints.data?.map((e) => (
              <tr key={e.id} className="border-t border-slate-100">
                <td className="px-4 py-2 font-mono text-xs break-all">{e.url}</td>
                <td className="px-4 py-2 text-slate-500">{new Date(e.createdAt).toLocaleString()}</td>
                <td className="px-4 py-2">{e.enabled ? "enabled" : "disabled"}</td>
                <td className="px-4 py-2 text-right">
                  {canEdit && e.enabled ? (
                    <button
                      className="text-red-700 underline"
                      onClick={() => {
                        if (window.confirm(`Disable ${e.url}? It will receive no more events.`)) disable.mutate({ endpointId: e.id });
                      }}
                    >
                      Disable
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <WebhookDeliveries canEdit={canEdit} />
    </div>
  );
}

function WebhookDeliveries({ canEdit }: { canEdit: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const deliveries = useQuery(trpc.webhooks.listDeliveries.queryOptions());
  const resend = useMutation(
    trpc.webhooks.resendDelivery.mutationOptions({ onSuccess: () => qc.invalidateQueries({ queryKey: trpc.webhooks.listDeliveries.queryKey() }) }),
  );
  return (
    <div className="flex flex-col gap-2">
      <h3 className="text-sm font-semibold">Recent deliveries</h3>
      {resend.error ? <p role="alert" className="text-sm text-red-700">{resend.error.message}</p> : null}
      <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white">
        <table className="w-full text-left text-sm">
          <thead className="text-slate-500">
            <tr>
              <th className="px-4 py-2 font-medium">Event</th>
              <th className="px-4 py-2 font-medium">Payment order</th>
              <th className="px-4 py-2 font-medium">Endpoint</th>
              <th className="px-4 py-2 font-medium">Status</th>
              <th className="px-4 py-2 font-medium">Attempts</th>
              <th className="px-4 py-2 font-medium">Last response</th>
              <th className="px-4 py-2" />
            </tr>
          </thead>
          <tbody>
            {deliveries.data?.length === 0 ? (
              <tr>
                <td colSpan={7} className="px-4 py-3 text-slate-500">
                  No deliveries yet.
                </td>
              </tr>
            ) : null}
            {deliveries.data?.map((d) => (
              <tr key={d.id} className="border-t border-slate-100">
                <td className="px-4 py-2">
                  <div>{d.eventType}</div>
                  <div className="font-mono text-xs text-slate-500">{d.eventId}</div>
                </td>
                <td className="px-4 py-2 font-mono text-xs">{d.objectId}</td>
                <td className="px-4 py-2 font-mono text-xs break-all">{d.url}</td>
                <td className="px-4 py-2">{d.status}</td>
                <td className="px-4 py-2">{d.attempts}</td>
                <td className="px-4 py-2 text-slate-500" title={d.lastError ?? undefined}>
                  {d.lastStatusCode ?? (d.lastError ? "no response" : "—")}
                </td>
                <td className="px-4 py-2 text-right">
                  {canEdit ? (
                    <button className="text-brand-700 underline disabled:opacity-60" disabled={resend.isPending} onClick={() => resend.mutate({ deliveryId: d.id })}>
                      Resend
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
