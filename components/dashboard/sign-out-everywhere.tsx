"use client";

import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useTRPC } from "@/components/trpc/react";

/** Ends every session of the signed-in user, this one included, then goes to the sign-in page. */
export function SignOutEverywhere() {
  const trpc = useTRPC();
  const router = useRouter();
  const revoke = useMutation(trpc.auth.signOutEverywhere.mutationOptions({ onSuccess: () => router.replace("/signin") }));
  return (
    <div className="flex max-w-md flex-col gap-2">
      <p className="text-sm text-slate-600">Signed in somewhere you no longer use? End every session, this one included.</p>
      <button
        type="button"
        onClick={() => revoke.mutate()}
        disabled={revoke.isPending}
        className="self-start rounded-md border border-slate-300 px-4 py-2 font-medium hover:bg-slate-50 disabled:opacity-60"
      >
        {revoke.isPending ? "Signing out…" : "Sign out everywhere"}
      </button>
      {revoke.error ? <p role="alert" className="text-sm text-red-700">{revoke.error.message}</p> : null}
    </div>
  );
}
