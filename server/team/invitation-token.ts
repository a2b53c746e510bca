import { createHash, randomBytes } from "node:crypto";

// Invitation links carry a random token; only its sha256 is stored (merchant_invitations.token_hash), so a copy
// of the database cannot be turned into working links. There is no email service: the admin who invites is
// shown the link once and passes it on (docs/dashboard.md, "Team").

/** 32 random bytes, base64url: 43 characters. */
export const INVITATION_TOKEN_BYTES = 32;
export const INVITATION_TTL_MS = 7 * 24 * 60 * 60_000;
/** The shape of a token we issue; anything else is unknown without a database read. */
export const INVITATION_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function newInvitationToken(): string {
  return randomBytes(INVITATION_TOKEN_BYTES).toString("base64url");
}

export function hashInvitationToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** The accept page's path for a token (the caller prefixes the app's origin). */
export function invitationPath(token: string): string {
  return `/invite/${token}`;
}
