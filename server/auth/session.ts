// How long a session lives and what its token must carry. The cookie lasts SESSION_MAX_AGE_S (Auth.js slides
// it when /api/auth/session refreshes it), but no session outlives SESSION_ABSOLUTE_MAX_AGE_MS from sign-in,
// refreshed or not. The token records when the user signed in and the user's session epoch at that moment;
// bumping users.session_epoch (sign out everywhere, a password or role change) refuses every token issued before.

export const SESSION_MAX_AGE_S = 8 * 60 * 60;
export const SESSION_ABSOLUTE_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;

/** What the tRPC context knows of the session beyond the user id. */
export interface SessionClaims {
  /** When the user signed in (ms since the epoch): the start of the absolute lifetime. */
  signedInAtMs: number;
  /** users.session_epoch when the token was issued. */
  epoch: number;
}

export interface SessionUser extends SessionClaims {
  userId: string;
}

export function isWithinAbsoluteLifetime(signedInAtMs: number, nowMs = Date.now()): boolean {
  return nowMs - signedInAtMs < SESSION_ABSOLUTE_MAX_AGE_MS;
}

/**
 * The claims of a decoded session token, or null when they are missing (a token issued before they existed)
 * or the absolute lifetime is over. Auth.js's jwt callback applies it on every read.
 */
export function validSessionClaims(token: Record<string, unknown>, nowMs = Date.now()): SessionClaims | null {
  const { signedInAt, sessionEpoch } = token;
  if (typeof signedInAt !== "number" || typeof sessionEpoch !== "number") return null;
  if (!isWithinAbsoluteLifetime(signedInAt, nowMs)) return null;
  return { signedInAtMs: signedInAt, epoch: sessionEpoch };
}
