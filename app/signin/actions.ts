"use server";

import { AuthError } from "next-auth";
import { signIn } from "@/server/auth/config";

export interface SignInState {
  error?: string;
}

/** Only same-site paths are accepted as post-sign-in destinations (no open redirect). */
function safeCallback(value: FormDataEntryValue | null): string {
  const v = typeof value === "string" ? value : "";
  return v.startsWith("/") && !v.startsWith("//") ? v : "/dashboard";
}

export async function authenticate(_prev: SignInState, formData: FormData): Promise<SignInState> {
  try {
    await signIn("credentials", {
      email: formData.get("email"),
      password: formData.get("password"),
      redirectTo: safeCallback(formData.get("callbackUrl")),
    });
    return {};
  } catch (err) {
    // signIn redirects by throwing; anything that is not an AuthError must propagate.
    if (err instanceof AuthError) {
      return { error: err.type === "CredentialsSignin" ? "Email or password is incorrect." : "Sign-in failed. Try again." };
    }
    throw err;
  }
}
