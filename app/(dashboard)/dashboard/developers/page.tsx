import type { Metadata } from "next";
import { ApiKeysPanel } from "@/components/dashboard/api-keys-panel";
import { ApiLogPanel } from "@/components/dashboard/api-log-panel";
import { EventsPanel } from "@/components/dashboard/events-panel";
import { WebhookEndpointsPanel } from "@/components/dashboard/webhook-endpoints-panel";
import { Card } from "@/components/ui/card";
import { serverKeyMode } from "@/server/api-keys/keys";
import { forPage } from "@/server/trpc/page-guard";
import { getMerchantMe } from "@/server/trpc/rsc";

export const metadata: Metadata = { title: "Developers" };

const SECTIONS = [
  { id: "api-keys", label: "API keys" },
  { id: "webhooks", label: "Webhook endpoints" },
  { id: "events", label: "Events" },
  { id: "api-requests", label: "API requests" },
];

export default async function DevelopersPage() {
  const me = await forPage(getMerchantMe);
  const canEdit = me.role === "merchant_admin";
  return (
    <div className="flex flex-col gap-6">
      <nav aria-label="Developers sections" className="flex flex-wrap gap-3 text-sm">
        {SECTIONS.map((s) => (
          <a key={s.id} href={`#${s.id}`} className="text-brand-700 underline">
            {s.label}
          </a>
        ))}
      </nav>
      <div id="api-keys" className="scroll-mt-4">
        <Card
          title="API keys"
          description={
            <>
              Use a secret key from your server: <code className="font-mono">Authorization: Bearer sk_…</code> and an <code className="font-mono">Idempotency-Key</code> on every POST. The
              API is described at{" "}
              <a className="text-brand-700 underline" href="/api/v1/openapi.json">
                /api/v1/openapi.json
              </a>
              .
            </>
          }
        >
          <ApiKeysPanel canEdit={canEdit} serverMode={serverKeyMode()} />
        </Card>
      </div>
      <div id="webhooks" className="scroll-mt-4">
        <Card
          title="Webhook endpoints"
          description={
            <>
              We POST <code className="font-mono">payment_order.succeeded</code> and <code className="font-mono">payment_order.failed</code> events (and{" "}
              <code className="font-mono">webhook_endpoint.test</code> when you send a test) to your endpoints, signed in the <code className="font-mono">PayBridge-Signature</code> header
              with the endpoint&apos;s secret.
            </>
          }
        >
          <WebhookEndpointsPanel canEdit={canEdit} />
        </Card>
      </div>
      <div id="events" className="scroll-mt-4">
        <Card title="Events" description="What we sent, with the exact body, each delivery and every attempt.">
          <EventsPanel canEdit={canEdit} />
        </Card>
      </div>
      <div id="api-requests" className="scroll-mt-4">
        <Card title="API requests" description="Calls made with your API keys in the last 30 days. Bodies are stored with secrets removed and buyers' details masked.">
          <ApiLogPanel />
        </Card>
      </div>
    </div>
  );
}
