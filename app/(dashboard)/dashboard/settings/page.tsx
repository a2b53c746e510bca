import type { Metadata } from "next";
import { MerchantSettingsForm } from "@/components/dashboard/merchant-settings-form";
import { SettingsNav } from "@/components/dashboard/settings-nav";
import { SignOutEverywhere } from "@/components/dashboard/sign-out-everywhere";
import { Card } from "@/components/ui/card";
import { timeZoneLabel } from "@/components/ui/format";
import { TIME_ZONES } from "@/server/merchants/branding";
import { forPage } from "@/server/trpc/page-guard";
import { getMerchantMe, serverCaller } from "@/server/trpc/rsc";

export const metadata: Metadata = { title: "Settings" };

const timeZoneOptions = () => TIME_ZONES.map((z) => ({ value: z, label: `${z} (${timeZoneLabel(z)})` }));

export default async function SettingsPage() {
  const me = await forPage(getMerchantMe);
  const settings = await forPage(async () => (await serverCaller()).merchant.settings());
  return (
    <section className="flex flex-col gap-4">
      <SettingsNav current="/dashboard/settings" />
      <MerchantSettingsForm settings={settings} timeZones={timeZoneOptions()} canEdit={me.role === "merchant_admin"} />
      <Card title="Your sessions">
        <SignOutEverywhere />
      </Card>
    </section>
  );
}
