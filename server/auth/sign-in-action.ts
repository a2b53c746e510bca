"use server";

// The sign-in form's server action (components/sign-in-form.tsx): Auth.js credentials sign-in, with its
// refusals (wrong credentials, throttled) turned into form messages, then the redirect sign-in-destination.ts
// decides (the requested page if safe, else the ops console or the dashboard by who signed in).
import { AuthError } from "next-auth";
import { redirect } from "next/navigation";
import { getDb } from "@/db";
import { signIn, SignInRateLimited } from "@/server/auth/config";
import { signInDestinationFor } from "@/server/auth/sign-in-destination";
import { signInRefusalMessage } from "@/server/auth/sign-in-throttle";
import { env } from "@/server/env.js";

export interface SignInState {
  error?: string;
}

export async function authenticate(_prev: SignInState, formData: FormData): Promise<SignInState> {
  const email = String(formData.get("email") ?? "");
  let destination: string;
  try {
    await signIn("credentials", { email, password: formData.get("password"), redirect: false });
    destination = await signInDestinationFor(getDb(), { email, callbackUrl: String(formData.get("callbackUrl") ?? ""), appOrigin: env.APP_URL });
  } catch (err) {
    // Refusals are AuthErrors; anything else must propagate.
    if (err instanceof SignInRateLimited) return { error: signInRefusalMessage(err.retryAfterS) };
    if (err instanceof AuthError) {
      return { error: err.type === "CredentialsSignin" ? "Email or password is incorrect." : "Sign-in failed. Try again." };
    }
    throw err;
  }
  redirect(destination);
}
