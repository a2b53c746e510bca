import { DrizzleAdapter } from "@auth/drizzle-adapter";
import { eq } from "drizzle-orm";
import NextAuth, { CredentialsSignin } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { z } from "zod";
import { getDb } from "@/db";
import { env } from "@/server/env.js";
import { accounts, sessions, users, verificationTokens } from "@/db/schema";
import { clientIpFromHeaders } from "@/server/http/client-ip";
import { consumeRateLimit } from "@/server/rate-limit/consume";
import { verifyAgainstDummy, verifyPassword } from "./password";

// Auth.js (next-auth v5). Users, accounts and roles live in Postgres (Drizzle adapter + our tables);
// credentials sign-in uses bcrypt hashes and works offline. Credentials require JWT sessions; the JWT
// only carries the user id — roles are read from Postgres per request (server/auth/access.ts).

export const SESSION_MAX_AGE_S = 8 * 60 * 60;
/** Password guesses per minute: per account (targeted guessing) and per client IP (spraying). */
export const SIGNIN_ATTEMPTS_PER_EMAIL = 10;
export const SIGNIN_ATTEMPTS_PER_IP = 50;

/** Refused before checking the password: the sign-in form shows "too many attempts". */
export class SignInRateLimited extends CredentialsSignin {
  code = "rate_limited";
}

async function assertSignInAllowed(email: string, request: Request | undefined): Promise<void> {
  const db = getDb();
  const ip = request ? clientIpFromHeaders(request.headers) : "unknown";
  const byEmail = await consumeRateLimit(db, `signin:${email}`, SIGNIN_ATTEMPTS_PER_EMAIL);
  const byIp = await consumeRateLimit(db, `signin-ip:${ip}`, SIGNIN_ATTEMPTS_PER_IP);
  if (!byEmail.allowed || !byIp.allowed) throw new SignInRateLimited();
}

const ZCredentials = z.object({ email: z.string().trim().toLowerCase().email(), password: z.string().min(1).max(200) });

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
      console.error(error);
    },
  },
  providers: [
    Credentials({
      credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
      async authorize(raw, request) {
        const parsed = ZCredentials.safeParse(raw);
        if (!parsed.success) return null;
        await assertSignInAllowed(parsed.data.email, request);
        const [user] = await getDb().select().from(users).where(eq(users.email, parsed.data.email));
        if (!user?.passwordHash) return verifyAgainstDummy(parsed.data.password).then(() => null);
        const ok = await verifyPassword(parsed.data.password, user.passwordHash);
        return ok ? { id: user.id, email: user.email, name: user.name } : null;
      },
    }),
  ],
  callbacks: {
    jwt({ token, user }) {
      if (user?.id) token.sub = user.id;
      return token;
    },
    session({ session, token }) {
      if (token.sub) session.user.id = token.sub;
      return session;
    },
  },
}));

/** The signed-in user's id, or null. The one way server code reads the session. */
export async function currentUserId(): Promise<string | null> {
  const session = await auth();
  return session?.user?.id ?? null;
}
