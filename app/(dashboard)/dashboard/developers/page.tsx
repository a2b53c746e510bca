import type { Metadata } from "next";
import { ApiKeysPanel } from "@/components/dashboard/api-keys-panel";
import { WebhookEndpointsPanel } from "@/components/dashboard/webhook-endpoints-panel";
import { forPage } from "@/server/trpc/page-guard";
import { getMerchantMe } from "@/server/trpc/rsc";

export const metadata: Metadata = { title: "Developers" };

export default async function DevelopersPage() {
  const me = await forPage(getMerchantMe);
  return (
    <section className="flex flex-col gap-4">
      <h2 className="text-base font-semibold">API keys</h2>
      <p className="text-sm text-slate-600">
        Use a secret key from your server: <code className="font-mono">Authorization: Bearer sk_…</code> and an{" "}
        <code className="font-mono">Idempotency-Key</code> on every POST. The API is described at{" "}
        <a className="text-brand-700 underline" href="/api/v1/openapi.json">
          /api/v1/openapi.json
        </a>
        .
      </p>
      <ApiKeysPanel canEdit={me.role === "merchant_admin"} />
      <h2 className="mt-6 text-base font-semibold">Webhook endpoints</h2>
      <p className="text-sm text-slate-600">
        We POST <code className="font-mono">payment_order.succeeded</code> and <code className="font-mono">payment_order.failed</code> events to your
        endpoints, signed in the <code className="font-mono">PayBridge-Signature</code> header with the endpoint&apos;s secret (see docs/webhooks.md).
      </p>
      <WebhookEndpointsPanel canEdit={me.role === "merchant_admin"} />
    </section>
  );
}
