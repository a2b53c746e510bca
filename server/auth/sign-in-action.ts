"use server";

// The sign-in form's server action (components/sign-in-form.tsx): Auth.js credentials sign-in, with its
// refusals (wrong credentials, throttled) turned into form messages.
import { AuthError } from "next-auth";
import { signIn, SignInRateLimited } from "@/server/auth/config";
import { signInRefusalMessage } from "@/server/auth/sign-in-throttle";
import { safeReturnPath } from "@/server/trpc/page-guard";

export interface SignInState {
  error?: string;
}

export async function authenticate(_prev: SignInState, formData: FormData): Promise<SignInState> {
  try {
    await signIn("credentials", {
      email: formData.get("email"),
      password: formData.get("password"),
      redirectTo: safeReturnPath(String(formData.get("callbackUrl") ?? "")),
    });
    return {};
  } catch (err) {
    // signIn redirects by throwing; anything that is not an AuthError must propagate.
    if (err instanceof SignInRateLimited) return { error: signInRefusalMessage(err.retryAfterS) };
    if (err instanceof AuthError) {
      return { error: err.type === "CredentialsSignin" ? "Email or password is incorrect." : "Sign-in failed. Try again." };
    }
    throw err;
  }
}
