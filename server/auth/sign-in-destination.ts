import { count, eq, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { memberships, users } from "@/db/schema";

// Where the sign-in form sends a user once their password is accepted: back to the page they asked for when
// that is a safe path of ours, else to their home, the ops console for ops people without a merchant, the
// merchant dashboard for everyone else. (The form used to send everyone to /dashboard: ops landed on /no-access.)

export const MERCHANT_HOME = "/dashboard";
export const OPS_HOME = "/ops";

/**
 * `callbackUrl` as a same-origin path, or undefined. A path (`/x?y#z`) or an absolute URL on `appOrigin`;
 * never a protocol-relative (`//host`, `/\host`) or foreign URL (no open redirect), never the sign-in page
 * itself (a loop), nothing with control characters.
 */
export function safeCallbackPath(callbackUrl: string | null | undefined, appOrigin: string): string | undefined {
  if (!callbackUrl || callbackUrl.length > 2048 || /[\u0000-\u001f\u007f\\]/.test(callbackUrl)) return undefined;
  let url: URL;
  try {
    url = new URL(callbackUrl, appOrigin);
  } catch {
    return undefined;
  }
  if (url.origin !== new URL(appOrigin).origin) return undefined;
  // A relative value must be an absolute path: "dashboard" or "?x" would resolve against whatever page we are on.
  if (!callbackUrl.startsWith("/") && !/^https?:\/\//i.test(callbackUrl)) return undefined;
  if (callbackUrl.startsWith("//")) return undefined;
  // The result is the parsed path, which dot segments and duplicate slashes can turn protocol-relative
  // ("/..//evil.example" and "http://us//evil.example" both become "//evil.example"): check what is returned.
  if (url.pathname.startsWith("//")) return undefined;
  if (url.pathname === "/signin" || url.pathname.startsWith("/signin/") || url.pathname.startsWith("/api/")) return undefined;
  return `${url.pathname}${url.search}${url.hash}`;
}

/** The decision, given who signed in. */
export function signInDestination(o: { callbackUrl: string | null | undefined; appOrigin: string; isOps: boolean; membershipCount: number }): string {
  return safeCallbackPath(o.callbackUrl, o.appOrigin) ?? (o.isOps && o.membershipCount === 0 ? OPS_HOME : MERCHANT_HOME);
}

/** The decision for the user with this email (as typed in the form; matched as the credentials check does). */
export async function signInDestinationFor(db: DbOrTx, o: { email: string; callbackUrl: string | null | undefined; appOrigin: string }): Promise<string> {
  const email = o.email.trim().toLowerCase();
  const [user] = await db
    .select({ platformRole: users.platformRole, memberships: count(memberships.merchantId) })
    .from(users)
    .leftJoin(memberships, eq(memberships.userId, users.id))
    .where(eq(sql`lower(${users.email})`, email))
    .groupBy(users.id);
  return signInDestination({ callbackUrl: o.callbackUrl, appOrigin: o.appOrigin, isOps: user?.platformRole === "ops", membershipCount: user?.memberships ?? 0 });
}
