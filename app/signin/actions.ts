"use server";

import { AuthError } from "next-auth";
import { signIn } from "@/server/auth/config";
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
    if (err instanceof AuthError) {
      if (err.type === "CredentialsSignin" && (err as { code?: string }).code === "rate_limited") {
        return { error: "Too many sign-in attempts. Wait a minute and try again." };
      }
      return { error: err.type === "CredentialsSignin" ? "Email or password is incorrect." : "Sign-in failed. Try again." };
    }
    throw err;
  }
}
