"use client";

import { useActionState } from "react";
import { authenticate, type SignInState } from "@/server/auth/sign-in-action";

export function SignInForm({ callbackUrl }: { callbackUrl?: string }) {
  const [state, action, pending] = useActionState<SignInState, FormData>(authenticate, {});
  return (
    <form action={action} className="flex flex-col gap-4" noValidate={false}>
      {/* Empty when none was asked for: the action then picks the user's home (ops console or dashboard). */}
      <input type="hidden" name="callbackUrl" value={callbackUrl ?? ""} />
      <label className="flex flex-col gap-1 text-sm font-medium">
        Email
        <input name="email" type="email" autoComplete="username" required className="rounded-md border border-slate-300 px-3 py-2 text-base font-normal" />
      </label>
      <label className="flex flex-col gap-1 text-sm font-medium">
        Password
        <input name="password" type="password" autoComplete="current-password" required className="rounded-md border border-slate-300 px-3 py-2 text-base font-normal" />
      </label>
      {state.error ? (
        <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700">
          {state.error}
        </p>
      ) : null}
      <button type="submit" disabled={pending} className="rounded-md bg-brand-600 px-4 py-2 font-medium text-white hover:bg-brand-700 disabled:opacity-60">
        {pending ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}
