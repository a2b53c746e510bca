import "server-only";
import { TRPCError } from "@trpc/server";
import { headers } from "next/headers";
import { redirect } from "next/navigation";

const DEFAULT_RETURN_TO = "/dashboard";

/** Same-site path only, so the sign-in round trip can never become an open redirect. */
export function safeReturnPath(value: string | null | undefined): string {
  return value && value.startsWith("/") && !value.startsWith("//") ? value : DEFAULT_RETURN_TO;
}

/**
 * Runs a server-side tRPC call for a page: no session -> the sign-in page (coming back to the requested
 * path after, which proxy.ts passes in x-pathname); a role or merchant the user lacks -> /no-access;
 * other errors propagate to the error boundary. Pages never check auth themselves: the procedures'
 * middleware decides.
 */
export async function forPage<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof TRPCError)) throw err;
    const returnTo = safeReturnPath((await headers()).get("x-pathname"));
    if (err.code === "UNAUTHORIZED") redirect(`/signin?callbackUrl=${encodeURIComponent(returnTo)}`);
    if (err.code === "FORBIDDEN" || err.code === "NOT_FOUND") redirect(`/no-access?from=${encodeURIComponent(returnTo)}`);
    throw err;
  }
}
