import type { ReactNode } from "react";
import { AppShell } from "@/components/dashboard/shell";
import { TRPCReactProvider } from "@/components/trpc/react";
import { timeZoneLabel } from "@/components/ui/format";
import { TimeZoneProvider } from "@/components/ui/time";
import { forPage } from "@/server/trpc/page-guard";
import { getMerchantMe } from "@/server/trpc/rsc";

export const dynamic = "force-dynamic";

const NAV = [
  { href: "/dashboard", label: "Overview" },
  { href: "/dashboard/payments", label: "Payments" },
  { href: "/dashboard/refunds", label: "Refunds" },
  { href: "/dashboard/disputes", label: "Disputes" },
  { href: "/dashboard/payouts", label: "Payouts" },
  { href: "/dashboard/sellers", label: "Sellers" },
  { href: "/dashboard/risk", label: "Risk" },
  { href: "/dashboard/developers", label: "Developers" },
  { href: "/dashboard/settings", label: "Settings" },
  { href: "/dashboard/settings/team", label: "Team" },
];

export default async function DashboardLayout({ children }: { children: ReactNode }) {
  const me = await forPage(getMerchantMe);
  const role = me.role === "merchant_admin" ? "Admin" : "Viewer";
  return (
    <TRPCReactProvider>
      <TimeZoneProvider timeZone={me.merchant.timeZone}>
        <AppShell
          title={me.merchant.name}
          subtitle="Merchant dashboard"
          userLabel={`${me.user.email} · ${role}`}
          nav={NAV}
          headerNote={`Times in ${me.merchant.timeZone} (${timeZoneLabel(me.merchant.timeZone)})`}
        >
          {children}
        </AppShell>
      </TimeZoneProvider>
    </TRPCReactProvider>
  );
}
