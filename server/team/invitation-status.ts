// What an invitation row can still do. Pending until accepted, revoked or past its expiry (a pending row past
// its expiry stays in the table, shown as expired, until it is resent or revoked).

export type InvitationStatus = "pending" | "expired" | "revoked" | "accepted";

export function invitationStatus(row: { acceptedAt: Date | null; revokedAt: Date | null; expiresAt: Date }, now: Date = new Date()): InvitationStatus {
  if (row.acceptedAt) return "accepted";
  if (row.revokedAt) return "revoked";
  return row.expiresAt.getTime() <= now.getTime() ? "expired" : "pending";
}

/** What the accept page tells a visitor whose link no longer works. */
export const UNUSABLE_INVITATION_MESSAGE: Record<Exclude<InvitationStatus, "pending">, string> = {
  expired: "This invitation has expired. Ask an admin of the team to send you a new one.",
  revoked: "This invitation was withdrawn. Ask an admin of the team if you still need access.",
  accepted: "This invitation has already been used. Sign in to reach the team.",
};
