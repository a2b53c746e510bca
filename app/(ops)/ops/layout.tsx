import type { ReactNode } from "react";
import { AppShell } from "@/components/dashboard/shell";
import { TRPCReactProvider } from "@/components/trpc/react";
import { TimeZoneProvider } from "@/components/ui/time";
import { forPage } from "@/server/trpc/page-guard";
import { getOpsExceptionSummary, getOpsOverview } from "@/server/trpc/rsc";

export const dynamic = "force-dynamic";

const NAV = [
  { href: "/ops", label: "Merchants" },
  { href: "/ops/risk", label: "Risk review" },
  { href: "/ops/double-charges", label: "Double charges" },
  { href: "/ops/exceptions", label: "Exceptions" },
  { href: "/ops/reconciliation", label: "Reconciliation" },
  { href: "/ops/runs", label: "Runs & dead letters" },
  { href: "/ops/audit", label: "Audit log" },
];

export default async function OpsLayout({ children }: { children: ReactNode }) {
  const data = await forPage(getOpsOverview);
  // The badge is no reason to fail the console: without a summary the link shows no count.
  const exceptions = await getOpsExceptionSummary().catch(() => null);
  // Reconciliation's badge: its open cases (the overview already counts them).
  const badges: Record<string, number | undefined> = { "/ops/exceptions": exceptions?.open, "/ops/reconciliation": data.reconciliation.open };
  const nav = NAV.map((item) => (badges[item.href] !== undefined ? { ...item, badge: badges[item.href] } : item));
  return (
    <TRPCReactProvider>
      {/* Ops works across merchants and zones: every time in the console is UTC, and says so. */}
      <TimeZoneProvider timeZone="UTC">
        <AppShell title="Ops console" subtitle="Operations" userLabel={`${data.user.email} · Ops`} nav={nav} headerNote="Times in UTC">
          {children}
        </AppShell>
      </TimeZoneProvider>
    </TRPCReactProvider>
  );
}
