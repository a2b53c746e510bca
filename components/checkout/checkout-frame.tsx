import type { ReactNode } from "react";
import { Badge } from "@/components/ui/badge";
import { accentStyle } from "./branding";

// The hosted checkout's frame, shared by the checkout itself, its receipt and the pages that say why it cannot
// be paid (not found, expired, rejected): the merchant's logo and name, a test-mode badge, the support contact.
// Server-safe (no hooks): the not-found page renders it without the client bundle.

export interface FrameBranding {
  name: string;
  logoUrl: string | null;
  accentColor: string | null;
  supportEmail: string | null;
}

export function CheckoutFrame({ branding, testMode, children }: { branding: FrameBranding | null; testMode: boolean; children: ReactNode }) {
  return (
    <div style={accentStyle(branding?.accentColor)} className="min-h-screen print:min-h-0">
      {testMode ? (
        <div className="bg-amber-100 px-4 py-1.5 text-center text-sm text-amber-900 print:border-b print:border-amber-900" data-testid="test-mode-banner">
          <Badge tone="warning" data-testid="test-mode-badge">
            Test mode
          </Badge>{" "}
          No real money moves: this checkout uses test keys.
        </div>
      ) : null}
      <main className="mx-auto flex w-full max-w-lg flex-col gap-6 px-4 py-8 print:max-w-none print:py-2">
        <header className="flex items-center gap-3 border-b-4 border-(--accent) pb-3">
          {branding?.logoUrl ? (
            // A merchant's own URL or our /api/branding path: not an optimisable static image.
            // eslint-disable-next-line @next/next/no-img-element
            <img src={branding.logoUrl} alt={`${branding.name} logo`} className="h-10 w-auto max-w-40 object-contain" data-testid="merchant-logo" />
          ) : null}
          <p className="text-base font-semibold text-slate-900" data-testid="merchant-name">
            {branding?.name ?? "PayBridge checkout"}
          </p>
        </header>
        {children}
        <footer className="mt-auto border-t border-slate-200 pt-3 text-sm text-slate-600 print:hidden">
          {branding?.supportEmail ? (
            <p>
              Questions about this payment? Contact {branding.name} at{" "}
              <a className="font-medium text-slate-800 underline" href={`mailto:${branding.supportEmail}`}>
                {branding.supportEmail}
              </a>
              .
            </p>
          ) : null}
          <p className="mt-1">Payments processed securely by PayBridge.</p>
        </footer>
      </main>
    </div>
  );
}

/** A page that says why there is nothing to pay (role=status, its own h2 under the page's h1). */
export function ReasonPanel({ tone, title, children, testId }: { tone: "danger" | "warning" | "neutral"; title: string; children: ReactNode; testId?: string }) {
  const tones = { danger: "bg-red-50 text-red-900 border-red-200", warning: "bg-amber-50 text-amber-900 border-amber-200", neutral: "bg-white text-slate-900 border-slate-200" };
  return (
    <section role="status" className={`rounded-lg border p-4 ${tones[tone]}`} data-testid={testId}>
      <h2 className="text-lg font-semibold">{title}</h2>
      <div className="mt-1 text-sm">{children}</div>
    </section>
  );
}
