"use client";

import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { Field, Input } from "@/components/ui/field";
import { acceptInvitationAction, type AcceptInvitationState } from "@/server/team/accept-invitation-action";

/**
 * Accepting an invitation: a new user chooses a name and a password; the owner of an existing account with the
 * invited email enters its password.
 */
export function AcceptInvitationForm({ token, email, userExists, minPasswordLength }: { token: string; email: string; userExists: boolean; minPasswordLength: number }) {
  const [state, action, pending] = useActionState<AcceptInvitationState, FormData>(acceptInvitationAction, {});
  const err = (field: string) => state.fieldErrors?.[field]?.[0];
  const describedBy = (field: string) => (err(field) ? `${field}-error` : undefined);
  return (
    <form action={action} className="flex flex-col gap-4" data-testid="accept-invitation-form">
      <input type="hidden" name="token" value={token} />
      <input type="hidden" name="kind" value={userExists ? "existing_user" : "new_user"} />
      <Field label="Email" htmlFor="email" hint="The invitation is for this address.">
        <Input id="email" name="email" type="email" value={email} readOnly autoComplete="username" aria-describedby="email-hint" />
      </Field>
      {userExists ? (
        <Field label="Your password" htmlFor="password" error={err("password")} hint="You already have a PayBridge account: confirm it is you.">
          <Input id="password" name="password" type="password" autoComplete="current-password" required aria-invalid={err("password") ? true : undefined} aria-describedby={describedBy("password")} />
        </Field>
      ) : (
        <>
          <Field label="Your name" htmlFor="name" error={err("name")}>
            <Input id="name" name="name" autoComplete="name" required maxLength={120} aria-invalid={err("name") ? true : undefined} aria-describedby={describedBy("name")} />
          </Field>
          <Field label="Choose a password" htmlFor="password" error={err("password")} hint={`At least ${minPasswordLength} characters.`}>
            <Input id="password" name="password" type="password" autoComplete="new-password" required minLength={minPasswordLength} aria-invalid={err("password") ? true : undefined} aria-describedby={describedBy("password") ?? "password-hint"} />
          </Field>
          <Field label="Repeat the password" htmlFor="confirm" error={err("confirm")}>
            <Input id="confirm" name="confirm" type="password" autoComplete="new-password" required aria-invalid={err("confirm") ? true : undefined} aria-describedby={describedBy("confirm")} />
          </Field>
        </>
      )}
      {state.error ? (
        <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700">
          {state.error}
        </p>
      ) : null}
      <Button type="submit" variant="primary" disabled={pending}>
        {pending ? "Joining…" : "Accept and join"}
      </Button>
    </form>
  );
}
