import type { Metadata } from "next";
import Link from "next/link";
import { forPage } from "@/server/trpc/page-guard";
import { serverCaller } from "@/server/trpc/rsc";

export const metadata: Metadata = { title: "No access" };
export const dynamic = "force-dynamic";

export default async function NoAccessPage() {
  const { memberships, isOps } = await forPage(async () => (await serverCaller()).auth.whoami());
  return (
    <main className="mx-auto flex min-h-screen max-w-md flex-col justify-center gap-4 px-6">
      <h1 className="text-xl font-semibold">You don&apos;t have access to this page</h1>
      <p className="text-sm text-slate-600">Your role does not include it. Ask an admin for access, or sign in with another account.</p>
      <ul className="flex flex-col gap-2 text-sm">
        {memberships.length > 0 ? (
          <li>
            <Link className="text-brand-700 underline" href="/dashboard">
              Merchant dashboard
            </Link>
          </li>
        ) : null}
        {isOps ? (
          <li>
            <Link className="text-brand-700 underline" href="/ops">
              Ops console
            </Link>
          </li>
        ) : null}
        <li>
          <Link className="text-brand-700 underline" href="/signin">
            Sign in with another account
          </Link>
        </li>
      </ul>
    </main>
  );
}
