import type { Metadata } from "next";
import { MerchantSettingsForm } from "@/components/dashboard/merchant-settings-form";
import { SignOutEverywhere } from "@/components/dashboard/sign-out-everywhere";
import { forPage } from "@/server/trpc/page-guard";
import { getMerchantMe } from "@/server/trpc/rsc";

export const metadata: Metadata = { title: "Settings" };

export default async function SettingsPage() {
  const me = await forPage(getMerchantMe);
  return (
    <section className="flex flex-col gap-4">
      <h2 className="text-base font-semibold">Business profile</h2>
      <MerchantSettingsForm name={me.merchant.name} canEdit={me.role === "merchant_admin"} />
      <h2 className="mt-4 text-base font-semibold">Your sessions</h2>
      <SignOutEverywhere />
    </section>
  );
}
