import { encode } from "next-auth/jwt";
import { SESSION_MAX_AGE_S } from "./session";

// For tests that call the route handlers with real Requests: an AUTH_SECRET to set before server/env.js is
// first imported, and session cookies minted the way Auth.js mints them (so tests can date them).

export const TEST_AUTH_SECRET = "test-only-auth-secret-0123456789abcdef";
/** Auth.js's session cookie over http; over https it has the __Secure- prefix. The name is also the JWT's salt. */
export const SESSION_COOKIE = "authjs.session-token";
export const SECURE_SESSION_COOKIE = `__Secure-${SESSION_COOKIE}`;

export interface MintedSession {
  userId: string;
  /** Omit to mint a token without the claim (as issued before it existed). */
  signedInAtMs?: number;
  epoch?: number;
}

/** A `cookie` header value carrying a session token for the user. */
export async function sessionCookie(session: MintedSession, opts: { secret?: string; https?: boolean } = {}): Promise<string> {
  const name = opts.https ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
  const token = await encode({
    token: { sub: session.userId, signedInAt: session.signedInAtMs, sessionEpoch: session.epoch },
    secret: opts.secret ?? TEST_AUTH_SECRET,
    salt: name,
    maxAge: SESSION_MAX_AGE_S,
  });
  return `${name}=${token}`;
}
