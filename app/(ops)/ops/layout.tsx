import type { ReactNode } from "react";
import { AppShell } from "@/components/dashboard/shell";
import { TRPCReactProvider } from "@/components/trpc/react";
import { forPage } from "@/server/trpc/page-guard";
import { getOpsOverview } from "@/server/trpc/rsc";

export const dynamic = "force-dynamic";

const NAV = [
  { href: "/ops", label: "Merchants" },
  { href: "/ops/risk", label: "Risk review" },
  { href: "/ops/double-charges", label: "Double charges" },
  { href: "/ops/runs", label: "Runs & dead letters" },
];

export default async function OpsLayout({ children }: { children: ReactNode }) {
  const data = await forPage(getOpsOverview);
  return (
    <TRPCReactProvider>
      <AppShell title="Ops console" subtitle="Operations" userLabel={`${data.user.email} · Ops`} nav={NAV}>
        {children}
      </AppShell>
    </TRPCReactProvider>
  );
}
