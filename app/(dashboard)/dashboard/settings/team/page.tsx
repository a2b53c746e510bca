import type { Metadata } from "next";
import { SettingsNav } from "@/components/dashboard/settings-nav";
import { TeamPanel } from "@/components/dashboard/team-panel";
import { forPage } from "@/server/trpc/page-guard";
import { getMerchantMe } from "@/server/trpc/rsc";

export const metadata: Metadata = { title: "Team" };

export default async function TeamPage() {
  const me = await forPage(getMerchantMe);
  return (
    <section className="flex flex-col gap-4">
      <SettingsNav current="/dashboard/settings/team" />
      <TeamPanel canEdit={me.role === "merchant_admin"} currentUserId={me.user.id} />
    </section>
  );
}
