import "server-only";
import { TRPCError } from "@trpc/server";
import { redirect } from "next/navigation";

/**
 * Runs a server-side tRPC call for a page: no session -> the sign-in page (coming back here after);
 * a role or merchant the user lacks -> /no-access; other errors propagate to the error boundary.
 * Pages never check auth themselves: the procedures' middleware decides.
 */
export async function forPage<T>(returnTo: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof TRPCError && err.code === "UNAUTHORIZED") {
      redirect(`/signin?callbackUrl=${encodeURIComponent(returnTo)}`);
    }
    if (err instanceof TRPCError && (err.code === "FORBIDDEN" || err.code === "NOT_FOUND")) {
      redirect(`/no-access?from=${encodeURIComponent(returnTo)}`);
    }
    throw err;
  }
}
