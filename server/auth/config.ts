import { DrizzleAdapter } from "@auth/drizzle-adapter";
import { eq } from "drizzle-orm";
import NextAuth, { CredentialsSignin, type Session } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { z } from "zod";
import { getDb } from "@/db";
import { env } from "@/server/env.js";
import { accounts, sessions, users, verificationTokens } from "@/db/schema";
import { clientIpFromHeaders } from "@/server/http/client-ip";
import { log } from "@/server/observability/log";
import { sessionStillValid } from "./access";
import { verifyAgainstDummy, verifyPassword } from "./password";
import { SESSION_MAX_AGE_S, validSessionClaims, type SessionUser } from "./session";
import { admitSignInAttempt, recordSignInSuccess, type SignInAttempt } from "./sign-in-throttle";

// Auth.js (next-auth v5). Users, accounts and roles live in Postgres (Drizzle adapter + our tables);
// credentials sign-in uses bcrypt hashes and works offline. Credentials require JWT sessions; the JWT carries
// the user id, when they signed in and their session epoch (server/auth/session.ts) — roles are read from
// Postgres per request, and the epoch compared there (server/auth/access.ts).

declare module "next-auth" {
  interface User {
    sessionEpoch?: number;
  }
  interface Session {
    signedInAt?: number;
    sessionEpoch?: number;
  }
}

/** Refused before checking the password: the sign-in form says how long to wait. */
export class SignInRateLimited extends CredentialsSignin {
  code = "rate_limited";
  constructor(readonly retryAfterS: number) {
    super();
  }
}

const ZCredentials = z.object({ email: z.string().trim().toLowerCase().email(), password: z.string().min(1).max(200) });

async function authorizeCredentials(raw: unknown, request: Request | undefined) {
  const parsed = ZCredentials.safeParse(raw);
  if (!parsed.success) return null;
  const db = getDb();
  const attempt: SignInAttempt = { email: parsed.data.email, clientIp: request ? clientIpFromHeaders(request.headers) : "unknown" };
  const admission = await admitSignInAttempt(db, attempt);
  if (!admission.allowed) throw new SignInRateLimited(admission.retryAfterS);
  const [user] = await db.select().from(users).where(eq(users.email, parsed.data.email));
  if (!user?.passwordHash) return verifyAgainstDummy(parsed.data.password).then(() => null);
  if (!(await verifyPassword(parsed.data.password, user.passwordHash))) return null;
  await recordSignInSuccess(db, attempt);
  return { id: user.id, email: user.email, name: user.name, sessionEpoch: user.sessionEpoch };
}

export const { handlers, auth, signIn, signOut } = NextAuth(() => ({
  adapter: DrizzleAdapter(getDb(), { usersTable: users, accountsTable: accounts, sessionsTable: sessions, verificationTokensTable: verificationTokens }),
  secret: env.AUTH_SECRET,
  session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_S },
  // Self-hosted behind the operator's proxy: the Host header is trusted (AUTH_URL pins it if set).
  trustHost: true,
  pages: { signIn: "/signin" },
  // A wrong password is an expected outcome, not a server error: keep it out of the error log.
  logger: {
    error(error: Error) {
      if ((error as { type?: string }).type === "CredentialsSignin") return;
      log.error({ err: error }, "auth error");
    },
  },
  providers: [
    Credentials({
      credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
      authorize: authorizeCredentials,
    }),
  ],
  callbacks: {
    async jwt({ token, user }) {
      if (user?.id) return { ...token, sub: user.id, signedInAt: Date.now(), sessionEpoch: user.sessionEpoch };
      // On every read (server code's sessionFromHeaders and /api/auth/session alike): a token past its absolute
      // lifetime, without the claims, or issued under an older session epoch (sign out everywhere, a password,
      // role or membership change) ends here, and Auth.js clears its cookie instead of sliding it.
      const claims = validSessionClaims(token);
      if (!claims || !token.sub) return null;
      return (await sessionStillValid(getDb(), token.sub, claims)) ? token : null;
    },
    session({ session, token }) {
      if (token.sub) session.user.id = token.sub;
      const claims = validSessionClaims(token);
      session.signedInAt = claims?.signedInAtMs;
      session.sessionEpoch = claims?.epoch;
      return session;
    },
  },
}));

/** auth()'s API-route form: it reads the session cookie from the headers it is given, not from next/headers. */
type AuthFromHeaders = (req: { headers: Headers }, res: { headers: Headers }) => Promise<Session | null>;

/**
 * The signed-in user of the request whose headers these are, with their session claims, or null. The one way
 * server code reads the session: the tRPC HTTP handler passes the request's headers, the RSC caller
 * next/headers' (what auth() reads). Auth.js decodes the cookie and runs the callbacks above; the refreshed
 * cookie it would set is dropped, as auth() in a server component drops it.
 */
export async function sessionFromHeaders(headers: Headers): Promise<SessionUser | null> {
  const session = await (auth as unknown as AuthFromHeaders)({ headers }, { headers: new Headers() });
  const userId = session?.user?.id;
  const { signedInAt, sessionEpoch } = session ?? {};
  if (!userId || signedInAt === undefined || sessionEpoch === undefined) return null;
  return { userId, signedInAtMs: signedInAt, epoch: sessionEpoch };
}
