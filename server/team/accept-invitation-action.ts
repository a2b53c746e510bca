"use server";

// The accept page's server action (components/invite/accept-invitation-form.tsx). Next.js checks a server
// action's Origin, so a foreign page cannot post it. On success the new member is signed in with the password
// they just gave and sent to the dashboard; if that sign-in is refused (the sign-in throttle), to /signin with a
// message.
import { AuthError } from "next-auth";
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { z } from "zod";
import { getDb } from "@/db";
import { signIn } from "@/server/auth/config";
import { AppError } from "@/server/errors";
import { clientIpFromHeaders } from "@/server/http/client-ip";
import { acceptInvitation, type AcceptInput } from "./accept-invitation";
import { ZAcceptAsExistingUserSchema, ZAcceptAsNewUserSchema } from "./team.schema";

export interface AcceptInvitationState {
  error?: string;
  fieldErrors?: Record<string, string[] | undefined>;
}

function parseInput(formData: FormData): { input: AcceptInput } | { state: AcceptInvitationState } {
  const kind = formData.get("kind");
  const raw = { name: String(formData.get("name") ?? ""), password: String(formData.get("password") ?? "") };
  const parsed = kind === "existing_user" ? ZAcceptAsExistingUserSchema.safeParse(raw) : ZAcceptAsNewUserSchema.safeParse(raw);
  if (!parsed.success) {
    const flat = z.flattenError(parsed.error);
    return { state: { fieldErrors: flat.fieldErrors as Record<string, string[] | undefined>, error: flat.formErrors[0] } };
  }
  if (kind === "new_user" && formData.get("confirm") !== raw.password) return { state: { fieldErrors: { confirm: ["The passwords do not match"] } } };
  return { input: kind === "existing_user" ? { kind: "existing_user", password: raw.password } : { kind: "new_user", name: raw.name.trim(), password: raw.password } };
}

export async function acceptInvitationAction(_prev: AcceptInvitationState, formData: FormData): Promise<AcceptInvitationState> {
  const parsed = parseInput(formData);
  if ("state" in parsed) return parsed.state;
  const clientIp = clientIpFromHeaders(await headers());
  let email: string;
  try {
    ({ email } = await acceptInvitation(getDb(), { token: String(formData.get("token") ?? ""), clientIp, input: parsed.input }));
  } catch (err) {
    if (err instanceof AppError && err.code !== "internal") return { error: err.userMessage };
    throw err;
  }
  try {
    await signIn("credentials", { email, password: parsed.input.password, redirect: false });
  } catch (err) {
    if (err instanceof AuthError) redirect("/signin?invited=1");
    throw err;
  }
  redirect("/dashboard");
}
